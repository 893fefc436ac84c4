// The only interface to stb_image / stb_image_write. stb's functions are compiled with static
// linkage inside stb_impl_*.cpp, so they stay private to the library and cannot clash with an
// application that links its own copy of stb.
#pragma once

#include <cstdint>

#include "codec/decoded_pixels.hpp"
#include "rvae/bytes.hpp"

namespace rvae::codec_detail {

/// Outcome of one stb call. `reason` is stb's short failure reason ("bad huffman code"), or
/// "outofmem" when a buffer could not be allocated; it points to static storage.
struct StbStatus {
  bool ok = false;
  const char* reason = "";
};

/// Decodes a PNG (stb_impl_png.cpp) to `channels` (3 or 4) 8-bit channels. The callers check
/// structure and dimensions first. JPEG: jpeg_backend.hpp.
StbStatus stb_decode_png(const std::uint8_t* data, int size, int channels,
                         DecodedPixels* out) noexcept;

/// Appends an encoded image to `out` (stb_impl_write.cpp). `pixels` holds width * height *
/// channels bytes; the callers bound that size so stb's int arithmetic cannot overflow.
StbStatus stb_encode_png(const std::uint8_t* pixels, int width, int height, int channels,
                         Bytes* out) noexcept;
StbStatus stb_encode_jpeg(const std::uint8_t* pixels, int width, int height, int channels,
                          int quality, Bytes* out) noexcept;

}  // namespace rvae::codec_detail
