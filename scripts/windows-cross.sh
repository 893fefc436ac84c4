#!/usr/bin/env bash
# Cross-builds rvae for 64-bit Windows with mingw-w64 and runs its test suite under wine.
#
# Usage: scripts/windows-cross.sh [deps|configure|build|exports|test]...   (no stage: all five)
#   deps       fetch the dependencies' Debian source packages and build them, static, into
#              build/windows/prefix (a dependency whose stamp matches is skipped)
#   configure  cmake with cmake/mingw-w64-x86_64.cmake into build/windows/rvae
#   build      build the library, CLI and tests (KEEP_GOING=1: ninja -k 0)
#   exports    librvae.dll (shared, library only) against a Linux librvae.so of the same sources:
#              the same API exported (scripts/compare-exports.py)
#   test       ctest under wine, judged by ctest's summary line (wine can exit 0 after a crash)
# Environment: CI=true installs the tools first (otherwise only when one is missing);
#   JOBS (default 2); RVAE_WINDOWS_BUILD (default build/windows); BUILD_TYPE (default Release).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
win=${RVAE_WINDOWS_BUILD:-$root/build/windows}
prefix=$win/prefix
src=$win/src
depbuild=$win/deps-build
toolchain=$root/cmake/mingw-w64-x86_64.cmake
host=x86_64-w64-mingw32
jobs=${JOBS:-2}
build_type=${BUILD_TYPE:-Release}
# Quiet wine (no fixme: lines in CI logs) in a prefix of our own, created on first use.
export WINEDEBUG=-all WINEPREFIX=$win/wineprefix

log() { printf '== %s\n' "$*"; }

