#include "rvae/image.hpp"

#include <climits>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "codec/image_layout.hpp"
#include "codec/image_probe.hpp"
#include "codec/jpeg_backend.hpp"
#include "codec/png_reader.hpp"
#include "codec/stb_bridge.hpp"

namespace rvae {
namespace {

constexpr std::uint32_t kMaxSide = 65535;

const char* format_name(ImageFormat format) {
  return format == ImageFormat::kPng ? "PNG" : "JPEG";
}

// Refuses an image before any pixel memory is allocated.
std::optional<Error> check_dimensions(const codec_detail::ImageLayout& layout,
                                      const ImageDecodeOptions& options) {
  const std::string dims = std::to_string(layout.width) + "x" + std::to_string(layout.height);
  if (layout.width > kMaxSide || layout.height > kMaxSide) {
    return Error(ErrorCode::kResourceExhausted,
                 "image is " + dims + "; the limit is 65535 pixels per side");
  }
  const std::uint64_t pixel_count = std::uint64_t{layout.width} * layout.height;
  if (pixel_count > options.max_pixels) {
    return Error(ErrorCode::kResourceExhausted,
                 "image is " + dims + " (" + std::to_string(pixel_count) +
                     " pixels), above max_pixels " + std::to_string(options.max_pixels));
  }
  return std::nullopt;
}

Error stb_failure(ImageFormat format, const char* reason, const codec_detail::ImageLayout& layout) {
  // stb refuses images whose decoded size would not fit its int arithmetic ("too large"), and
  // reports allocation failures as "outofmem".
  if (std::strcmp(reason, "outofmem") == 0 || std::strcmp(reason, "too large") == 0) {
    return Error(ErrorCode::kResourceExhausted,
                 std::string(format_name(format)) + " image " + std::to_string(layout.width) + "x" +
                     std::to_string(layout.height) + " is too large to decode (" + reason + ")");
  }
  return Error(ErrorCode::kInvalidArgument,
               std::string("corrupt or unsupported ") + format_name(format) + ": " + reason);
}

Error jpeg_failure(const codec_detail::JpegStatus& status,
                   const codec_detail::ImageLayout& layout) {
  if (status.resource_exhausted) {
    return Error(ErrorCode::kResourceExhausted, "JPEG image " + std::to_string(layout.width) + "x" +
                                                    std::to_string(layout.height) +
                                                    " is too large to decode (" + status.reason +
                                                    ")");
  }
  return Error(ErrorCode::kInvalidArgument, "corrupt or unsupported JPEG: " + status.reason);
}

Error too_large(std::size_t size) {
  return Error(ErrorCode::kResourceExhausted,
               "encoded image is " + std::to_string(size) + " bytes; the limit is 2^31-1");
}

}  // namespace

Result<Image> decode_image(const std::uint8_t* data, std::size_t size,
                           const ImageDecodeOptions& options) {
  return decode_image(data, size, options, Bytes());
}

Result<Image> decode_image(const std::uint8_t* data, std::size_t size,
                           const ImageDecodeOptions& options, Bytes&& storage) {
  if (data == nullptr || size == 0) {
    return Error(ErrorCode::kInvalidArgument, "image data is empty; not a PNG or JPEG");
  }
  if (!sniff_image_format(data, size)) {
    return Error(ErrorCode::kInvalidArgument,
                 "image data is not a PNG or JPEG (unrecognised magic bytes)");
  }
  if (size > static_cast<std::size_t>(INT_MAX)) return too_large(size);
  return codec_detail::decode_scanned_image(data, size, *codec_detail::scan_image(data, size),
                                            options, std::move(storage));
}

Result<Image> codec_detail::decode_scanned_image(const std::uint8_t* data, std::size_t size,
                                                 const ScannedImage& scanned,
                                                 const ImageDecodeOptions& options,
                                                 Bytes&& storage) {
  if (size > static_cast<std::size_t>(INT_MAX)) return too_large(size);
  const ImageFormat format = scanned.format;
  const bool is_png = format == ImageFormat::kPng;
  const codec_detail::ImageLayout& layout = scanned.layout;
  if (layout.has_dimensions) {
    // stb would convert CMYK/YCCK naively, ignoring the colour profile such files depend on;
    // a clear refusal beats silently shifted colours.
    if (!is_png && layout.components == 4) {
      return Error(ErrorCode::kInvalidArgument, "CMYK JPEG is not supported; convert to RGB");
    }
    if (std::optional<Error> refused = check_dimensions(layout, options)) return *refused;
  }
  if (layout.problem) return *layout.problem;

  const int channels = is_png && layout.has_alpha ? 4 : 3;
  codec_detail::DecodedPixels decoded;
  // Not cleared: the decoders resize it and overwrite every byte they keep, and resizing a
  // recycled image's buffer to the same size writes nothing.
  decoded.pixels = std::move(storage);
  if (is_png) {
    if (!codec_detail::fast_decode_png(data, size, channels, &decoded)) {
      Bytes stripped;
      if (layout.empty_idat_first) stripped = codec_detail::png_without_empty_idats(data, size);
      const std::uint8_t* stb_data = layout.empty_idat_first ? stripped.data() : data;
      const std::size_t stb_size = layout.empty_idat_first ? stripped.size() : size;
      const codec_detail::StbStatus status =
          codec_detail::stb_decode_png(stb_data, static_cast<int>(stb_size), channels, &decoded);
      if (!status.ok) return stb_failure(format, status.reason, layout);
    }
  } else {
    const codec_detail::JpegStatus status =
        codec_detail::decode_jpeg_rgb(data, size, layout.jpeg, &decoded, options.max_threads);
    if (!status.ok) return jpeg_failure(status, layout);
  }

  Image image;
  image.width = decoded.width;
  image.height = decoded.height;
  image.channels = channels;
  image.pixels = std::move(decoded.pixels);
  return image;
}

}  // namespace rvae
