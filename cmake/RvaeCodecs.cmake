# Codec backends for the codec layer (src/codec).
#   RVAE_JPEG=turbojpeg|stb  JPEG decoder; empty (the default) picks libjpeg-turbo when found.
#   libdeflate, when found, backs the PNG writer (png_writer.cpp); stb_image_write otherwise.
# Libraries are linked by full path so the exported static rvae needs no extra find logic.
set(RVAE_JPEG "" CACHE STRING "JPEG decoder: turbojpeg or stb (empty: turbojpeg if found)")
set_property(CACHE RVAE_JPEG PROPERTY STRINGS "" turbojpeg stb)
option(RVAE_WITH_LIBDEFLATE "Write PNG with libdeflate when it is found" ON)

set(RVAE_JPEG_BACKEND stb)
if(NOT RVAE_JPEG STREQUAL "stb")
  find_path(RVAE_TURBOJPEG_INCLUDE_DIR turbojpeg.h)
  find_library(RVAE_TURBOJPEG_LIBRARY turbojpeg)
  if(RVAE_TURBOJPEG_INCLUDE_DIR AND RVAE_TURBOJPEG_LIBRARY)
    set(RVAE_JPEG_BACKEND turbojpeg)
  elseif(RVAE_JPEG STREQUAL "turbojpeg")
    message(FATAL_ERROR "RVAE_JPEG=turbojpeg but turbojpeg.h / libturbojpeg were not found "
                        "(Debian: libturbojpeg0-dev)")
  elseif(NOT RVAE_JPEG STREQUAL "")
    message(FATAL_ERROR "RVAE_JPEG must be turbojpeg, stb or empty, not '${RVAE_JPEG}'")
  endif()
endif()

# The two-thread decode of a large sequential JPEG (src/codec/jpeg_split.cpp) reads libjpeg's
# API from the same libjpeg-turbo (Debian: libjpeg62-turbo-dev): the TurboJPEG 2.x API cannot
# resume a decode mid-image. It leans on how libjpeg-turbo's Huffman decoder moves through the
# data (jpeg_resume.cpp), so the version it was verified against is named. OFF compiles it out:
# every JPEG then decodes on one thread.
option(RVAE_JPEG_SPLIT "Decode a large sequential JPEG on two threads (needs libjpeg-turbo)" ON)
set(RVAE_JPEG_SPLIT_VERIFIED_VERSION 2.1.5)  # Debian 12's libjpeg62-turbo
set(RVAE_JPEG_SPLIT_ENABLED OFF)
set(RVAE_JPEG_SPLIT_NOTE "off (RVAE_JPEG_SPLIT=OFF)")
if(RVAE_JPEG_SPLIT AND NOT RVAE_JPEG_BACKEND STREQUAL "turbojpeg")
  set(RVAE_JPEG_SPLIT_NOTE "off (needs the libjpeg-turbo decoder)")
