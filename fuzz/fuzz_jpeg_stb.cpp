// The JPEG pre-scan guarding stb_image, with stb as the decoder whatever the build's active
// backend: the hardening must hold for the fallback too.
#include <cstddef>
#include <cstdint>

#include "codec/image_layout.hpp"
#include "codec/jpeg_backend.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2 || data[0] != 0xFF || data[1] != 0xD8) return 0;
  const rvae::codec_detail::ImageLayout layout = rvae::codec_detail::scan_jpeg(data, size);
  // decode_image's conditions for handing a JPEG to a decoder.
  if (layout.problem || !layout.has_dimensions || layout.components == 4) return 0;
  if (std::uint64_t{layout.width} * layout.height > (4u << 20)) return 0;
  rvae::codec_detail::DecodedPixels pixels;
  const auto status = rvae::codec_detail::stb_decode_jpeg_rgb(data, size, &pixels);
  if (status.ok && pixels.pixels.size() != std::size_t{layout.width} * layout.height * 3) {
    __builtin_trap();
  }
  return 0;
}
