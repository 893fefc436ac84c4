#include "rvae/image.hpp"

#include <string>

#include "codec/png_writer.hpp"
#include "codec/stb_bridge.hpp"
#include "core/try.hpp"

namespace rvae {
namespace {

// stb_image_write does its size arithmetic in int, and its PNG deflate output can exceed the
// input by about 1/8; 1 GiB of pixels (e.g. 16384x16384 RGBA) keeps every intermediate below
// INT_MAX.
constexpr std::uint64_t kMaxEncodeBytes = std::uint64_t{1} << 30;

Result<void> check_encodable(ImageView image) {
  const bool shape_ok = image.width >= 1 && image.width <= 65535 && image.height >= 1 &&
                        image.height <= 65535 && (image.channels == 3 || image.channels == 4);
  if (shape_ok) {
    // Checked before the buffer size, so an oversized request is refused for what it is.
    const std::uint64_t bytes = std::uint64_t{static_cast<std::uint32_t>(image.width)} *
                                static_cast<std::uint32_t>(image.height) *
                                static_cast<std::uint32_t>(image.channels);
    if (bytes > kMaxEncodeBytes) {
      return Error(ErrorCode::kResourceExhausted,
                   "image " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                       "x" + std::to_string(image.channels) + " is " + std::to_string(bytes) +
                       " bytes; the encoder limit is 1 GiB");
    }
  }
  return image.validate();
}

Error encoder_failure(const char* format) {
  // The only failure left after check_encodable is an allocation failure.
  return Error(ErrorCode::kResourceExhausted,
               std::string("out of memory while encoding ") + format);
}

}  // namespace

Result<Bytes> encode_png(ImageView image, PngCompression compression) {
  RVAE_TRY(check_encodable(image));
  Bytes out;
#if defined(RVAE_HAVE_LIBDEFLATE)
  // Level 1 comes close to zlib level 6's size on photos and the levels between gain little;
  // level 10 (libdeflate's near-optimal parsing) is smaller again at several times the time.
  // See BENCHMARKS.md, "Codecs and untrusted input".
  const int level = compression == PngCompression::kSmall ? 10 : 1;
  if (!codec_detail::deflate_write_png(image.pixels, image.width, image.height, image.channels,
                                       level, &out)) {
    return encoder_failure("PNG");
  }
#else
  // stb_image_write has one global compression level; it serves both settings.
  static_cast<void>(compression);
  if (!codec_detail::stb_encode_png(image.pixels, image.width, image.height, image.channels, &out)
           .ok) {
    return encoder_failure("PNG");
  }
#endif
  return out;
}

Result<Bytes> encode_jpeg(ImageView image, int quality) {
  if (quality < 1 || quality > 100) {
    return Error(ErrorCode::kInvalidArgument,
                 "JPEG quality " + std::to_string(quality) + " is outside 1..100");
  }
  RVAE_TRY(check_encodable(image));
  Bytes out;
  if (!codec_detail::stb_encode_jpeg(image.pixels, image.width, image.height, image.channels,
                                     quality, &out)
           .ok) {
    return encoder_failure("JPEG");
  }
  return out;
}

}  // namespace rvae