# ---- Tools -------------------------------------------------------------------------------------
tools=(
  g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64
  wine wine64 dpkg-dev xz-utils cmake ninja-build make pkg-config nasm
  # Header-only dependencies copied from the host's packages.
  nlohmann-json3-dev libstb-dev
  # ctest's `layering` test runs the host's python3.
  python3
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian 12 lists its archives in deb822 form; apt-get source needs the matching deb-src
# entries. They go into a file of our own, so the system's list is never edited.
add_deb_src() {
  local file=/etc/apt/sources.list.d/rvae-deb-src.sources want
  if grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/ \
     && [ ! -f "$file" ]; then
    return 1  # the system already has deb-src entries: nothing to add
  fi
  # Each 'deb' stanza of the system's .sources files, as 'deb-src' (a blank line ends a stanza,
  # also at the end of each file).
  want=$(for f in /etc/apt/sources.list.d/*.sources; do
           if [ -f "$f" ] && [ "$f" != "$file" ]; then cat "$f"; echo; fi
         done | awk '
    /^[ \t]*$/ { if (deb) printf "%s\n", para; para = ""; deb = 0; next }
    /^#/ { next }
    /^Types:/ { if ($0 ~ /[ \t]deb([ \t]|$)/) deb = 1; para = para "Types: deb-src\n"; next }
    { para = para $0 "\n" }
    END { if (deb) printf "%s", para }')
  if [ -z "$want" ]; then
    # One-line format (/etc/apt/sources.list) instead.
    file=/etc/apt/sources.list.d/rvae-deb-src.list
    want=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
           | sed 's/^deb /deb-src /')
  fi
  [ -n "$want" ] || { echo "no Debian 'deb' source found to mirror as deb-src" >&2; exit 1; }
  if [ -f "$file" ] && [ "$(cat "$file")" = "$want" ]; then
    return 1  # already there, unchanged
  fi
  log "adding deb-src entries: $file"
  printf '%s\n' "$want" | as_root tee "$file" >/dev/null
  return 0
}

ensure_tools() {
  local missing=() package updated=0
  for package in "${tools[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$package")
  done
  if add_deb_src || [ "${CI:-}" = "true" ] || [ ${#missing[@]} -gt 0 ]; then
    log "apt-get update"
    as_root apt-get update -qq
    updated=1
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"
  fi
  # apt-get source needs the deb-src lists; a first run on a machine without them updates.
  if [ "$updated" -eq 0 ] && ! apt-cache showsrc curl >/dev/null 2>&1; then
    as_root apt-get update -qq
  fi
}

# ---- Dependencies --------------------------------------------------------------------------------
# Each build_<name> function builds one dependency from its unpacked source ($1) into $prefix.
# Its stamp holds the source version and the function's own text, so changing a flag here
# rebuilds that dependency (and only it).

cmake_dep() {  # cmake_dep <source dir> <build dir> [cmake args...]
  local s=$1 b=$2
  shift 2
  rm -rf "$b"
  cmake -S "$s" -B "$b" -G Ninja -Wno-dev \
    -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DRVAE_WINDOWS_PREFIX="$prefix" \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_BUILD_TYPE=Release \
    "$@" >"$b.configure.log" 2>&1 \
    || { tail -40 "$b.configure.log"; return 1; }
  cmake --build "$b" -j "$jobs" >"$b.build.log" 2>&1 || { tail -40 "$b.build.log"; return 1; }
  cmake --install "$b" >"$b.install.log" 2>&1 || { tail -40 "$b.install.log"; return 1; }
}

build_nghttp2() {
  # Only the library. HAVE_CLOCK_GETTIME=0: the check finds winpthreads' clock_gettime, which
  # the static link then lacks.
  cmake_dep "$1" "$depbuild/nghttp2" -DENABLE_LIB_ONLY=ON -DENABLE_STATIC_LIB=ON \
    -DENABLE_SHARED_LIB=OFF -DENABLE_DOC=OFF -DHAVE_CLOCK_GETTIME=0 \
    -DCMAKE_C_FLAGS="-DNGHTTP2_STATICLIB"
  # Consumers of the static library must not declare its functions dllimport.
  sed -i 's/^Cflags: .*/& -DNGHTTP2_STATICLIB/' "$prefix/lib/pkgconfig/libnghttp2.pc"
}

build_curl() {
  # Static libcurl with Schannel (Windows' own TLS, no OpenSSL) and HTTP/2; nothing else.
  cmake_dep "$1" "$depbuild/curl" -DBUILD_SHARED_LIBS=OFF -DBUILD_CURL_EXE=OFF \
    -DBUILD_TESTING=OFF -DENABLE_MANUAL=OFF -DCURL_USE_SCHANNEL=ON -DCURL_USE_OPENSSL=OFF \
    -DUSE_NGHTTP2=ON -DCURL_ZLIB=OFF -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF -DCURL_USE_LIBSSH2=OFF \
    -DCURL_USE_LIBSSH=OFF -DCURL_USE_LIBPSL=OFF -DUSE_LIBIDN2=OFF -DUSE_WIN32_IDN=OFF \
    -DCURL_DISABLE_LDAP=ON -DCURL_DISABLE_LDAPS=ON -DCURL_USE_GSSAPI=OFF -DUSE_LIBRTMP=OFF \
    -DCMAKE_C_FLAGS="-DNGHTTP2_STATICLIB"
  # Its CMake package exports CURL_STATICLIB, its libcurl.pc does not; and curl 7.88's static
  # .pc lists the compiler's implicit libraries twice over. Consumers of the .pc get the define
  # and just what the archive needs. (${libdir} is pkg-config's, not the shell's.)
  # shellcheck disable=SC2016
  sed -i -e 's|^Cflags: .*|& -DCURL_STATICLIB|' \
    -e 's|^Libs: .*|Libs: -L${libdir} -lcurl -lnghttp2 -lws2_32 -lcrypt32 -lbcrypt -ladvapi32 -lwinmm|' \
    -e '/^Libs.private:/d' -e '/^Requires.private:/d' "$prefix/lib/pkgconfig/libcurl.pc"
}

build_libdeflate() {
  # 1.14 builds with make (CMake came in 1.15); only the static library, whose mingw name
  # (libdeflatestatic.lib) is installed as libdeflate.a for find_library(deflate) and -ldeflate.
  local b=$depbuild/libdeflate
  rm -rf "$b" && cp -a "$1" "$b"
  make -C "$b" -j "$jobs" CC=$host-gcc-posix AR=$host-ar libdeflatestatic.lib \
    >"$b.build.log" 2>&1 || { tail -40 "$b.build.log"; return 1; }
  install -D -m 644 "$b/libdeflatestatic.lib" "$prefix/lib/libdeflate.a"
  install -D -m 644 "$b/libdeflate.h" "$prefix/include/libdeflate.h"
  mkdir -p "$prefix/lib/pkgconfig"
  cat >"$prefix/lib/pkgconfig/libdeflate.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: libdeflate
Description: Fast implementation of DEFLATE, zlib, and gzip (static)
Version: $(sed -n 's/^#define LIBDEFLATE_VERSION_STRING[ \t]*"\(.*\)"/\1/p' "$b/libdeflate.h")
Libs: -L\${libdir} -ldeflate
Cflags: -I\${includedir}
EOF
}

build_libjpeg_turbo() {
  # turbojpeg and libjpeg, static, with the SIMD code (nasm).
  cmake_dep "$1" "$depbuild/libjpeg-turbo" -DENABLE_SHARED=OFF -DENABLE_STATIC=ON \
    -DWITH_TURBOJPEG=ON -DWITH_JAVA=OFF -DWITH_SIMD=ON -DREQUIRE_SIMD=ON \
    -DCMAKE_ASM_NASM_COMPILER=nasm
}

build_libmicrohttpd() {
  local b=$depbuild/libmicrohttpd
  rm -rf "$b" && mkdir -p "$b"
  (
    cd "$b"
    "$1/configure" --host=$host --prefix="$prefix" --disable-shared --enable-static \
      --disable-https --disable-doc --disable-examples --disable-curl \
      CC=$host-gcc-posix >"$b.configure.log" 2>&1 || { tail -40 "$b.configure.log"; exit 1; }
    make -j "$jobs" >"$b.build.log" 2>&1 || { tail -40 "$b.build.log"; exit 1; }
    make install >"$b.install.log" 2>&1 || { tail -40 "$b.install.log"; exit 1; }
  )
  # Its .pc leaves out Winsock, which the static library calls (libtool's .la has it).
  sed -i 's/^Libs: .*/& -lws2_32/' "$prefix/lib/pkgconfig/libmicrohttpd.pc"
}

build_googletest() {
  cmake_dep "$1" "$depbuild/googletest" -DBUILD_GMOCK=ON -DINSTALL_GTEST=ON \
    -DBUILD_SHARED_LIBS=OFF
}

build_cpp_httplib() {
  # Header-only upstream (Debian builds it as a library): the header and a .pc naming the
  # Winsock library it calls.
  install -D -m 644 "$1/httplib.h" "$prefix/include/httplib.h"
  local version
  version=$(sed -n 's/^#define CPPHTTPLIB_VERSION "\(.*\)"/\1/p' "$1/httplib.h")
  mkdir -p "$prefix/lib/pkgconfig"
  cat >"$prefix/lib/pkgconfig/cpp-httplib.pc" <<EOF
prefix=$prefix
includedir=\${prefix}/include

Name: cpp-httplib
Description: A C++ HTTP/HTTPS server and client library (header-only)
Version: $version
Libs: -lws2_32
Cflags: -I\${includedir}
EOF
}

# Header-only, copied from the host's Debian packages (the same headers on any target).
build_nlohmann_json() {
  mkdir -p "$prefix/include" "$prefix/share/cmake"
  rm -rf "$prefix/include/nlohmann" "$prefix/share/cmake/nlohmann_json"
  cp -a /usr/include/nlohmann "$prefix/include/"
  # Its targets file finds the prefix relative to itself: share/cmake/nlohmann_json -> prefix.
  cp -a /usr/share/cmake/nlohmann_json "$prefix/share/cmake/"
}

build_stb() {
  rm -rf "$prefix/include/stb"
  mkdir -p "$prefix/include/stb"
  cp -a /usr/include/stb/. "$prefix/include/stb/"
}

# Every .pc file in the prefix describes a static library: move its private libraries into
# Libs, so pkg_check_modules (which reads Libs only) links everything the archive needs.
publish_private_libs() {
  local pc
  for pc in "$prefix"/lib/pkgconfig/*.pc; do
    [ -f "$pc" ] || continue
    awk '
      /^Libs\.private:/ { sub(/^Libs\.private:[ \t]*/, ""); private = private " " $0; next }
      { lines[n++] = $0 }
      END {
        for (i = 0; i < n; i++) {
          if (lines[i] ~ /^Libs:/) lines[i] = lines[i] private
          print lines[i]
        }
      }' "$pc" >"$pc.tmp" && mv "$pc.tmp" "$pc"
  done
}

