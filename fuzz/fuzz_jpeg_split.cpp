// The two-thread JPEG decode (codec/jpeg_split.hpp) against libjpeg-turbo's whole-image decode,
// which decode_image falls back to: for any input the pre-scan passes, the split decode must
// never accept what the whole decode refuses nor differ from it. The last input byte picks a
// row of MCUs, so every one gets tried as the second thread's first row: the Huffman walker's
// resume stream there must decode to the same rows.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "codec/image_layout.hpp"
#include "codec/jpeg_resume.hpp"
#include "codec/jpeg_split.hpp"

#if defined(RVAE_HAVE_JPEG_SPLIT)
#include <turbojpeg.h>

namespace {

// A whole-image decode with decode_image's flags (jpeg_turbo.cpp).
struct Whole {
  bool ok = false;
  // Failed only on libjpeg's warning about bytes between the last MCU and a marker after the
  // scan. Whether libjpeg sees them depends on how far its bit reader had read ahead, which a
  // resumed stream does not reproduce: the balanced decode may accept such a file (with these
  // pixels, decoded without stopping on the warning) or refuse it where this decode does not.
  bool only_trailing_bytes = false;
  std::vector<std::uint8_t> pixels;
};

bool is_trailing_bytes_warning(const char* message) {
  return message != nullptr && std::strstr(message, "extraneous bytes before marker") != nullptr;
}

// libjpeg-turbo's slow Huffman path warns about a bad code its fast path takes for an end of
// block; a resumed stream takes the slow path a little earlier near the scan's end than the
// whole decode may (jpeg_split.cpp, kSlowPathGuard), so it may refuse such a file.
bool is_bad_code_warning(const char* message) {
  return message != nullptr && std::strstr(message, "bad Huffman code") != nullptr;
}

// The refusals allowed where the whole decode succeeds (decode_image then decodes it whole).
bool may_refuse(const std::string& reason) {
  return is_trailing_bytes_warning(reason.c_str()) || is_bad_code_warning(reason.c_str());
}

Whole whole_decode(const std::uint8_t* data, std::size_t size, int width, int height) {
  thread_local tjhandle handle = tjInitDecompress();
  Whole whole;
  whole.pixels.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3);
  const auto jpeg_size = static_cast<unsigned long>(size);
  whole.ok = tjDecompress2(handle, data, jpeg_size, whole.pixels.data(), width, 0, height, TJPF_RGB,
                           TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) == 0;
  if (!whole.ok && is_trailing_bytes_warning(tjGetErrorStr2(handle))) {
    const int lenient = tjDecompress2(handle, data, jpeg_size, whole.pixels.data(), width, 0,
                                      height, TJPF_RGB, TJFLAG_LIMITSCANS);
    whole.only_trailing_bytes = lenient == 0 || tjGetErrorCode(handle) == TJERR_WARNING;
  }
  return whole;
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
  // As decode_image plans: from the header the pre-scan read.
  const rvae::codec_detail::JpegSplitPlan plan = rvae::codec_detail::plan_jpeg_split(layout.jpeg);
  if (!plan.splittable) return 0;
  const std::size_t bytes =
      static_cast<std::size_t>(plan.width) * static_cast<std::size_t>(plan.height) * 3;
  const Whole whole = whole_decode(data, size, plan.width, plan.height);
  const bool has_pixels = whole.ok || whole.only_trailing_bytes;
  const int mcu_row_count = (plan.height - 1) / plan.mcu_rows;
  const int other_row = plan.mcu_rows * (1 + data[size - 1] % mcu_row_count);
  {
    // The balanced decode: the threads' boundary depends on timing, and the second thread
    // decodes a resume stream the walker wrote. It never accepts what the whole decode
    // refuses nor differs from it; it may refuse what the whole decode accepts only for bytes
    // after the last MCU or a bad Huffman code (decode_image then falls back to the whole
    // decode).
    std::vector<std::uint8_t> split(bytes, 0xA5);
    std::string reason;
    const bool split_ok = rvae::codec_detail::balanced_decode_jpeg_rgb(
        data, size, plan, split.data(), &reason, nullptr);
    if (split_ok && !has_pixels) __builtin_trap();
    if (split_ok && std::memcmp(split.data(), whole.pixels.data(), bytes) != 0) __builtin_trap();
    if (!split_ok && reason.empty()) __builtin_trap();
    if (!split_ok && whole.ok && !may_refuse(reason)) __builtin_trap();
  }
  // The walker directly, at the other row: wherever the whole image decodes, a resume stream
  // it writes, decoded as the balanced decode does, gives the same rows (it may refuse to
  // write one, and the decode may refuse as above, never differ).
  rvae::codec_detail::JpegRowScanner scanner;
  // Only where the whole decode succeeds: after one that warns (bytes, then more scans), what
  // a lenient decode makes of the rest is not a reference.
  if (!whole.ok || !scanner.open(data, size, plan.header)) return 0;
  const int resume_row = other_row / plan.mcu_rows - 1;
  while (scanner.mcu_row() < resume_row && scanner.skip_row()) {
  }
  rvae::codec_detail::ResumeStream stream;
  if (scanner.mcu_row() != resume_row || !scanner.resume_stream(&stream)) return 0;
  const std::size_t stride = static_cast<std::size_t>(plan.width) * 3;
  std::vector<std::uint8_t> resumed(stride * static_cast<std::size_t>(stream.height), 0xA5);
  std::string reason;
  if (!rvae::codec_detail::decode_resume_stream_rgb(stream, plan.width, resumed.data(), &reason)) {
    // Also refused: 0xFF 0xFF 0x00 in the tail, which libjpeg-turbo decodes differently by
    // how far it had read ahead (jpeg_split.cpp, TailScan).
    if (!may_refuse(reason) && reason != rvae::codec_detail::kFillBeforeZeroReason) {
      __builtin_trap();
    }
    return 0;
  }
  const int from = (resume_row + 1) * plan.mcu_rows;
  if (std::memcmp(resumed.data() + 2 * static_cast<std::size_t>(plan.mcu_rows) * stride,
                  whole.pixels.data() + static_cast<std::size_t>(from) * stride,
                  static_cast<std::size_t>(plan.height - from) * stride) != 0) {
    __builtin_trap();
  }
#else
  (void)data;
  (void)size;
#endif
  return 0;
}
