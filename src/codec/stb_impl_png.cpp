// stb_image's PNG decoder, compiled with static linkage (see stb_bridge.hpp).
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

#include "codec/stb_decode_common.hpp"

namespace rvae::codec_detail {

StbStatus stb_decode_png(const std::uint8_t* data, int size, int channels,
                         DecodedPixels* out) noexcept {
  return stb_decode(data, size, channels, out);
}

}  // namespace rvae::codec_detail