# Source packages (apt-get source) and the build function of each.
deps=(nghttp2 curl libdeflate libjpeg-turbo libmicrohttpd googletest cpp-httplib)
# Host packages whose headers are copied.
header_deps=(nlohmann-json3-dev:nlohmann_json libstb-dev:stb)

stamp_of() {  # stamp_of <name> <version>: what the stamp must hold for the build to be current
  local fn=build_${1//-/_}
  printf 'version %s\ncompiler %s\n' "$2" "$($host-gcc-posix -dumpversion)"
  declare -f "$fn" cmake_dep publish_private_libs
}

# Fetches <source package> <version> into $src and prints the unpacked directory.
fetch_source() {
  local package=$1 version=$2 dir
  mkdir -p "$src"
  # Downloads and unpacks, applying Debian's patches (root is fine for this); a source already
  # downloaded and unpacked is left as it is.
  (cd "$src" && apt-get source -qq -o APT::Sandbox::User=root "$package") >"$src/$package.log" 2>&1 \
    || { cat "$src/$package.log" >&2; return 1; }
  # dpkg-source unpacks into <package>-<upstream version>.
  dir=$src/$package-${version%-*}
  [ -d "$dir" ] || { echo "unpacked source of $package not found: $dir" >&2; return 1; }
  printf '%s\n' "$dir"
}

source_version() {  # the candidate version of a source package, as its .dsc names it
  apt-get source --print-uris -qq "$1" | awk '$2 ~ /\.dsc$/ { v = $2; sub(/^[^_]*_/, "", v);
    sub(/\.dsc$/, "", v); print v; exit }'
}

