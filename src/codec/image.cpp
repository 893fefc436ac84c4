#include "rvae/image.hpp"

#include <cstring>
#include <string>

namespace rvae {
namespace {

constexpr int kMaxSide = 65535;
constexpr std::uint8_t kPngSignature[8] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};

}  // namespace

Result<void> ImageView::validate() const {
  if (width < 1 || width > kMaxSide || height < 1 || height > kMaxSide) {
    return Error(ErrorCode::kInvalidArgument, "image size " + std::to_string(width) + "x" +
                                                  std::to_string(height) +
                                                  " is outside 1..65535 per side");
  }
  if (channels != 3 && channels != 4) {
    return Error(ErrorCode::kInvalidArgument,
                 "image has " + std::to_string(channels) + " channels; expected 3 or 4");
  }
  const std::uint64_t expected = std::uint64_t{static_cast<std::uint32_t>(width)} *
                                 static_cast<std::uint32_t>(height) *
                                 static_cast<std::uint32_t>(channels);
  if (size_bytes != expected) {
    return Error(ErrorCode::kInvalidArgument,
                 "image pixel buffer has " + std::to_string(size_bytes) + " bytes; " +
                     std::to_string(width) + "x" + std::to_string(height) + "x" +
                     std::to_string(channels) + " needs " + std::to_string(expected));
  }
  if (pixels == nullptr) return Error(ErrorCode::kInvalidArgument, "image pixels are NULL");
  return {};
}

Result<void> Image::validate() const {
  return ImageView(*this).validate();
}

std::optional<ImageFormat> sniff_image_format(const std::uint8_t* data, std::size_t size) noexcept {
  if (data == nullptr) return std::nullopt;
  if (size >= sizeof(kPngSignature) &&
      std::memcmp(data, kPngSignature, sizeof(kPngSignature)) == 0) {
    return ImageFormat::kPng;
  }
  if (size >= 2 && data[0] == 0xFF && data[1] == 0xD8) return ImageFormat::kJpeg;
  return std::nullopt;
}

Image to_rgb(ImageView image) {
  if (image.channels != 4) {
    Image copy{image.width, image.height, image.channels, {}};
    if (image.pixels != nullptr) copy.pixels.assign(image.pixels, image.pixels + image.size_bytes);
    return copy;
  }
  Image rgb;
  rgb.width = image.width;
  rgb.height = image.height;
  rgb.channels = 3;
  // Converts only whole pixels present in the buffer, so an inconsistent Image cannot cause an
  // out-of-bounds read.
  const std::size_t pixel_count = image.pixels != nullptr ? image.size_bytes / 4 : 0;
  rgb.pixels.resize(pixel_count * 3);
  const std::uint8_t* src = image.pixels;
  std::uint8_t* dst = rgb.pixels.data();
  for (std::size_t i = 0; i < pixel_count; ++i) {
    dst[0] = src[0];
    dst[1] = src[1];
    dst[2] = src[2];
    src += 4;
    dst += 3;
  }
  return rgb;
}

}  // namespace rvae
