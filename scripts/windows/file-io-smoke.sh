#!/usr/bin/env bash
# Cross-builds tests/windows/file_io_smoke.cpp with the Win32 file layer (mingw-w64) and runs it
# under wine, alone, in seconds (the Windows suite runs it too, as windows_file_io_smoke). Needs
# `apt-get install mingw-w64 wine64` (Debian). Builds into build/windows-smoke/; prints the program's checks and its
# closing "N passed, N failed" line, and exits with its status.
#   scripts/windows/file-io-smoke.sh            # build and run
#   RUN=0 scripts/windows/file-io-smoke.sh      # build only (no wine)
set -euo pipefail
cd "$(dirname "$0")/../.."

cxx=${CXX_MINGW:-x86_64-w64-mingw32-g++-posix}
out=build/windows-smoke
mkdir -p "$out"
# RVAE_STATIC: the sources are compiled into the program (rvae/export.h), not used from a DLL.
"$cxx" -std=c++17 -O1 -static -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror \
  -DRVAE_STATIC -Iinclude -Isrc \
  tests/windows/file_io_smoke.cpp src/core/error.cpp src/core/file_io_common.cpp \
  src/core/file_io_win32.cpp src/api/token_source.cpp -o "$out/file_io_smoke.exe"
echo "built $out/file_io_smoke.exe"

if [ "${RUN:-1}" = 0 ]; then exit 0; fi
wine=$(command -v wine64 || command -v wine || true)
if [ -z "$wine" ]; then
  echo "file-io-smoke: no wine to run it with" >&2
  exit 1
fi
# A private prefix, made on first use; WINEDEBUG=-all keeps wine's own chatter out.
export WINEPREFIX=${WINEPREFIX:-$PWD/$out/wineprefix} WINEDEBUG=-all
# Hugging Face's variables would move the default token path the program checks.
env -u HF_TOKEN_PATH -u HF_HOME -u XDG_CACHE_HOME "$wine" "$out/file_io_smoke.exe"
