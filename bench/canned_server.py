#!/usr/bin/python3
"""A canned endpoint for client benchmarks: every POST to .../encode gets the same latent tensor
reply, every POST to .../decode the same image, after the request body is read whole. Both
clients measured against it pay the same (small) server cost, so their difference is their own.
Usage: canned_server.py PORT_FILE ENCODE_SHAPE DECODE_REPLY_FILE [PNG_REPLY_FILE]
  ENCODE_SHAPE like 1,4,64,64 (float16 zeros); prints the URL into PORT_FILE once listening.
  A decode asking image_format=png gets PNG_REPLY_FILE; one asking output_type=pt with
  partial_postprocess=True gets uint8 RGB pixels [1, H, W, 3] of the decode reply's size; one
  asking output_type=pt with partial_postprocess=False gets float16 pixels [1, 3, H, W].
Open Inference Protocol (PROTOCOL.md §8): GET /v2/models/vae_decoder gives the metadata of an
  SDXL decoder (FP16 latents in, FP16 pixels out); POST /v2/models/vae_decoder/infer gets the same
  float16 pixels [1, 3, H, W] as binary data after its JSON header: the same bytes' worth as the
  float reply above, so the two protocols are timed on equal replies.
"""
import json
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body go out in two writes; with Nagle's algorithm the body's last
    # segment waits for the client's delayed ACK (~40 ms on about half the calls), which would
    # time this server, not the clients.
    disable_nagle_algorithm = True

    def do_GET(self):
        if self.path.rstrip("/") != "/v2/models/vae_decoder":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({
            "name": "vae_decoder", "versions": ["1"], "platform": "canned",
            "inputs": [{"name": "latent_sample", "datatype": "FP16", "shape": [-1, 4, -1, -1]}],
            "outputs": [{"name": "sample", "datatype": "FP16", "shape": [-1, 3, -1, -1]}],
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
        if self.path.endswith("/infer"):
            # Two writes, as the HF float reply is one: no 6 MB concatenation per request.
            self.send_response(200)
            self.send_header("Inference-Header-Content-Length", str(len(OIP_HEADER)))
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(OIP_HEADER) + len(FLOAT_REPLY)))
            self.end_headers()
            self.wfile.write(OIP_HEADER)
            self.wfile.write(FLOAT_REPLY)
            return
        elif (
            "/decode" in self.path
            and "output_type=pt" in self.path
            and "partial_postprocess=False" in self.path
        ):
            body = FLOAT_REPLY
            headers = [("shape", "[1, 3, %d, %d]" % (UINT8_SIDE, UINT8_SIDE)),
                       ("dtype", "float16"), ("Content-Type", "tensor/binary")]
        elif "/decode" in self.path and "output_type=pt" in self.path:
            body = UINT8_REPLY
            headers = [("shape", "[1, %d, %d, 3]" % (UINT8_SIDE, UINT8_SIDE)), ("dtype", "uint8"),
                       ("Content-Type", "tensor/binary")]
        elif "/decode" in self.path and "image_format=png" in self.path and PNG_REPLY:
            body, headers = PNG_REPLY, [("Content-Type", "image/png")]
        elif "/decode" in self.path:
            body, headers = DECODE_REPLY, [("Content-Type", DECODE_TYPE)]
        else:
            body = ENCODE_REPLY
            headers = [("shape", "[%s]" % ", ".join(map(str, ENCODE_SHAPE))), ("dtype", "float16"),
                       ("Content-Type", "tensor/binary")]
        self.send_response(200)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port_file, shape, decode_file = sys.argv[1], sys.argv[2], sys.argv[3]
    ENCODE_SHAPE = [int(x) for x in shape.split(",")]
    n = 1
    for d in ENCODE_SHAPE:
        n *= d
    ENCODE_REPLY = bytes(2 * n)
    DECODE_REPLY = open(decode_file, "rb").read()
    DECODE_TYPE = "image/png" if DECODE_REPLY[:4] == b"\x89PNG" else "image/jpeg"
    PNG_REPLY = open(sys.argv[4], "rb").read() if len(sys.argv) > 4 else None
    # The latents the benchmark sends are [1, 4, 128, 128]: 1024² pixels.
    UINT8_SIDE = 1024
    UINT8_REPLY = bytes(range(256)) * (UINT8_SIDE * UINT8_SIDE * 3 // 256)
    # float16 values in [-1, 1] (bits 0x0000..0x3bff, a sawtooth), 2 bytes per element.
    FLOAT_REPLY = b"".join(((i * 37) % 0x3C00).to_bytes(2, "little") for i in range(65536)) * (
        UINT8_SIDE * UINT8_SIDE * 3 // 65536)
    OIP_HEADER = json.dumps({
        "model_name": "vae_decoder", "model_version": "1",
        "outputs": [{"name": "sample", "datatype": "FP16",
                     "shape": [1, 3, UINT8_SIDE, UINT8_SIDE],
                     "parameters": {"binary_data_size": len(FLOAT_REPLY)}}],
    }).encode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file, "w") as f:
        f.write("http://127.0.0.1:%d/\n" % server.server_address[1])
    server.serve_forever()
