#!/usr/bin/python3
"""A plain Python client of the Open Inference Protocol doing what tritonclient.http does for one
binary input and one binary output: the JSON header and the input's bytes in one POST (with
Inference-Header-Content-Length), the reply's JSON header parsed, the output found by name, its
bytes taken with numpy.frombuffer and reshaped. One requests.Session (a kept-open connection, as
tritonclient keeps its pool). The input: SDXL latents [1, 4, 128, 128] float16, unscaled
client-side like rvae does (numpy), so both clients do the same work.
Prints one JSON line like rvae_bench_protocols: wall_ms_median, wall_ms_best over N calls.
Usage: python_oip_client.py MODEL_URL [N]
"""
import json
import sys
import time

import numpy
import requests


def infer(session, url, latents):
    raw = (latents.astype(numpy.float32) / 0.13025).astype(numpy.float16)
    header = json.dumps({
        "inputs": [{"name": "latent_sample", "shape": list(raw.shape), "datatype": "FP16",
                    "parameters": {"binary_data_size": raw.nbytes}}],
        "outputs": [{"name": "sample", "parameters": {"binary_data": True}}],
    }).encode()
    reply = session.post(url + "/infer", data=header + raw.tobytes(), headers={
        "Inference-Header-Content-Length": str(len(header)),
        "Content-Type": "application/octet-stream"})
    if reply.status_code != 200:
        raise RuntimeError("HTTP %d: %s" % (reply.status_code, reply.text[:200]))
    length = int(reply.headers["Inference-Header-Content-Length"])
    body = reply.content
    meta = json.loads(body[:length])
    offset = length
    for output in meta["outputs"]:
        size = output["parameters"]["binary_data_size"]
        if output["name"] == "sample":
            return numpy.frombuffer(body, dtype=numpy.float16, count=size // 2,
                                    offset=offset).reshape(output["shape"])
        offset += size
    raise RuntimeError("no output 'sample'")


def main():
    url = sys.argv[1].rstrip("/")
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    values = ((numpy.arange(4 * 128 * 128) * 7919) % 2000) / 1000.0 - 1.0
    latents = values.astype(numpy.float16).reshape(1, 4, 128, 128)
    session = requests.Session()
    for _ in range(3):
        infer(session, url, latents)
    walls = []
    for _ in range(calls):
        start = time.perf_counter()
        pixels = infer(session, url, latents)
        walls.append((time.perf_counter() - start) * 1000.0)
        assert pixels.shape == (1, 3, 1024, 1024)
    walls.sort()
    print(json.dumps({"protocol": "oip-python", "calls": calls,
                      "wall_ms_median": round(walls[len(walls) // 2], 3),
                      "wall_ms_best": round(walls[0], 3)}))


if __name__ == "__main__":
    main()
