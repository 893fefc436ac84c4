// The libdeflate PNG fast path against stb on the same bytes: whatever the fast path takes, stb
// must decode to exactly the same pixels (the path only ever replaces stb, never disagrees).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/image_probe.hpp"
#include "codec/png_reader.hpp"
#include "codec/stb_bridge.hpp"

#if defined(RVAE_HAVE_LIBDEFLATE)
#include <libdeflate.h>
#endif

namespace {

// A copy of the input with every whole chunk's CRC made right: the fast path hands any CRC
// mismatch to stb, so without this almost no mutation would get past the chunk walk.
std::vector<std::uint8_t> with_crcs_fixed(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> out(data, data + size);
#if defined(RVAE_HAVE_LIBDEFLATE)
  for (std::size_t pos = 8; size >= 12 && pos <= size - 12;) {
    const std::uint32_t length = std::uint32_t{out[pos]} << 24 | std::uint32_t{out[pos + 1]} << 16 |
                                 std::uint32_t{out[pos + 2]} << 8 | out[pos + 3];
    if (length > size - 12 - pos) break;
    const std::uint32_t crc = libdeflate_crc32(0, out.data() + pos + 4, length + std::size_t{4});
    for (std::size_t i = 0; i < 4; ++i)
      out[pos + 8 + length + i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
    pos += std::size_t{12} + length;
  }
#endif
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* raw, std::size_t raw_size) {
  const std::vector<std::uint8_t> input = with_crcs_fixed(raw, raw_size);
  const std::uint8_t* data = input.data();
  const std::size_t size = input.size();
  // The callers refuse oversized declarations before decoding (tested elsewhere); small images
  // keep each run fast.
  const auto declared = rvae::codec_detail::declared_image(data, size);
  if (!declared || std::uint64_t{declared->width} * declared->height > (1u << 20)) return 0;
  for (int channels : {3, 4}) {
    rvae::codec_detail::DecodedPixels fast;
    if (!rvae::codec_detail::fast_decode_png(data, size, channels, &fast)) continue;
    rvae::codec_detail::DecodedPixels reference;
    if (!rvae::codec_detail::stb_decode_png(data, static_cast<int>(size), channels, &reference)
             .ok ||
        reference.width != fast.width || reference.height != fast.height ||
        reference.pixels != fast.pixels) {
      __builtin_trap();
    }
  }
  return 0;
}
