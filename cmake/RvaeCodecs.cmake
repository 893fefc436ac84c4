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

# libjpeg's API from the same libjpeg-turbo (Debian: libjpeg62-turbo-dev) lets a large JPEG
# decode on two threads (src/codec/jpeg_split.cpp); it needs jpeg_skip_scanlines (libjpeg-turbo
# 1.5 and later), which the TurboJPEG 2.x API does not offer.
set(RVAE_JPEG_SPLIT OFF)
if(RVAE_JPEG_BACKEND STREQUAL "turbojpeg")
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
      set(RVAE_JPEG_SPLIT ON)
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
message(STATUS "rvae JPEG decoder: ${RVAE_JPEG_BACKEND} (two-thread split: ${RVAE_JPEG_SPLIT}); "
               "PNG writer: ${RVAE_PNG_WRITER}")

# Usage requirements of the codec layer, for everything that links its objects.
function(rvae_link_codecs target scope)
  if(RVAE_JPEG_BACKEND STREQUAL "turbojpeg")
    target_link_libraries(${target} ${scope} ${RVAE_TURBOJPEG_LIBRARY})
  endif()
  if(RVAE_JPEG_SPLIT)
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
  if(RVAE_JPEG_SPLIT)
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
