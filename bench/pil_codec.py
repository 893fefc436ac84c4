#!/usr/bin/python3
"""The upstream Python client's codec cost, timed with PIL on the same bytes as rvae_bench.

diffusers' remote_decode opens the reply with PIL (libjpeg-turbo / zlib) and remote_encode saves
the image as PNG with PIL's defaults (zlib level 6). Prints one line per file: CPU ms and MP/s
and, for PNG encode, the bytes written. Usage: pil_codec.py decode FILE... | encode FILE...
"""
import io
import sys
import time

from PIL import Image


def best_seconds(fn, min_time=1.0):
    """Best CPU time of one call (process time, as rvae_bench's MP/s uses CPU time), so a loaded
    machine slows both sides alike."""
    fn()  # warm up
    runs, start, best = 0, time.perf_counter(), float("inf")
    while True:
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
        runs += 1
        if time.perf_counter() - start > min_time and runs >= 5:
            return best


def decode(path):
    data = open(path, "rb").read()

    def run():
        Image.open(io.BytesIO(data)).convert("RGB").load()

    img = Image.open(io.BytesIO(data))
    mp = img.width * img.height / 1e6
    s = best_seconds(run)
    print("PIL decode %-28s %5dx%-5d %8.2f ms %8.1f MP/s" % (path.split("/")[-1], img.width, img.height, s * 1e3, mp / s))


def encode(path):
    img = Image.open(path).convert("RGB")
    img.load()
    out = {}

    def run():
        b = io.BytesIO()
        img.save(b, format="PNG")  # compress_level 6, as the upstream client leaves it
        out["size"] = b.tell()

    mp = img.width * img.height / 1e6
    s = best_seconds(run)
    print("PIL PNG encode %-24s %5dx%-5d %8.2f ms %8.1f MP/s %8.1f KiB" % (path.split("/")[-1], img.width, img.height, s * 1e3, mp / s, out["size"] / 1024))


if __name__ == "__main__":
    mode, files = sys.argv[1], sys.argv[2:]
    for f in files:
        (decode if mode == "decode" else encode)(f)
