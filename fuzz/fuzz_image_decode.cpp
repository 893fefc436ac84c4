// decode_image as the library runs it: sniffing, the PNG/JPEG pre-scan, then the PNG fast path or
// stb (PNG), or the active JPEG backend (libjpeg-turbo when built with it).
#include <cstddef>
#include <cstdint>

#include "rvae/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rvae::ImageDecodeOptions options;
  options.max_pixels = 4u << 20;  // keeps each run small; the limit itself is tested elsewhere
  auto image = rvae::decode_image(data, size, options);
  if (image && !image->validate()) __builtin_trap();
  return 0;
}
