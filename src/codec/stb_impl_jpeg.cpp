// stb_image's JPEG decoder, compiled with static linkage (see stb_bridge.hpp).
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

#include <climits>
#include <cstring>

#include "codec/jpeg_backend.hpp"
#include "codec/stb_decode_common.hpp"

namespace rvae::codec_detail {

JpegStatus stb_decode_jpeg_rgb(const std::uint8_t* data, std::size_t size, DecodedPixels* out) {
  if (size > static_cast<std::size_t>(INT_MAX)) return {false, true, "too large"};
  const StbStatus status = stb_decode(data, static_cast<int>(size), 3, out);
  if (status.ok) return {true, false, ""};
  // stb refuses images whose decoded size would not fit its int arithmetic ("too large"), and
  // reports allocation failures as "outofmem".
  const bool exhausted =
      std::strcmp(status.reason, "outofmem") == 0 || std::strcmp(status.reason, "too large") == 0;
  return {false, exhausted, status.reason};
}

#if !defined(RVAE_HAVE_TURBOJPEG)
const char* active_jpeg_backend() noexcept {
  return "stb_image";
}

JpegStatus decode_jpeg_rgb(const std::uint8_t* data, std::size_t size, const JpegHeader& /*header*/,
                           DecodedPixels* out, int /*max_threads*/) {
  return stb_decode_jpeg_rgb(data, size, out);
}
#endif

}  // namespace rvae::codec_detail
