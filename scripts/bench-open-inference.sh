#!/usr/bin/env bash
# Issue 20's measurements (BENCHMARKS.md, "The Open Inference Protocol"): an SDXL 1024² decode
# returning float pixels, against bench/canned_server.py (the same float16 pixels on both
# protocols, so the server's part is equal):
#  1. rvae over the Open Inference Protocol vs rvae over the Hugging Face protocol: wall and
#     process CPU per call (rvae_bench_protocols, the two alternating call by call), RUNS runs
#     of CALLS calls each, with the latents as an SDXL pipeline has them (de-normalised by rvae
#     on the Open Inference side) and raw (nothing to de-normalise on either);
#  2. rvae over the Open Inference Protocol vs a plain Python client doing what tritonclient does
#     (bench/python_oip_client.py), interleaved the same way.
# Medians over the runs are printed last.
#   scripts/bench-open-inference.sh [BUILD_DIR] (default build/bench, configured Release here)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh python3-requests python3-numpy

build_dir="${1:-build/bench}"
runs="${RUNS:-5}"
calls="${CALLS:-30}"
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DRVAE_BUILD_BENCHMARKS=ON \
    -DRVAE_BUILD_TESTS=OFF >/dev/null
fi
if [ -z "${RVAE_BENCH_NO_BUILD:-}" ]; then
  cmake --build "$build_dir" -j2 --target rvae_bench_protocols >/dev/null
fi
python=/usr/bin/python3
data="$build_dir/bench-data"
"$python" bench/make_bench_data.py "$data" >/dev/null

url_file="$data/canned-oip.url"
rm -f "$url_file"
"$python" bench/canned_server.py "$url_file" 1,4,64,64 "$data/photo_1024.jpg" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$url_file" ] && break; sleep 0.1; done
url="$(cat "$url_file")"

rows="$data/open-inference-rows.jsonl"
: >"$rows"
for run in $(seq "$runs"); do
  "$build_dir/bench/rvae_bench_protocols" "$url" "$calls" | tee -a "$rows"
  "$build_dir/bench/rvae_bench_protocols" "$url" "$calls" raw | tee -a "$rows"
  "$python" bench/python_oip_client.py "${url}v2/models/vae_decoder" "$calls" | tee -a "$rows"
done
"$python" - "$rows" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def med(protocol, key):
    return statistics.median(r[key] for r in rows if r["protocol"] == protocol)
hf_wall, oip_wall, py_wall = med("hf", "wall_ms_median"), med("oip", "wall_ms_median"), \
    med("oip-python", "wall_ms_median")
hf_cpu, oip_cpu = med("hf", "cpu_ms_per_call"), med("oip", "cpu_ms_per_call")
hf_raw_wall, oip_raw_wall = med("hf-raw", "wall_ms_median"), med("oip-raw", "wall_ms_median")
hf_raw_cpu, oip_raw_cpu = med("hf-raw", "cpu_ms_per_call"), med("oip-raw", "cpu_ms_per_call")
runs = sum(1 for r in rows if r["protocol"] == "hf")
print("medians over %d runs (each the median wall and mean CPU of its calls):" % runs)
print("  rvae HF protocol:    wall %.2f ms, CPU %.2f ms per call" % (hf_wall, hf_cpu))
print("  rvae Open Inference: wall %.2f ms, CPU %.2f ms per call" % (oip_wall, oip_cpu))
print("  Python (tritonclient's steps): wall %.2f ms per call" % py_wall)
print("  Open Inference / HF: wall %.3f, CPU %.3f" % (oip_wall / hf_wall, oip_cpu / hf_cpu))
print("  raw latents: HF wall %.2f ms, CPU %.2f ms; Open Inference wall %.2f ms, CPU %.2f ms"
      % (hf_raw_wall, hf_raw_cpu, oip_raw_wall, oip_raw_cpu))
print("  raw latents, Open Inference / HF: wall %.3f, CPU %.3f"
      % (oip_raw_wall / hf_raw_wall, oip_raw_cpu / hf_raw_cpu))
print("  Python / rvae Open Inference, wall: %.2fx" % (py_wall / oip_wall))
PY
