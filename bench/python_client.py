#!/usr/bin/python3
"""A stand-in for the upstream Python client (diffusers' remote_encode / remote_decode) against
the same server as rvae, so the two are timed on equal terms:
  encode: PIL PNG encode (compress_level 6, PIL's default), one POST with the model's factor,
          the tensor reply read whole;
  decode: one POST of the latents, the image reply opened and converted to RGB with PIL
          (decode-png: the same with image_format=png; decode-uint8: output_type=pt with
          partial_postprocess=True, the reply's bytes copied into a [1, H, W, 3] buffer as
          torch.frombuffer(bytearray(...)).reshape(...) does upstream).
Prints the best of N calls: prepare (PNG encode; 0 for decode), request (upload, server,
download), decode (PIL open; 0 for encode), total, in ms.
Usage: python_client.py encode|decode|decode-png|decode-uint8 URL FILE [N]
"""
import http.client
import io
import sys
import time
import urllib.parse

from PIL import Image


def main():
    mode, url, path = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    if mode == "encode":
        image = Image.open(path).convert("RGB")
        image.load()
    else:
        latents = open(path, "rb").read()
    best = None
    for _ in range(n):
        t0 = time.perf_counter()
        if mode == "encode":
            buf = io.BytesIO()
            image.save(buf, format="PNG")
            body, query = buf.getvalue(), "?scaling_factor=0.18215"
        else:
            body = latents
            image_format = "png" if mode == "decode-png" else "jpeg"
            output_type = "pt" if mode == "decode-uint8" else "pil"
            query = ("?image_format=%s&output_type=%s&partial_postprocess=True"
                     "&shape=1,4,128,128&dtype=float16&scaling_factor=0.13025"
                     % (image_format, output_type))
        t1 = time.perf_counter()
        conn.request("POST", parts.path + query, body=body, headers={"Accept": "*/*"})
        reply = conn.getresponse()
        data = reply.read()
        t2 = time.perf_counter()
        assert reply.status == 200, (reply.status, data[:200])
        if mode == "decode-uint8":
            shape = [int(x) for x in reply.getheader("shape").strip("[]").split(",")]
            pixels = memoryview(bytearray(data)).cast("B", shape)
            assert pixels.nbytes == len(data)
        elif mode.startswith("decode"):
            Image.open(io.BytesIO(data)).convert("RGB").load()
        t3 = time.perf_counter()
        row = ((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, (t3 - t0) * 1e3, len(body))
        if best is None or row[3] < best[3]:
            best = row
    print("python %s %s: prepare %.2f ms, request %.2f ms, decode %.2f ms, total %.2f ms, "
          "sent %.1f KiB" % (mode, path.split("/")[-1], best[0], best[1], best[2], best[3],
                             best[4] / 1024))


if __name__ == "__main__":
    main()
