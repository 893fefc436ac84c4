#!/usr/bin/env bash
# Issue 8's measurements in one run (BENCHMARKS.md, "Codecs and untrusted input"):
#  1. rvae_bench: JPEG decode per backend (stb, libjpeg-turbo) and PNG encode per writer
#     (stb_image_write, libdeflate fast/small) on tests/data and 1024²/2048² photo-like images;
#  2. PIL on the same bytes (the upstream Python client's codec cost);
#  3. end to end against one canned endpoint: the SD v1 512² encode and SDXL 1024² decodes (JPEG
#     replies with and without noise, PNG, uint8), by the rvae CLI (and RVAE_BENCH_BASELINE's) and
#     by a Python stand-in for the upstream client (its requests.post steps, and a lean variant).
#   scripts/bench-codecs.sh [BUILD_DIR]   (default build/bench, configured Release here)
# Measured numbers and the exact command are in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh python3-pil python3-requests

build_dir="${1:-build/bench}"
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DRVAE_BUILD_BENCHMARKS=ON \
    -DRVAE_BUILD_TESTS=OFF >/dev/null
fi
# RVAE_BENCH_NO_BUILD=1 measures the binaries already in BUILD_DIR.
if [ -z "${RVAE_BENCH_NO_BUILD:-}" ]; then
  cmake --build "$build_dir" -j2 --target rvae_bench rvae_cli >/dev/null
fi
python=/usr/bin/python3  # Debian's, where python3-pil installs
data="$build_dir/bench-data"
"$python" bench/make_bench_data.py "$data"

echo "== rvae_bench (codec rows)"
RVAE_BENCH_DATA="$data" "$build_dir/bench/rvae_bench" \
  --benchmark_filter='BM_JpegDecode|BM_PngEncode|BM_PngDecode|BM_Decode/png' --benchmark_min_time=0.5

echo "== PIL on the same bytes"
"$python" bench/pil_codec.py decode tests/data/rocket.jpg tests/data/hubble_deep_field.jpg \
  tests/data/retina.jpg tests/data/astronaut_progressive.jpg "$data/photo_1024.jpg" \
  "$data/clean_1024.jpg" "$data/photo_2048.jpg"
"$python" bench/pil_codec.py encode tests/data/astronaut.png "$data/photo_1024.png" \
  "$data/photo_2048.png"

# Best of 30 calls on each side: this shared machine's timing noise (±30% between runs of the
# same binary) moves a best of 10 by more than the differences measured.
calls=30
echo "== end to end against a canned endpoint (best of $calls calls each)"
# RVAE_BENCH_BASELINE=PATH: another rvae CLI (e.g. one built from an older commit) timed on the
# same server in the same run, each row beside the current one.
clis=("$build_dir/rvae")
[ -n "${RVAE_BENCH_BASELINE:-}" ] && clis+=("$RVAE_BENCH_BASELINE")
inputs="$data/e2e-in"
rm -rf "$inputs" "$data/e2e-out" && mkdir -p "$inputs" "$data/e2e-out"
for i in $(seq "$calls"); do
  cp tests/data/astronaut.png "$inputs/a$i.png"
  cp "$data/latents_sdxl_128.safetensors" "$inputs/l$i.safetensors"
done
best_of() {  # the call with the smallest total, phases printed (--json lines, or --verbose ones)
  "$python" -c '
import json, re, sys
rows = []
for line in sys.stdin:
    if line.startswith("{"):
        r = json.loads(line)
        if r["ok"]:
            rows.append(r["timings_ms"])
    elif ", total " in line:
        rows.append({k: float(v) for k, v in re.findall(r"(\w+) ([0-9.]+) ms", line)})
t = min(rows, key=lambda t: t["total"])
print("%s: prepare %.2f ms, upload %.2f ms, server %.2f ms, decode %.2f ms, total %.2f ms" % (
    sys.argv[1], t["prepare"], t["upload"], t["server"], t["decode"], t["total"]))' "$1"
}
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null || true' EXIT
start_server() {  # JPEG_REPLY: the decode reply for image_format=jpg
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  url_file="$data/canned.url"
  rm -f "$url_file"
  "$python" bench/canned_server.py "$url_file" 1,4,64,64 "$1" "$data/photo_1024.png" &
  server=$!
  for _ in $(seq 50); do [ -s "$url_file" ] && break; sleep 0.1; done
  url="$(cat "$url_file")"
}
rvae_rows() {  # LABEL, then the rvae arguments after the subcommand
  local label="$1"; shift
  "${clis[0]}" "$@" --json -j 1 -o "$data/e2e-out/" 2>/dev/null | best_of "${clis[0]} $label"
  # Older CLIs have no --json; their --verbose lines carry the same phases.
  if [ ${#clis[@]} -gt 1 ]; then
    "${clis[1]}" "$@" --verbose -j 1 -o "$data/e2e-out/" 2>&1 | best_of "${clis[1]} $label"
  fi
}
python_rows() {  # MODE URL FILE: the upstream-like stand-in, then the lean one
  "$python" bench/python_client.py "$@" "$calls"
  "$python" bench/python_client.py --lean "$@" "$calls"
}
start_server "$data/photo_1024.jpg"
rvae_rows "encode astronaut.png (sd15, 512²)" encode --model sd15 \
  --endpoint "${url}sd15/encode/" "$inputs"/a*.png
python_rows encode "${url}sd15/encode/" tests/data/astronaut.png
for reply in photo_1024 clean_1024; do
  start_server "$data/$reply.jpg"
  rvae_rows "decode sdxl 1024² JPEG ($reply.jpg)" decode --model sdxl \
    --endpoint "${url}sdxl/decode/" --format jpg "$inputs"/l*.safetensors
  python_rows decode "${url}sdxl/decode/" "$data/latents_sdxl_128.safetensors"
done
rvae_rows "decode sdxl 1024² PNG (photo_1024.png)" decode --model sdxl \
  --endpoint "${url}sdxl/decode/" --format png "$inputs"/l*.safetensors
python_rows decode-png "${url}sdxl/decode/" "$data/latents_sdxl_128.safetensors"
rvae_rows "decode sdxl 1024² uint8" decode --model sdxl --endpoint "${url}sdxl/decode/" \
  --output-type uint8 "$inputs"/l*.safetensors
python_rows decode-uint8 "${url}sdxl/decode/" "$data/latents_sdxl_128.safetensors"
