# ctest driver: builds tests/consumer the way a consumer would and runs what it built.
#   MODE=install       install the build tree into a scratch prefix, find_package it, and also
#                      build the C example with plain pkg-config (and --static for a static
#                      build)
#   MODE=build-tree    find_package on the build tree itself (its export())
#   MODE=subdirectory  add_subdirectory on the sources, as a shared library; checks first that
#                      by default only the library is built; then checks librvae.so's exported
#                      symbols with nm, its SONAME, and calls it from Python's ctypes
# Arguments: BUILD_DIR, SOURCE_DIR, WORK_DIR, MODE; optional C_COMPILER and CXX_COMPILER (the
# consumer's compilers), LAUNCHER (a compiler launcher such as ccache), PYTHON, NM, PKG_CONFIG.
# Cross builds for Windows (install and build-tree modes) also pass TOOLCHAIN, WINDOWS_PREFIX
# (the cross-built dependencies), CROSS_C_COMPILER and WINE, which runs what was built.
file(REMOVE_RECURSE ${WORK_DIR}/build ${WORK_DIR}/prefix ${WORK_DIR}/pkg-config)
set(exe "")
set(runner "")
if(TOOLCHAIN)
  set(exe .exe)
  set(runner ${WINE})
endif()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(result)
    message(FATAL_ERROR "${what} failed (${result}):\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

# Runs a built program and checks that it printed `expected`.
function(expect_output expected)
  run("${ARGN}" ${ARGN})
  message(STATUS "${run_output}")
  if(NOT run_output MATCHES "${expected}")
    message(FATAL_ERROR "${ARGN} did not print '${expected}'")
  endif()
endfunction()

set(consumer_args -DCMAKE_BUILD_TYPE=Release)
if(C_COMPILER)
  list(APPEND consumer_args -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
if(LAUNCHER)
  list(APPEND consumer_args -DCMAKE_C_COMPILER_LAUNCHER=${LAUNCHER}
                            -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
if(TOOLCHAIN)
  list(APPEND consumer_args -DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN}
                            -DRVAE_WINDOWS_PREFIX=${WINDOWS_PREFIX})
endif()

if(MODE STREQUAL "install")
  run("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
  if(TOOLCHAIN)
    # A cross build finds packages only under its root paths (the dependencies' prefix): name
    # the installed package's directory instead.
    list(APPEND consumer_args -Drvae_DIR=${WORK_DIR}/prefix/lib/cmake/rvae)
  else()
    list(APPEND consumer_args -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
  endif()
elseif(MODE STREQUAL "build-tree")
  list(APPEND consumer_args -Drvae_DIR=${BUILD_DIR})
elseif(MODE STREQUAL "subdirectory")
  run("configuring a library-only subproject" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer
      -B ${WORK_DIR}/library-only -DRVAE_SOURCE_DIR=${SOURCE_DIR} -DRVAE_CONSUMER_LIBRARY_ONLY=ON)
  list(APPEND consumer_args -DRVAE_SOURCE_DIR=${SOURCE_DIR} -DRVAE_BUILD_CLI=OFF
                            -DBUILD_SHARED_LIBS=ON)
else()
  message(FATAL_ERROR "MODE must be install, build-tree or subdirectory")
endif()

run("configuring the consumer" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer
    -B ${WORK_DIR}/build ${consumer_args})
run("building the consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2)
set(bin ${WORK_DIR}/build)
expect_output("consumer ok" ${runner} ${bin}/consumer${exe})
expect_output("consumer ok" ${runner} ${bin}/consumer_cxx20${exe})
expect_output("c api ok" ${runner} ${bin}/with_endpoint${exe} ${bin}/consumer_c${exe})

if(MODE STREQUAL "install" AND TOOLCHAIN AND EXISTS ${WORK_DIR}/prefix/bin/rvae.exe)
  expect_output("rvae [0-9]" ${runner} ${WORK_DIR}/prefix/bin/rvae.exe --version)
elseif(MODE STREQUAL "install" AND EXISTS ${WORK_DIR}/prefix/bin/rvae)
  # The installed CLI runs from this scratch prefix, finding its libraries relative to itself.
  run("readelf" readelf -d ${WORK_DIR}/prefix/bin/rvae)
  if(NOT run_output MATCHES "(RUNPATH|RPATH)\\)[^\n]*\\[\\$ORIGIN/")
    message(FATAL_ERROR "the installed rvae has no $ORIGIN-relative RUNPATH:\n${run_output}")
  endif()
  expect_output("rvae [0-9]" ${WORK_DIR}/prefix/bin/rvae --version)
endif()

if(MODE STREQUAL "install" AND PKG_CONFIG)
  # The C example built by hand from rvae.pc alone, as a Makefile-based project would: with
  # plain `pkg-config --libs rvae`, which must link whether the install is static or shared,
  # and, for a static-only install, with --static too.
  set(pc_env PKG_CONFIG_PATH=${WORK_DIR}/prefix/lib/pkgconfig)
  set(pc_link "")
  if(TOOLCHAIN)
    # Only the installed package and the cross-built dependencies, never the host's .pc files;
    # and a self-contained program, as the toolchain file links (no mingw runtime DLLs).
    set(pc_env PKG_CONFIG_LIBDIR=${WORK_DIR}/prefix/lib/pkgconfig:${WINDOWS_PREFIX}/lib/pkgconfig
               PKG_CONFIG_PATH=)
    set(pc_link -static)
    set(C_COMPILER ${CROSS_C_COMPILER})
  endif()
  set(pc_modes plain)
  if(NOT EXISTS ${WORK_DIR}/prefix/lib/librvae.so)
    list(APPEND pc_modes static)
  endif()
  file(MAKE_DIRECTORY ${WORK_DIR}/pkg-config)
  if(NOT C_COMPILER)
    set(C_COMPILER cc)
  endif()
  foreach(mode IN LISTS pc_modes)
    set(pc_static "")
    if(mode STREQUAL "static")
      set(pc_static --static)
    endif()
    run("pkg-config" ${CMAKE_COMMAND} -E env ${pc_env} ${PKG_CONFIG} --cflags --libs ${pc_static}
        rvae)
    string(STRIP "${run_output}" pc_flags)
    message(STATUS "pkg-config --cflags --libs ${pc_static} rvae: ${pc_flags}")
    separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
    string(FIND "${pc_flags}" "-I${WORK_DIR}/prefix/" in_prefix)
    if(in_prefix LESS 0)
      message(FATAL_ERROR "rvae.pc does not point into the install prefix: ${pc_flags}")
    endif()
    run("compiling with pkg-config's flags (${mode})" ${C_COMPILER} -std=c99 -Wall -Wextra
        -Werror -pedantic ${SOURCE_DIR}/tests/consumer/c_api.c ${pc_flags} ${pc_link}
        -o ${WORK_DIR}/pkg-config/c_api_${mode}${exe})
    expect_output("c api ok" ${runner} ${bin}/with_endpoint${exe}
                  ${WORK_DIR}/pkg-config/c_api_${mode}${exe})
  endforeach()
endif()

if(MODE STREQUAL "subdirectory")
  set(library ${bin}/rvae/librvae.so)
  run("readelf" readelf -d ${library})
  if(NOT run_output MATCHES "SONAME\\)[^\n]*librvae\\.so\\.0\\]")
    message(FATAL_ERROR "librvae.so has no SONAME librvae.so.0:\n${run_output}")
  endif()
  if(NM)
    # Exported: the C API (rvae_*) and the public C++ API (rvae:: and its classes' type info);
    # never nlohmann_json, internal namespaces, Client::Impl's members or standard-library
    # instantiations.
    run("nm" ${NM} -D --defined-only -C ${library})
    string(REPLACE "\n" ";" symbols "${run_output}")
    set(count 0)
    set(c_count 0)
    foreach(line IN LISTS symbols)
      if(line STREQUAL "")
        continue()
      endif()
      math(EXPR count "${count} + 1")
      string(REGEX REPLACE "^[0-9a-f]+ [A-Za-z] " "" name "${line}")
      if(name MATCHES "^rvae_[a-z0-9_]+$")
        math(EXPR c_count "${c_count} + 1")
      elseif(NOT name MATCHES "^(rvae::|typeinfo for rvae::|typeinfo name for rvae::|vtable for rvae::)"
             OR name MATCHES "nlohmann|::Impl::|rvae::(transport|protocol|capi|internal|codec_detail)::")
        message(FATAL_ERROR "librvae.so exports a symbol outside the public API: ${name}")
      endif()
    endforeach()
    if(c_count LESS 20)
      message(FATAL_ERROR "librvae.so exports only ${c_count} C API functions")
    endif()
    message(STATUS "librvae.so exports ${count} symbols, ${c_count} of them the C API")
  endif()
  if(PYTHON)
    expect_output("ctypes ok" ${bin}/with_endpoint ${PYTHON} ${SOURCE_DIR}/tests/consumer/ctypes_decode.py
                  ${library})
  endif()
endif()
