#!/usr/bin/env python3
"""Writes smooth HunyuanVideo-shaped latents as float16 .npy (issue 21's benchmark input).

  make_video_latents.py OUT.npy [B,C,T,h,w]   (default 1,16,33,90,160: 129 frames at 1280x720)

Standard library only: values vary smoothly over space, time and channel, in [-2, 2].
"""
import math
import struct
import sys


def main():
    path = sys.argv[1]
    shape = [int(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "1,16,33,90,160").split(",")]
    b, c, t, h, w = shape
    header = "{'descr': '<f2', 'fortran_order': False, 'shape': (%s), }" % ", ".join(map(str, shape))
    header += " " * (64 - (10 + len(header) + 1) % 64) + "\n"
    with open(path, "wb") as out:
        out.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        xs = [math.sin(x * 0.07) for x in range(w)]
        for _ in range(b):
            for ci in range(c):
                for ti in range(t):
                    phase = ci * 0.4 + ti * 0.15
                    plane = [2.0 * math.cos(y * 0.05 + phase) * xs[x] for y in range(h) for x in range(w)]
                    out.write(struct.pack("<%de" % len(plane), *plane))


if __name__ == "__main__":
    main()
