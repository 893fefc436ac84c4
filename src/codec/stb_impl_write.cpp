// stb_image_write's PNG and JPEG encoders, compiled with static linkage (see stb_bridge.hpp).
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STBI_WRITE_NO_STDIO
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
// stb's JPEG bit writer shifts a negative int left (`bitBuf <<= 8`): undefined before C++20,
// harmless in practice, but fatal under -fsanitize=undefined. Clang can exempt stb's functions
// here; GCC has no such pragma and needs -fno-sanitize=shift-base on this file from the build.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((no_sanitize("shift-base"))), apply_to = function)
#endif
#include <stb/stb_image_write.h>
#if defined(__clang__)
#pragma clang attribute pop
#endif
#pragma GCC diagnostic pop

#include <new>

#include "codec/stb_bridge.hpp"

namespace rvae::codec_detail {
namespace {

// stb calls this from C code; an exception must not unwind through it (stb would leak its
// buffers), so an allocation failure is recorded and reported after stb returns.
struct Sink {
  Bytes* out;
  bool out_of_memory = false;
};

void append_to_sink(void* context, void* data, int size) {
  auto* sink = static_cast<Sink*>(context);
  if (sink->out_of_memory || size <= 0) return;
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  try {
    sink->out->insert(sink->out->end(), bytes, bytes + size);
  } catch (const std::bad_alloc&) {
    sink->out_of_memory = true;
  }
}

StbStatus finish(int stb_ok, const Sink& sink) {
  if (sink.out_of_memory) return {false, "outofmem"};
  // stb_image_write fails only when it cannot allocate or is handed bad arguments, which the
  // callers rule out.
  if (stb_ok == 0) return {false, "outofmem"};
  return {true, ""};
}

}  // namespace

StbStatus stb_encode_png(const std::uint8_t* pixels, int width, int height, int channels,
                         Bytes* out) noexcept {
  Sink sink{out};
  const int ok = stbi_write_png_to_func(append_to_sink, &sink, width, height, channels, pixels,
                                        width * channels);
  return finish(ok, sink);
}

StbStatus stb_encode_jpeg(const std::uint8_t* pixels, int width, int height, int channels,
                          int quality, Bytes* out) noexcept {
  Sink sink{out};
  // With 4 channels stb reads RGB at a 4-byte stride and ignores alpha.
  const int ok =
      stbi_write_jpg_to_func(append_to_sink, &sink, width, height, channels, pixels, quality);
  return finish(ok, sink);
}

}  // namespace rvae::codec_detail
