#!/usr/bin/env bash
# Checks that the tracked C/C++ sources follow .clang-format; names every file that does not and
# fails. Run by .ci/run before the builds, so a style slip fails in seconds, not after an hour.
#   scripts/check-format.sh              # check (installs clang-format when missing)
#   clang-format -i FILE...              # then fix the files it names
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-format >/dev/null; then
  scripts/install-deps.sh clang-format
fi

# Third-party sources keep their upstream style: list their folders here (none are vendored
# today; stb and the rest come from the system).
exclude='^$'

files=()
while IFS= read -r -d '' file; do
  files+=("$file")
done < <(git ls-files -z -- src include tools tests fuzz bench examples |
         grep -zE '\.(c|cc|cpp|cxx|h|hh|hpp|hxx|inc)$' | grep -zvE "$exclude" || true)
if [ ${#files[@]} -eq 0 ]; then
  echo "check-format: no C/C++ files found" >&2
  exit 1
fi

bad=()
for file in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$file" >/dev/null 2>&1; then
    bad+=("$file")
  fi
done

if [ ${#bad[@]} -gt 0 ]; then
  echo "check-format: ${#bad[@]} of ${#files[@]} files differ from .clang-format" \
       "($(clang-format --version)):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "fix with: clang-format -i ${bad[*]}" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files follow .clang-format"
