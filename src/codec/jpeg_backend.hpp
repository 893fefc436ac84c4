// The JPEG decoders. libjpeg-turbo (jpeg_turbo.cpp, when the build found it: RVAE_JPEG=turbojpeg)
// is the faster one (BENCHMARKS.md, "Codecs and untrusted input"); stb_image (stb_impl_jpeg.cpp)
// is the portable fallback and is always compiled, so tests and fuzzers can exercise both.
// decode_image uses the active one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "codec/decoded_pixels.hpp"
#include "codec/jpeg_segments.hpp"

namespace rvae::codec_detail {

/// Outcome of one JPEG decode. `reason` is the decoder's own message.
struct JpegStatus {
  bool ok = false;
  /// The decoder ran out of memory or refused the size (not a property of corrupt data).
  bool resource_exhausted = false;
  std::string reason;
};

/// The decoder decode_image uses: "libjpeg-turbo" or "stb_image".
const char* active_jpeg_backend() noexcept;

/// Decodes, with the active backend, a JPEG that scan_jpeg accepted to 8-bit RGB, on up to
/// `max_threads` threads (ImageDecodeOptions::max_threads). `header` is what scan_jpeg read
/// (ImageLayout::jpeg): its size and, for the two-thread decode, its tables.
JpegStatus decode_jpeg_rgb(const std::uint8_t* data, std::size_t size, const JpegHeader& header,
                           DecodedPixels* out, int max_threads = 2);

/// Decodes with stb_image (any build).
JpegStatus stb_decode_jpeg_rgb(const std::uint8_t* data, std::size_t size, DecodedPixels* out);

#if defined(RVAE_HAVE_TURBOJPEG)
/// Decodes with libjpeg-turbo (builds that link it).
JpegStatus turbo_decode_jpeg_rgb(const std::uint8_t* data, std::size_t size,
                                 const JpegHeader& header, DecodedPixels* out, int max_threads = 2);
#endif

}  // namespace rvae::codec_detail
