#!/usr/bin/env bash
# Issue 21's temporal chunking measurements (BENCHMARKS.md, "Temporal chunking (issue 21)"), one
# run of bench/bench_temporal.cpp against two in-process reference endpoints in context mode
# (PROTOCOL.md §7.1): (a) chunked vs whole PSNR and largest error for diffusers' plain scheme
# and rvae's colour-matched chunks; (b) a 129-frame decode chunked in parallel against one
# request, both with LATENCY_MS of server latency per request, as a ratio from the same run.
#   scripts/bench-temporal.sh [BUILD_DIR] (default build/bench, configured Release here)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build/bench}"
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DRVAE_BUILD_BENCHMARKS=ON \
    -DRVAE_BUILD_TESTS=OFF >/dev/null
fi
if [ -z "${RVAE_BENCH_NO_BUILD:-}" ]; then
  nice cmake --build "$build_dir" -j2 --target rvae_bench_temporal >/dev/null
fi
"$build_dir/bench/rvae_bench_temporal" "${LATENCY_MS:-2000}" "${SIDE:-32}"
