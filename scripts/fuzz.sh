#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang, AddressSanitizer and UBSan, and runs each
# for a fixed time starting from the committed seed corpus (fuzz/corpus/<target>) and crash
# regressions (fuzz/regressions/<target>). A crash leaves its input in build/fuzz/artifacts/.
#   scripts/fuzz.sh                       # every target, FUZZ_SECONDS (default 25) each
#   scripts/fuzz.sh --seconds 600 jpeg_stb safetensors
# New inputs the fuzzer finds go to build/fuzz/corpus/, never into the committed corpus; to keep
# a crash as a regression, copy its artifact into fuzz/regressions/<target>/ (ctest replays it).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-25}"
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    -*) echo "unknown option: $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  targets=(safetensors npy image_decode jpeg_stb jpeg_split png_roundtrip png_fast decode_reply
           encode_reply open_inference_reply presets reference_request streamed_reply)
fi

scripts/install-deps.sh clang-14 libclang-rt-14-dev

build_dir=build/fuzz
# Warnings are not errors here: the gcc builds enforce them, and a new clang warning in code
# under work elsewhere must not stop the fuzzing.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
  -DRVAE_FUZZ=ON -DRVAE_SANITIZE=address,undefined -DRVAE_WARNINGS_AS_ERRORS=OFF \
  -DRVAE_BUILD_TESTS=OFF -DRVAE_BUILD_BENCHMARKS=OFF -DRVAE_BUILD_EXAMPLES=OFF \
  -DRVAE_BUILD_CLI=OFF -DRVAE_INSTALL=OFF -DRVAE_WITH_FFMPEG=OFF >/dev/null
build_targets=()
for target in "${targets[@]}"; do build_targets+=("rvae_fuzz_$target"); done
cmake --build "$build_dir" -j2 --target "${build_targets[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=()
for target in "${targets[@]}"; do
  work="$build_dir/corpus/$target"
  artifacts="$build_dir/artifacts/$target/"
  mkdir -p "$work" "$artifacts" "fuzz/regressions/$target"
  echo "== fuzz $target for ${seconds}s"
  # -timeout: one input taking this long is a finding (a hang); -rss_limit_mb: so is this much
  # memory. The committed corpus and regressions are read-only inputs; $work collects new ones.
  if ! "$build_dir/fuzz/rvae_fuzz_$target" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts" \
      "$work" "fuzz/corpus/$target" "fuzz/regressions/$target" 2>"$build_dir/$target.log"; then
    tail -n 60 "$build_dir/$target.log" >&2
    failed+=("$target")
  else
    grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units)" "$build_dir/$target.log" || true
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs in $build_dir/artifacts/)" >&2
  exit 1
fi
echo "fuzzing: no findings in ${#targets[@]} targets, ${seconds}s each"