stage_deps() {
  ensure_tools
  mkdir -p "$prefix/.stamps" "$depbuild"
  local name version dir stamp fn start seconds total_start=$SECONDS entry
  local summary=()
  for name in "${deps[@]}"; do
    version=$(source_version "$name")
    [ -n "$version" ] || { echo "no source package for $name (deb-src missing?)" >&2; exit 1; }
    stamp=$prefix/.stamps/$name
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(stamp_of "$name" "$version")" ]; then
      summary+=("$(printf '%-16s %-26s up to date' "$name" "$version")")
      continue
    fi
    start=$SECONDS
    log "$name $version: fetching"
    dir=$(fetch_source "$name" "$version")
    log "$name $version: building from $dir"
    fn=build_${name//-/_}
    "$fn" "$dir"
    publish_private_libs
    stamp_of "$name" "$version" >"$stamp"
    seconds=$((SECONDS - start))
    summary+=("$(printf '%-16s %-26s %4d s' "$name" "$version" "$seconds")")
  done
  for entry in "${header_deps[@]}"; do
    name=${entry#*:}
    version=$(dpkg-query -W -f='${Version}' "${entry%%:*}")
    stamp=$prefix/.stamps/$name
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(stamp_of "$name" "$version")" ]; then
      summary+=("$(printf '%-16s %-26s up to date' "$name" "$version")")
      continue
    fi
    "build_$name"
    stamp_of "$name" "$version" >"$stamp"
    summary+=("$(printf '%-16s %-26s copied' "$name" "$version")")
  done
  log "dependencies in $prefix ($((SECONDS - total_start)) s):"
  printf '   %s\n' "${summary[@]}"
}

# The wine prefix, created before anything runs under wine (gtest_discover_tests runs each test
# binary at build time): creating it takes seconds, better not inside a test's timeout.
wine_init() {
  local wine
  wine=$(command -v wine64 || true)
  if [ -z "$wine" ] && [ -x /usr/lib/wine/wine64 ]; then wine=/usr/lib/wine/wine64; fi
  [ -n "$wine" ] || wine=$(command -v wine)
  if [ ! -f "$WINEPREFIX/system.reg" ]; then
    log "creating the wine prefix $WINEPREFIX"
    # Without mscoree/mshtml, wineboot does not offer to install Mono and Gecko (a dialog).
    WINEDLLOVERRIDES="mscoree,mshtml=" "$wine" wineboot --init >/dev/null 2>&1
    # The registry is written when wineserver exits, a few seconds after: wait for that.
    "$(dirname "$wine")/wineserver" -w 2>/dev/null || wineserver -w 2>/dev/null || true
  fi
}

# ---- rvae ----------------------------------------------------------------------------------------
stage_configure() {
  ensure_tools
  # --fresh: the toolchain file's initial flags apply to a new cache only.
  cmake --fresh -S "$root" -B "$win/rvae" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
    -DRVAE_WINDOWS_PREFIX="$prefix" -DCMAKE_BUILD_TYPE="$build_type" \
    -DRVAE_BUILD_TESTS=ON -DRVAE_BUILD_CLI=ON -DRVAE_BUILD_BENCHMARKS=OFF \
    -DRVAE_BUILD_EXAMPLES=ON -DRVAE_WITH_FFMPEG=OFF
}

stage_build() {
  local keep=()
  [ "${KEEP_GOING:-0}" = "1" ] && keep=(-- -k 0)
  wine_init
  nice cmake --build "$win/rvae" -j "$jobs" "${keep[@]}"
}

# The DLL's export table against the .so's: rvae/export.h marks declarations one by one, and a
# declaration marked for one platform only would show here.
stage_exports() {
  ensure_tools
  local lib_only=(-DBUILD_SHARED_LIBS=ON -DRVAE_BUILD_TESTS=OFF -DRVAE_BUILD_CLI=OFF
    -DRVAE_BUILD_BENCHMARKS=OFF -DRVAE_BUILD_EXAMPLES=OFF -DRVAE_BUILD_TESTING_LIBRARY=OFF
    -DCMAKE_BUILD_TYPE="$build_type")
  cmake -S "$root" -B "$win/dll" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
    -DRVAE_WINDOWS_PREFIX="$prefix" "${lib_only[@]}" >/dev/null
  nice cmake --build "$win/dll" -j "$jobs"
  cmake -S "$root" -B "$win/linux-so" -G Ninja "${lib_only[@]}" >/dev/null
  nice cmake --build "$win/linux-so" -j "$jobs"
  python3 "$root/scripts/compare-exports.py" "$win/linux-so/librvae.so" "$win/dll/librvae.dll"
}

# ctest's exit status is not enough under wine (a crashed program can still exit 0 through
# wine), so the verdict is ctest's own summary line, kept in $win/ctest-summary.txt.
stage_test() {
  local out=$win/ctest.log summary_file=$win/ctest-summary.txt status=0
  mkdir -p "$win"
  wine_init
  # A test program under wine has, rarely, printed its passing verdict and then not exited (seen
  # twice in about a thousand runs, not reproduced alone): a test that times out runs once more,
  # and every such retry is named below, so none goes unnoticed.
  ctest --test-dir "$win/rvae" --output-on-failure -j "$jobs" --repeat after-timeout:2 2>&1 \
    | tee "$out" || status=$?
  if grep -qF '***Timeout' "$out"; then
    log "tests that timed out under wine and were run again:"
    grep -F '***Timeout' "$out" || true
  fi
  grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$out" | tail -n 1 \
    >"$summary_file" || true
  if [ ! -s "$summary_file" ]; then
    echo "ctest printed no summary (exit status $status): failing" | tee "$summary_file" >&2
    return 1
  fi
  # Every skip, with its reason (kept in $win/skipped-tests.txt); a skip without one fails.
  local skips_explained=0
  python3 "$root/scripts/list-skipped-tests.py" "$win/rvae" >"$win/skipped-tests.txt" \
    || skips_explained=1
  cat "$win/skipped-tests.txt"
  log "ctest: $(cat "$summary_file")"
  [ "$skips_explained" -eq 0 ] || return 1
  if ! grep -qE '^100% tests passed, 0 tests failed out of [1-9]' "$summary_file"; then
    return 1
  fi
  if [ "$status" -ne 0 ]; then
    echo "ctest reported all tests passed but exited $status: failing" >&2
    return 1
  fi
}

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(deps configure build exports test)
for stage in "${stages[@]}"; do
  case $stage in
    deps | configure | build | exports | test)
      start=$SECONDS
      "stage_$stage"
      log "stage $stage: $((SECONDS - start)) s"
      ;;
    all) "$0" deps configure build exports test ;;
    *) echo "unknown stage '$stage' (deps, configure, build, exports, test)" >&2; exit 2 ;;
  esac
done
