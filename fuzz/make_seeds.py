#!/usr/bin/python3
"""Writes the seed corpora under fuzz/corpus/ (run from anywhere; needs python3-pil).

Seeds are small on purpose: libFuzzer mutates small inputs far faster, and every structure a
parser knows (each JPEG mode, PNG colour type, safetensors dtype, reply type) appears once.
Images are drawn here or cut from tests/data (licences: tests/data/LICENSES.md).
"""
import io
import json
import os
import struct
import zlib

from PIL import Image

ROOT = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(ROOT, "..", "tests", "data")


def out(target, name, data):
    d = os.path.join(ROOT, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def picture(w, h, mode="RGB"):
    src = Image.open(os.path.join(DATA, "astronaut.png")).convert("RGB")
    return src.resize((w, h), Image.BILINEAR).convert(mode)


def jpeg(img, **kw):
    b = io.BytesIO()
    img.save(b, "JPEG", **kw)
    return b.getvalue()


def png(img, **kw):
    b = io.BytesIO()
    img.save(b, "PNG", **kw)
    return b.getvalue()


jpegs = {
    "baseline444.jpg": jpeg(picture(16, 16), quality=90, subsampling=0),
    "baseline420.jpg": jpeg(picture(24, 16), quality=75, subsampling=2),
    "baseline422.jpg": jpeg(picture(17, 9), quality=60, subsampling=1),
    "optimized.jpg": jpeg(picture(16, 16), quality=80, optimize=True),
    "progressive.jpg": jpeg(picture(32, 16), quality=80, progressive=True),
    "gray.jpg": jpeg(picture(16, 8, "L"), quality=85),
    "cmyk.jpg": jpeg(picture(8, 8, "CMYK"), quality=85),
    "restart.jpg": jpeg(picture(32, 32), quality=85, restart_marker_blocks=1),
}
pngs = {
    "rgb.png": png(picture(8, 8)),
    "rgba.png": png(picture(8, 8, "RGBA")),
    "gray.png": png(picture(8, 4, "L")),
    "gray_alpha.png": png(picture(4, 4, "LA")),
    "palette.png": png(picture(8, 8, "P")),
    "odd.png": png(picture(9, 7)),
    "bits1.png": png(picture(8, 8, "1")),
}
for name in ("foo3x5x4indexed.png", "palette_color.png", "chessboard_GRAY.png", "truncated.jpg"):
    with open(os.path.join(DATA, name), "rb") as f:
        pngs[name] = f.read()

for name, data in {**jpegs, **pngs}.items():
    out("image_decode", name, data)
for name, data in jpegs.items():
    out("jpeg_stb", name, data)
with open(os.path.join(DATA, "truncated.jpg"), "rb") as f:
    out("jpeg_stb", "truncated.jpg", f.read())

# jpeg_split: tall enough for two rows of MCUs on each side of a split (4 x 8 or 4 x 16 rows).
split_jpegs = {
    "ycc420.jpg": jpeg(picture(40, 72), quality=75, subsampling=2),
    "ycc444.jpg": jpeg(picture(24, 40), quality=90, subsampling=0),
    "ycc422.jpg": jpeg(picture(33, 41), quality=60, subsampling=1),
    "gray.jpg": jpeg(picture(17, 48, "L"), quality=85),
    "restart.jpg": jpeg(picture(32, 64), quality=85, restart_marker_blocks=3),
    "optimized.jpg": jpeg(picture(48, 64), quality=80, optimize=True),
}
for name, data in split_jpegs.items():
    out("jpeg_split", name, data)

# png_roundtrip: width, height, channel selector, then pixel bytes.
out("png_roundtrip", "gradient", bytes([15, 7, 0]) + bytes(range(256)))
out("png_roundtrip", "rgba_noise", bytes([40, 3, 1]) + bytes((i * 97) % 251 for i in range(900)))
out("png_roundtrip", "flat", bytes([63, 63, 0, 128]))


def safetensors(header, data=b""):
    h = header.encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


out("safetensors", "f32", safetensors('{"t":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}',
                                       struct.pack("<2f", 1.0, -2.0)))
out("safetensors", "two_meta", safetensors(
    '{"__metadata__":{"format":"pt"},"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},'
    '"b":{"dtype":"U8","shape":[2,2],"data_offsets":[4,8]}}', bytes(8)))
out("safetensors", "bf16_4d", safetensors(
    '{"latents":{"dtype":"BF16","shape":[1,4,2,2],"data_offsets":[0,32]}}', bytes(32)))
out("safetensors", "empty", safetensors("{}"))


def npy(descr, shape, data, version=1):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    magic = b"\x93NUMPY" + bytes([version, 0])
    lenfmt = "<H" if version == 1 else "<I"
    pre = len(magic) + struct.calcsize(lenfmt)
    pad = (64 - (pre + len(header) + 1) % 64) % 64
    header = header + " " * pad + "\n"
    return magic + struct.pack(lenfmt, len(header)) + header.encode() + data


out("npy", "f4", npy("<f4", "(1, 4, 2, 2)", bytes(64)))
out("npy", "f2", npy("<f2", "(3,)", bytes(6)))
out("npy", "u1", npy("|u1", "(2, 3)", bytes(6)))
out("npy", "f8_v2", npy("<f8", "(2,)", struct.pack("<2d", 0.5, 2.0), version=2))
out("npy", "scalar_v3", npy("<f4", "()", bytes(4), version=3))


def reply(status_byte, headers, body, prefix=b""):
    head = "".join("%s: %s\n" % h for h in headers)
    return prefix + bytes([status_byte]) + head.encode() + b"\n" + body


def be16(v):
    return struct.pack(">H", v)


# decode_reply: type (0 image, 1 uint8, 2 float, 3 mp4 by enum order), batch, frames, h, w.
small_png = png(picture(16, 8))
small_jpeg = jpeg(picture(16, 8), quality=80)
out("decode_reply", "png", reply(0, [("Content-Type", "image/png")], small_png,
                                 bytes([0, 0, 0]) + be16(7) + be16(15)))
out("decode_reply", "jpeg", reply(0, [("Content-Type", "image/jpeg")], small_jpeg,
                                  bytes([0, 0, 0]) + be16(7) + be16(15)))
out("decode_reply", "error_json", reply(200, [("Content-Type", "application/json")],
                                        b'{"error": "CUDA out of memory"}',
                                        bytes([0, 0, 0]) + be16(7) + be16(15)) )
out("decode_reply", "error_html", reply(200, [("Content-Type", "text/html")],
                                        b"<html><title>502 Bad Gateway</title></html>",
                                        bytes([0, 0, 0]) + be16(7) + be16(15)))
for name, type_byte in (("uint8", 1), ("float", 2)):
    out("decode_reply", name, reply(0, [("shape", "[1, 8, 16, 3]" if type_byte == 1 else "[1, 3, 8, 16]"),
                                        ("dtype", "uint8" if type_byte == 1 else "float16")],
                                    bytes(384 if type_byte == 1 else 768),
                                    bytes([type_byte, 0, 0]) + be16(7) + be16(15)))
out("decode_reply", "mp4", reply(0, [("Content-Type", "video/mp4")],
                                 b"\x00\x00\x00\x18ftypisom" + bytes(16),
                                 bytes([3, 0, 1]) + be16(7) + be16(15)))

# encode_reply: batch, latent h, latent w, then the reply.
out("encode_reply", "f16", reply(0, [("shape", "[1, 4, 2, 3]"), ("dtype", "float16")], bytes(48),
                                 bytes([0]) + be16(1) + be16(2)))
out("encode_reply", "bf16_16ch", reply(0, [("shape", "[1, 16, 1, 1]"), ("dtype", "bfloat16")],
                                       bytes(32), bytes([0]) + be16(0) + be16(0)))
out("encode_reply", "error_429", reply(200, [("Retry-After", "3")], b"Too Many Requests",
                                       bytes([0]) + be16(1) + be16(1)) )

out("presets", "merge_all", """{"flux": {"shift_factor": null, "packed_latents": false},
 "mine": {"model_id": "me/my-vae", "decode_endpoint": "https://d.example/",
 "encode_endpoint": "https://e.example/", "latent_channels": 32, "scaling_factor": -1.5,
 "shift_factor": 0.25, "dtype": "float32", "spatial_compression": 16,
 "temporal_compression": 8, "packed_latents": true}}""")
out("presets", "endpoint", '{"sdxl": {"decode_endpoint": "http://127.0.0.1:8080/"}}')
out("presets", "bad", '{"x": {"latent_channels": -1, "dtype": "int8"}}')

# open_inference_reply: selector (0 mod 4: model metadata; else an inference reply), then for a
# reply the expected dtype (enum order: FP32, FP16, BF16, UINT8), rank - 1, one byte per
# dimension (1 + b % 8; 0xFF for -1), then the reply.
# -- open_inference_reply seeds begin
def oip_binary(outputs):
    header = '{"model_name":"vae","model_version":"1","outputs":[' + ",".join(
        '{"name":"%s","datatype":"%s","shape":%s,"parameters":{"binary_data_size":%d}}'
        % (name, dt, str(shape).replace(" ", ""), len(data)) for name, dt, shape, data in outputs) + "]}"
    body = header.encode() + b"".join(data for _, _, _, data in outputs)
    return [("Content-Type", "application/octet-stream"),
            ("Inference-Header-Content-Length", str(len(header)))], body


out("open_inference_reply", "metadata", reply(0, [("Content-Type", "application/json")],
    b'{"name":"sdxl_decoder","versions":["1"],"platform":"onnxruntime_onnx",'
    b'"inputs":[{"name":"latent_sample","datatype":"FP16","shape":[-1,4,-1,-1]}],'
    b'"outputs":[{"name":"sample","datatype":"FP32","shape":[-1,3,-1,-1]}]}', bytes([0])))
headers, body = oip_binary([("sample", "FP32", [1, 3, 2, 2], struct.pack("<12f", *range(12)))])
out("open_inference_reply", "binary_fp32", reply(0, headers, body, bytes([1, 0, 3, 0, 2, 1, 1])))
headers, body = oip_binary([("mean", "FP32", [1, 2], bytes(8)),
                            ("sample", "FP16", [1, 3, 1, 2, 2], bytes(24))])
out("open_inference_reply", "binary_two_fp16", reply(0, headers, body,
                                                      bytes([1, 1, 4, 0, 2, 0, 1, 0xFF])))
out("open_inference_reply", "json_uint8_nested", reply(0, [("Content-Type", "application/json")],
    b'{"model_name":"vae","outputs":[{"name":"sample","datatype":"UINT8","shape":[1,2,2,3],'
    b'"data":[[[[0,1,2],[3,4,5]],[[250,251,252],[253,254,255]]]]}]}',
    bytes([1, 3, 3, 0, 1, 1, 2])))
out("open_inference_reply", "json_bf16_flat", reply(0, [("Content-Type", "application/json")],
    b'{"model_name":"vae","outputs":[{"name":"sample","datatype":"BF16","shape":[1,4],'
    b'"parameters":{"content_type":"np"},"data":[0.5,-1,1e-3,3.0e38]}]}',
    bytes([1, 2, 1, 0, 3])))
# Status 100 + 300 = 400: the status byte (>= 160), then its two bytes, then the reply.
out("open_inference_reply", "error_400", bytes([1, 0, 0, 0, 200]) + be16(300) +
    b"Content-Type: application/json\n\n"
    b'{"error":"inference input \'latent_sample\' data-type is \'FP32\', but model '
    b'\'vae\' expects \'FP16\'"}')
# Selector 3: a planned decode (shape byte, h, w, output byte: datatype, output type, PNG bit)
# whose reply is FP32 [1, 3, 8, 8] pixels, to uint8 images and to a PNG.
headers, body = oip_binary([("sample", "FP32", [1, 3, 8, 8],
                             struct.pack("<192f", *[(i % 17) / 8.0 - 1 for i in range(192)]))])
out("open_inference_reply", "planned_uint8", reply(0, headers, body, bytes([3, 0, 0, 0, 4])))
out("open_inference_reply", "planned_png", reply(0, headers, body, bytes([3, 0, 0, 0, 8 | 0x40])))
# -- open_inference_reply seeds end

# reference_request: model selector (bit 7: encode), target line, content-type line, body.
lat = bytes(4 * 2 * 2 * 2)
out("reference_request", "decode_png", bytes([0]) +
    b"/decode?image_format=png&output_type=pil&partial_postprocess=False&shape=1,4,2,2"
    b"&dtype=float16&scaling_factor=0.18215\ntensor/binary\n" + lat)
out("reference_request", "decode_uint8", bytes([1]) +
    b"/?output_type=pt&partial_postprocess=True&shape=1,4,2,2&dtype=float16"
    b"&do_scaling=true&height=16&width=16\ntensor/binary\n" + lat)
out("reference_request", "encode_png", bytes([0x80]) + b"/?scaling_factor=0.13025\n\n" + png(picture(16, 16)))
out("reference_request", "encode_tensor", bytes([0x82]) +
    b"/?shape=1,3,8,8&dtype=float32&shift_factor=0.1159\ntensor/binary\n" + bytes(3 * 64 * 4))
out("reference_request", "lists", bytes([3]) + b"/?shape=1&shape=2&a=%41%zz&b=TRUE&c=+x+\n\n")

# streamed_reply: selector (bit 0: Open Inference; (s >> 1) % 3: frames, chunks, buffer; bit 3:
# float output), frames - 1, h - 1, w - 1 (each mod 5, 8, 8), piece size - 1, budget / 16, then
# the reply. Five frames of 2x3 pixels.
def stream_prefix(selector):
    return bytes([selector, 4, 1, 2, 6, 1])


out("streamed_reply", "hf_frames", reply(0, [("shape", "[5, 2, 3, 3]"), ("dtype", "uint8")],
                                         bytes(range(90)), stream_prefix(0)))
out("streamed_reply", "hf_float_chunks", reply(0, [("shape", "[1, 3, 5, 2, 3]"),
                                                   ("dtype", "float16")],
                                               bytes(180), stream_prefix(2 | 8)))
out("streamed_reply", "hf_into", reply(0, [("shape", "[5, 2, 3, 3]"), ("dtype", "uint8")],
                                       bytes(90), stream_prefix(4)))
for name, selector, datatype, shape, size in (
        ("oip_frames", 1, "UINT8", [1, 5, 2, 3, 3], 90),
        ("oip_float_chunks", 1 | 2 | 8, "FP16", [1, 3, 5, 2, 3], 180)):
    header = json.dumps({"model_name": "vae", "outputs": [
        {"name": "other", "datatype": "UINT8", "shape": [2], "parameters": {"binary_data_size": 2}},
        {"name": "sample", "datatype": datatype, "shape": shape,
         "parameters": {"binary_data_size": size}}]}).encode()
    out("streamed_reply", name, reply(0, [("Inference-Header-Content-Length", str(len(header)))],
                                      header + bytes(2) + bytes(range(size)),
                                      stream_prefix(selector)))
