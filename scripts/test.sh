#!/usr/bin/env bash
# Installs what is missing, builds rvae with its tests and runs them.
#   scripts/test.sh                      # RelWithDebInfo build in build/test
#   scripts/test.sh --sanitize address,undefined   # the same under sanitizers (build/test-asan...)
#   scripts/test.sh --sanitize thread
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=""
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) sanitize="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh

build_dir=build/test
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRVAE_WARNINGS_AS_ERRORS=ON -DRVAE_BUILD_BENCHMARKS=ON)
if [ -n "$sanitize" ]; then
  build_dir="build/test-${sanitize//,/-}"
  # -O1 -g1: the sanitizers' checks are the point of these builds, and -O2 -g made them the
  # slowest part of CI (compiling gtest and nlohmann::json-heavy tests with full debug info);
  # -g1 still gives the sanitizers' reports file and line.
  cmake_args+=(-DRVAE_SANITIZE="$sanitize" -DRVAE_BUILD_BENCHMARKS=OFF
               "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
               "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG")
fi

cmake -S . -B "$build_dir" "${cmake_args[@]}"
cmake --build "$build_dir" -j2
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp"
ctest --test-dir "$build_dir" --output-on-failure -j2
# Every skipped test, with the reason it gave (one without a reason fails the run).
python3 scripts/list-skipped-tests.py "$build_dir"
