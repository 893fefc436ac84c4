#!/usr/bin/env bash
# Issue 8's measurements in one run (BENCHMARKS.md, "Codecs and untrusted input"):
#  1. rvae_bench: JPEG decode per backend (stb, libjpeg-turbo) and PNG encode per writer
#     (stb_image_write, libdeflate fast/small) on tests/data and 1024²/2048² photo-like images;
#  2. PIL on the same bytes (the upstream Python client's codec cost);
#  3. end to end against one canned endpoint: the SD v1 512² encode and an SDXL 1024² JPEG decode,
#     by the rvae CLI and by a Python stand-in for the upstream client.
#   scripts/bench-codecs.sh [BUILD_DIR]   (default build/bench, configured Release here)
# Measured numbers and the exact command are in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh python3-pil

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
  --benchmark_filter='BM_JpegDecode|BM_PngEncode|BM_Decode/png' --benchmark_min_time=0.5

echo "== PIL on the same bytes"
"$python" bench/pil_codec.py decode tests/data/rocket.jpg tests/data/hubble_deep_field.jpg \
  tests/data/retina.jpg tests/data/astronaut_progressive.jpg "$data/photo_1024.jpg" \
  "$data/photo_2048.jpg"
"$python" bench/pil_codec.py encode tests/data/astronaut.png "$data/photo_1024.png" \
  "$data/photo_2048.png"

echo "== end to end against a canned endpoint (best of 10 calls each)"
url_file="$data/canned.url"
rm -f "$url_file"
"$python" bench/canned_server.py "$url_file" 1,4,64,64 "$data/photo_1024.jpg" \
  "$data/photo_1024.png" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$url_file" ] && break; sleep 0.1; done
url="$(cat "$url_file")"
inputs="$data/e2e-in"
rm -rf "$inputs" "$data/e2e-out" && mkdir -p "$inputs" "$data/e2e-out"
for i in $(seq 10); do
  cp tests/data/astronaut.png "$inputs/a$i.png"
  cp "$data/latents_sdxl_128.safetensors" "$inputs/l$i.safetensors"
done
best_of() {  # the JSON line with the smallest total, phases printed
  "$python" -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.startswith("{")]
t = min((r["timings_ms"] for r in rows if r["ok"]), key=lambda t: t["total"])
print("rvae %s: prepare %.2f ms, upload %.2f ms, server %.2f ms, decode %.2f ms, total %.2f ms" % (
    sys.argv[1], t["prepare"], t["upload"], t["server"], t["decode"], t["total"]))' "$1"
}
"$build_dir/rvae" encode --model sd15 --endpoint "${url}sd15/encode/" --json -j 1 \
  "$inputs"/a*.png -o "$data/e2e-out/" | best_of "encode astronaut.png (sd15, 512²)"
"$python" bench/python_client.py encode "${url}sd15/encode/" tests/data/astronaut.png 10
"$build_dir/rvae" decode --model sdxl --endpoint "${url}sdxl/decode/" --format jpg --json -j 1 \
  "$inputs"/l*.safetensors -o "$data/e2e-out/" | best_of "decode sdxl 1024² JPEG"
"$python" bench/python_client.py decode "${url}sdxl/decode/" "$data/latents_sdxl_128.safetensors" 10
"$build_dir/rvae" decode --model sdxl --endpoint "${url}sdxl/decode/" --format png --json -j 1 \
  "$inputs"/l*.safetensors -o "$data/e2e-out/" | best_of "decode sdxl 1024² PNG"
"$python" bench/python_client.py decode-png "${url}sdxl/decode/" \
  "$data/latents_sdxl_128.safetensors" 10
"$build_dir/rvae" decode --model sdxl --endpoint "${url}sdxl/decode/" --output-type uint8 \
  --json -j 1 "$inputs"/l*.safetensors -o "$data/e2e-out/" | best_of "decode sdxl 1024² uint8"
"$python" bench/python_client.py decode-uint8 "${url}sdxl/decode/" \
  "$data/latents_sdxl_128.safetensors" 10
