#!/usr/bin/python3
"""Writes photo-like benchmark inputs into DIR: photo_1024/2048 as JPEG (PIL's default quality
75, 4:2:0, as PIL-based servers reply) and PNG, upscaled with Lanczos from
tests/data/hubble_deep_field.jpg with mild noise so they keep photographic detail (noise is
the costliest case for a JPEG decoder); clean_1024.jpg, the same upscale without the noise (closer
to what a VAE decodes: it has no sensor noise); and
latents_sdxl_128.safetensors ([1,4,128,128] float16 zeros, a 1024² SDXL decode request).
Usage: make_bench_data.py DIR
"""
import os
import struct
import sys

from PIL import Image, ImageChops

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
src = Image.open(os.path.join(root, "tests", "data", "hubble_deep_field.jpg")).convert("RGB")
for side in (1024, 2048):
    img = src.resize((side, side), Image.LANCZOS)
    noise = Image.effect_noise((side, side), 12).convert("RGB")
    img = ImageChops.add(img, noise, scale=1.0, offset=-64)
    img.save(os.path.join(out, "photo_%d.jpg" % side), "JPEG")
    img.save(os.path.join(out, "photo_%d.png" % side), "PNG", compress_level=1)
src.resize((1024, 1024), Image.LANCZOS).save(os.path.join(out, "clean_1024.jpg"), "JPEG")
header = b'{"latents":{"dtype":"F16","shape":[1,4,128,128],"data_offsets":[0,131072]}}'
header += b" " * ((8 - len(header) % 8) % 8)
with open(os.path.join(out, "latents_sdxl_128.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header + bytes(131072))
