#!/usr/bin/python3
"""A stand-in for the upstream Python client (diffusers' remote_encode / remote_decode) against
the same server as rvae, so the two are timed on equal terms. It takes the steps upstream takes:
  encode: PIL PNG encode (compress_level 6, PIL's default), one requests.post with the model's
          factor, the latent reply copied into a buffer (torch.frombuffer(bytearray(...)));
  decode: one requests.post of the latents, the image reply opened and converted to RGB with PIL
          (decode-png: the same with image_format=png; decode-uint8: output_type=pt with
          partial_postprocess=True, the reply's bytes copied into a [1, H, W, 3] buffer as
          torch.frombuffer(bytearray(...)).reshape(...) does upstream).
Like upstream, every call is a bare requests.post (a new session and connection per call).
--lean swaps requests for one http.client connection kept open: the cheapest Python transport,
a floor under what any Python client pays, not what the upstream one does.
torch is not used (not needed to time these steps): its frombuffer is the bytearray copy here.
Prints the best of N calls: prepare (PNG encode; 0 for decode), request (upload, server,
download), decode (PIL open; the reply copy for tensors), total, in ms.
Usage: python_client.py [--lean] encode|decode|decode-png|decode-uint8 URL FILE [N]
"""
import http.client
import io
import sys
import time
import urllib.parse

from PIL import Image


class Lean:
    """One kept-open http.client connection."""

    def __init__(self, url):
        self.parts = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(self.parts.hostname, self.parts.port)

    def post(self, query, body):
        self.conn.request("POST", self.parts.path + "?" + urllib.parse.urlencode(query),
                          body=body, headers={"Accept": "*/*"})
        reply = self.conn.getresponse()
        data = reply.read()
        return reply.status, reply.getheader("shape"), data


class Upstream:
    """requests.post per call, as diffusers' remote_utils sends."""

    def __init__(self, url):
        import requests  # Debian's python3-requests
        self.requests = requests
        self.url = url

    def post(self, query, body):
        reply = self.requests.post(self.url, params=query, data=body, headers={"Accept": "*/*"})
        return reply.status_code, reply.headers.get("shape"), reply.content


def main():
    args = sys.argv[1:]
    lean = args[0] == "--lean"
    if lean:
        args = args[1:]
    mode, url, path = args[0], args[1], args[2]
    n = int(args[3]) if len(args) > 3 else 10
    client = Lean(url) if lean else Upstream(url)
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
            body, query = buf.getvalue(), {"scaling_factor": 0.18215}
        else:
            body = latents
            query = {"image_format": "png" if mode == "decode-png" else "jpg",
                     "output_type": "pt" if mode == "decode-uint8" else "pil",
                     "partial_postprocess": "True", "shape": "1,4,128,128",
                     "dtype": "float16", "scaling_factor": 0.13025}
        t1 = time.perf_counter()
        status, shape_header, data = client.post(query, body)
        t2 = time.perf_counter()
        assert status == 200, (status, data[:200])
        if mode == "encode" or mode == "decode-uint8":
            shape = [int(x) for x in shape_header.strip("[]").split(",")]
            tensor = memoryview(bytearray(data))
            if mode == "decode-uint8":
                tensor = tensor.cast("B", shape)
            assert tensor.nbytes == len(data)
        else:
            Image.open(io.BytesIO(data)).convert("RGB").load()
        t3 = time.perf_counter()
        row = ((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, (t3 - t0) * 1e3, len(body))
        if best is None or row[3] < best[3]:
            best = row
    print("python%s %s %s: prepare %.2f ms, request %.2f ms, decode %.2f ms, total %.2f ms, "
          "sent %.1f KiB" % (" (lean)" if lean else "", mode, path.split("/")[-1], best[0],
                             best[1], best[2], best[3], best[4] / 1024))


if __name__ == "__main__":
    main()
