// encode_png on arbitrary pixels, both compression settings: the PNG must decode (stb) to
// exactly the same pixels.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "rvae/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rvae::fuzz::FuzzInput input(data, size);
  rvae::Image image;
  image.width = 1 + input.byte() % 64;
  image.height = 1 + input.byte() % 64;
  image.channels = input.byte() % 2 == 0 ? 3 : 4;
  const std::string_view rest = input.remaining();
  image.pixels.resize(static_cast<std::size_t>(image.width) * image.height * image.channels);
  // The input's bytes repeat over the image, shifted by one level per repetition.
  for (std::size_t i = 0; i < image.pixels.size() && !rest.empty(); ++i) {
    image.pixels[i] = static_cast<std::uint8_t>(static_cast<std::size_t>(rest[i % rest.size()]) +
                                                i / rest.size());
  }
  for (rvae::PngCompression setting : {rvae::PngCompression::kFast, rvae::PngCompression::kSmall}) {
    auto png = rvae::encode_png(image, setting);
    if (!png) __builtin_trap();
    auto back = rvae::decode_image(png->data(), png->size());
    if (!back || back->width != image.width || back->height != image.height ||
        back->channels != image.channels || back->pixels != image.pixels) {
      __builtin_trap();
    }
  }
  return 0;
}
