# Toolchain file: cross-compile for 64-bit Windows with Debian's mingw-w64, against the static
# dependencies that scripts/windows-cross.sh builds into one prefix.
#   cmake -S . -B build/windows/rvae -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake \
#         [-DRVAE_WINDOWS_PREFIX=/path/to/prefix]
# ctest runs the built .exe files under wine (CMAKE_CROSSCOMPILING_EMULATOR).

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(RVAE_MINGW_TRIPLE x86_64-w64-mingw32)

# The posix-thread flavour: std::thread, std::mutex and friends need winpthreads with GCC 12
# (the win32 flavour has no <thread>).
set(CMAKE_C_COMPILER ${RVAE_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${RVAE_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${RVAE_MINGW_TRIPLE}-windres)

# Self-contained programs: libstdc++, libgcc and winpthreads linked in, so no mingw-w64 runtime
# DLL has to be shipped beside them or found by wine.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc -static-libstdc++")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static-libgcc -static-libstdc++")

# The prefix holding the cross-built dependencies: a cache variable, then the environment, then
# the script's default (build/windows/prefix in this source tree).
if(NOT RVAE_WINDOWS_PREFIX)
  if(DEFINED ENV{RVAE_WINDOWS_PREFIX} AND NOT "$ENV{RVAE_WINDOWS_PREFIX}" STREQUAL "")
    set(RVAE_WINDOWS_PREFIX "$ENV{RVAE_WINDOWS_PREFIX}")
  else()
    get_filename_component(RVAE_WINDOWS_PREFIX "${CMAKE_CURRENT_LIST_DIR}/../build/windows/prefix"
      ABSOLUTE)
  endif()
endif()
set(RVAE_WINDOWS_PREFIX "${RVAE_WINDOWS_PREFIX}" CACHE PATH
  "Prefix of the cross-built Windows dependencies")
# try_compile projects re-read this file: hand them the prefix too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES RVAE_WINDOWS_PREFIX)

# Libraries, headers and packages come only from the prefix (and mingw-w64's own sysroot, for
# the Windows system libraries); programs (pkg-config, python3, wine) only from the build host.
set(CMAKE_FIND_ROOT_PATH "${RVAE_WINDOWS_PREFIX}" /usr/${RVAE_MINGW_TRIPLE})
set(CMAKE_PREFIX_PATH "${RVAE_WINDOWS_PREFIX}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (pkg_check_modules) sees the prefix's .pc files and never the host's.
set(ENV{PKG_CONFIG_LIBDIR} "${RVAE_WINDOWS_PREFIX}/lib/pkgconfig:${RVAE_WINDOWS_PREFIX}/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# Test binaries run under wine. Debian keeps wine64 in /usr/lib/wine (its `wine` wrapper also
# runs 64-bit programs, but complains that wine32 is missing). winedbg is disabled: wine starts it
# on a crash and then exits 0, so a crashed test would pass; without it the exit status is not 0.
find_program(RVAE_WINE NAMES wine64 wine PATHS /usr/lib/wine NO_CMAKE_FIND_ROOT_PATH)
find_program(RVAE_ENV env)
if(RVAE_WINE AND RVAE_ENV)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${RVAE_ENV};WINEDLLOVERRIDES=winedbg.exe=d;${RVAE_WINE}")
endif()
