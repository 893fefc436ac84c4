// Shared body of the two stb decode translation units. Each of stb_impl_png.cpp and
// stb_impl_jpeg.cpp includes stb_image with exactly one format enabled, then this file, so the
// failure reason stb reports always comes from the decoder of the format that was sniffed (with
// both formats in one unit, stb probes PNG first and a failing JPEG can report "bad png sig").
// Include only from those two files, after stb_image.h.
#pragma once

#include <cstring>
#include <new>

#include "codec/stb_bridge.hpp"

namespace rvae::codec_detail {
namespace {

StbStatus stb_decode(const std::uint8_t* data, int size, int channels,
                     DecodedPixels* out) noexcept {
  // stb leaves the reason untouched on some failure paths; clear it so a reason left over from
  // an earlier call on this thread is never reported. The variable is thread_local (stb 2.27
  // uses C++11 thread_local), so concurrent decodes do not race on it.
  stbi__g_failure_reason = nullptr;
  int width = 0;
  int height = 0;
  int channels_in_file = 0;
  stbi_uc* decoded =
      stbi_load_from_memory(data, size, &width, &height, &channels_in_file, channels);
  if (decoded == nullptr) {
    const char* reason = stbi_failure_reason();
    return {false, reason != nullptr ? reason : "unknown error"};
  }
  // stb caps each side at 2^24 and the product at INT_MAX bytes, so this cannot overflow.
  const std::size_t byte_count = static_cast<std::size_t>(width) *
                                 static_cast<std::size_t>(height) *
                                 static_cast<std::size_t>(channels);
  StbStatus status{true, ""};
  try {
    out->pixels.assign(decoded, decoded + byte_count);
    out->width = width;
    out->height = height;
  } catch (const std::bad_alloc&) {
    status = {false, "outofmem"};
  }
  stbi_image_free(decoded);
  return status;
}

}  // namespace
}  // namespace rvae::codec_detail
