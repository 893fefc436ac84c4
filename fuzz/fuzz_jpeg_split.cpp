// The two-thread JPEG decode (codec/jpeg_split.hpp) against libjpeg-turbo's whole-image decode,
// which decode_image falls back to: for any input the pre-scan passes, the split decode must
// succeed exactly when the whole decode does, with the same pixels. The last input byte picks a
// second split row, so every row of MCUs gets tried as the boundary.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "codec/image_layout.hpp"
#include "codec/jpeg_split.hpp"

#if defined(RVAE_HAVE_JPEG_SPLIT)
#include <turbojpeg.h>

namespace {

bool whole_decode(const std::uint8_t* data, std::size_t size, int width, int height,
                  std::uint8_t* rgb) {
  thread_local tjhandle handle = tjInitDecompress();
  // decode_image's flags (jpeg_turbo.cpp).
  return tjDecompress2(handle, data, static_cast<unsigned long>(size), rgb, width, 0, height,
                       TJPF_RGB, TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) == 0;
}

}  // namespace
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
#if defined(RVAE_HAVE_JPEG_SPLIT)
  if (size < 2 || data[0] != 0xFF || data[1] != 0xD8) return 0;
  const rvae::codec_detail::ImageLayout layout = rvae::codec_detail::scan_jpeg(data, size);
  // decode_image's conditions for handing a JPEG to a decoder, and a size that keeps runs fast.
  if (layout.problem || !layout.has_dimensions || layout.components == 4) return 0;
  if (std::uint64_t{layout.width} * layout.height > (1u << 20)) return 0;
  rvae::codec_detail::JpegSplitPlan plan = rvae::codec_detail::plan_jpeg_split(data, size);
  if (!plan.splittable) return 0;
  // decode_image splits only when libjpeg-turbo reads the same size.
  if (static_cast<std::uint32_t>(plan.width) != layout.width ||
      static_cast<std::uint32_t>(plan.height) != layout.height) {
    return 0;
  }
  const std::size_t bytes = static_cast<std::size_t>(plan.width) * plan.height * 3;
  std::vector<std::uint8_t> whole(bytes);
  const bool whole_ok = whole_decode(data, size, plan.width, plan.height, whole.data());
  const int mcu_row_count = (plan.height - 1) / plan.mcu_rows;
  const int other_row = plan.mcu_rows * (1 + data[size - 1] % mcu_row_count);
  for (const int row : {plan.split_row, other_row}) {
    plan.split_row = row;
    std::vector<std::uint8_t> split(bytes, 0xA5);
    std::string reason;
    const bool split_ok =
        rvae::codec_detail::split_decode_jpeg_rgb(data, size, plan, split.data(), &reason);
    if (split_ok != whole_ok) __builtin_trap();
    if (split_ok && std::memcmp(split.data(), whole.data(), bytes) != 0) __builtin_trap();
    if (!split_ok && reason.empty()) __builtin_trap();
  }
#else
  (void)data;
  (void)size;
#endif
  return 0;
}