elseif(RVAE_JPEG_SPLIT)
  set(RVAE_JPEG_SPLIT_NOTE "off (jpeglib.h / libjpeg with jpeg_skip_scanlines not found)")
  find_path(RVAE_LIBJPEG_INCLUDE_DIR jpeglib.h)
  find_library(RVAE_LIBJPEG_LIBRARY jpeg)
  if(RVAE_LIBJPEG_INCLUDE_DIR AND RVAE_LIBJPEG_LIBRARY)
    include(CheckSymbolExists)
    include(CMakePushCheckState)
    cmake_push_check_state(RESET)
    set(CMAKE_REQUIRED_INCLUDES ${RVAE_LIBJPEG_INCLUDE_DIR})
    set(CMAKE_REQUIRED_LIBRARIES ${RVAE_LIBJPEG_LIBRARY})
    check_symbol_exists(jpeg_skip_scanlines "stdio.h;jpeglib.h" RVAE_LIBJPEG_HAS_SKIP_SCANLINES)
    cmake_pop_check_state()
    if(RVAE_LIBJPEG_HAS_SKIP_SCANLINES)
      set(RVAE_JPEG_SPLIT_ENABLED ON)
      # jconfig.h sits in the multiarch include directory on Debian.
      find_file(RVAE_LIBJPEG_JCONFIG jconfig.h HINTS ${RVAE_LIBJPEG_INCLUDE_DIR})
      set(RVAE_LIBJPEG_TURBO_VERSION "unknown")
      if(RVAE_LIBJPEG_JCONFIG)
        file(STRINGS ${RVAE_LIBJPEG_JCONFIG} version_line
             REGEX "^#define[ \t]+LIBJPEG_TURBO_VERSION[ \t]+[0-9.]+")
        if(version_line MATCHES "LIBJPEG_TURBO_VERSION[ \t]+([0-9.]+)")
          set(RVAE_LIBJPEG_TURBO_VERSION ${CMAKE_MATCH_1})
        endif()
      endif()
      string(CONCAT RVAE_JPEG_SPLIT_NOTE "on, libjpeg-turbo ${RVAE_LIBJPEG_TURBO_VERSION}, "
                    "verified against ${RVAE_JPEG_SPLIT_VERIFIED_VERSION}")
      if(NOT RVAE_LIBJPEG_TURBO_VERSION VERSION_EQUAL RVAE_JPEG_SPLIT_VERIFIED_VERSION)
        message(STATUS "rvae: the two-thread JPEG split was verified against libjpeg-turbo "
                       "${RVAE_JPEG_SPLIT_VERIFIED_VERSION}, this is "
                       "${RVAE_LIBJPEG_TURBO_VERSION}: run rvae_test_codec and the "
                       "jpeg_split fuzzer, or configure with -DRVAE_JPEG_SPLIT=OFF")
      endif()
    endif()
  endif()
endif()

set(RVAE_PNG_WRITER stb)
if(RVAE_WITH_LIBDEFLATE)
  find_path(RVAE_LIBDEFLATE_INCLUDE_DIR libdeflate.h)
  find_library(RVAE_LIBDEFLATE_LIBRARY deflate)
  if(RVAE_LIBDEFLATE_INCLUDE_DIR AND RVAE_LIBDEFLATE_LIBRARY)
    set(RVAE_PNG_WRITER libdeflate)
  endif()
endif()
message(STATUS "rvae JPEG decoder: ${RVAE_JPEG_BACKEND} (two-thread split: ${RVAE_JPEG_SPLIT_NOTE}); "
               "PNG writer: ${RVAE_PNG_WRITER}")

# Usage requirements of the codec layer, for everything that links its objects.
function(rvae_link_codecs target scope)
  if(RVAE_JPEG_BACKEND STREQUAL "turbojpeg")
    target_link_libraries(${target} ${scope} ${RVAE_TURBOJPEG_LIBRARY})
  endif()
  if(RVAE_JPEG_SPLIT_ENABLED)
    target_link_libraries(${target} ${scope} ${RVAE_LIBJPEG_LIBRARY})
  endif()
  if(RVAE_PNG_WRITER STREQUAL "libdeflate")
    target_link_libraries(${target} ${scope} ${RVAE_LIBDEFLATE_LIBRARY})
  endif()
endfunction()

if(TARGET rvae_codec)
  if(RVAE_JPEG_BACKEND STREQUAL "turbojpeg")
    target_compile_definitions(rvae_codec PUBLIC RVAE_HAVE_TURBOJPEG=1)
    target_include_directories(rvae_codec SYSTEM PRIVATE ${RVAE_TURBOJPEG_INCLUDE_DIR})
  endif()
  if(RVAE_JPEG_SPLIT_ENABLED)
    target_compile_definitions(rvae_codec PUBLIC RVAE_HAVE_JPEG_SPLIT=1)
    target_include_directories(rvae_codec SYSTEM PRIVATE ${RVAE_LIBJPEG_INCLUDE_DIR})
  endif()
  if(RVAE_PNG_WRITER STREQUAL "libdeflate")
    target_compile_definitions(rvae_codec PUBLIC RVAE_HAVE_LIBDEFLATE=1)
    target_include_directories(rvae_codec SYSTEM PRIVATE ${RVAE_LIBDEFLATE_INCLUDE_DIR})
  endif()
  # Layer tests link rvae_codec's objects; PUBLIC passes the libraries on to them.
  rvae_link_codecs(rvae_codec PUBLIC)
endif()
