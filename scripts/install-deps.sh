#!/usr/bin/env bash
# Installs the Debian packages rvae builds and tests with, when any is missing.
# Usage: scripts/install-deps.sh [extra packages...]
set -euo pipefail

packages=(
  build-essential cmake pkg-config ca-certificates
  libcurl4-openssl-dev nlohmann-json3-dev libstb-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev libmicrohttpd-dev
  openssl nghttp2-server hyperfine
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libturbojpeg0-dev libjpeg62-turbo-dev libdeflate-dev libpng-dev
  # The C API's tests: Python ctypes, clang for a second consumer compiler, and what
  # `pkg-config --static --libs rvae` names through libcurl.pc (the static link of a consumer).
  python3 clang libnghttp2-dev librtmp-dev libssh2-1-dev libpsl-dev libkrb5-dev libldap-dev
  libzstd-dev
  "$@"
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
