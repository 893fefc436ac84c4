// A fast path for the PNGs a VAE endpoint (and rvae's own writer) produces: 8-bit RGB or RGBA,
// not interlaced, well formed. It inflates with libdeflate (faster than stb's zlib: BENCHMARKS.md,
// "Codecs and untrusted input") and unfilters straight into the pixels. Anything else, or
// anything at all unusual, is left to stb, so it never changes what decodes and what does not.
#pragma once

#include <cstddef>
#include <cstdint>

#include "codec/decoded_pixels.hpp"

namespace rvae::codec_detail {

/// Decodes `data` into `out` (`channels` per pixel, 3 or 4) when it is a PNG this path takes:
/// colour type RGB for 3 or RGBA for 4, bit depth 8, no interlace, no tRNS, every chunk's CRC
/// and the zlib checksum right, the IDATs in one run that inflate to exactly the image. False
/// otherwise (or when memory runs out), `out` untouched: the caller then decodes with stb. The
/// callers have checked the declared dimensions against their limits.
bool fast_decode_png(const std::uint8_t* data, std::size_t size, int channels,
                     DecodedPixels* out) noexcept;

}  // namespace rvae::codec_detail
