// A minimal PNG writer on libdeflate (builds with RVAE_HAVE_LIBDEFLATE): 8-bit RGB or RGBA, one
// IDAT, adaptive filtering (one filter per image at the fast levels, one per row above them),
// zlib stream, CRC-32 and Adler-32 all from libdeflate.
// stb_image_write is much slower and writes more bytes for the same image (BENCHMARKS.md,
// "Codecs and untrusted input").
#pragma once

#include <cstdint>

#include "rvae/bytes.hpp"

namespace rvae::codec_detail {

/// Appends a PNG of `pixels` (width * height * channels bytes, channels 3 or 4) to `out`,
/// compressed at libdeflate `level` (1..12). False when memory runs out. The callers bound the
/// size (at most 1 GiB of pixels) so every length fits a PNG chunk.
bool deflate_write_png(const std::uint8_t* pixels, int width, int height, int channels, int level,
                       Bytes* out) noexcept;

}  // namespace rvae::codec_detail
