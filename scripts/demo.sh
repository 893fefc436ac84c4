#!/usr/bin/env bash
# Installs what is missing, builds rvae (Release) and runs `rvae demo` against the in-process
# reference endpoint. Results land in ./rvae-demo/ (contact_sheet.png and one PNG per round trip).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DRVAE_BUILD_TESTS=OFF \
  -DRVAE_BUILD_BENCHMARKS=OFF -DRVAE_BUILD_EXAMPLES=OFF
cmake --build build/release -j2 --target rvae_cli
build/release/rvae demo "$@"
