#include "codec/image_probe.hpp"

namespace rvae::codec_detail {

std::optional<ScannedImage> scan_image(const std::uint8_t* data, std::size_t size) {
  const std::optional<ImageFormat> format = sniff_image_format(data, size);
  if (!format) return std::nullopt;
  ScannedImage scanned;
  scanned.format = *format;
  scanned.layout = *format == ImageFormat::kPng ? scan_png(data, size) : scan_jpeg(data, size);
  return scanned;
}

std::optional<DeclaredImage> declared_image(const std::uint8_t* data, std::size_t size) {
  const std::optional<ScannedImage> scanned = scan_image(data, size);
  if (!scanned || !scanned->layout.has_dimensions) return std::nullopt;
  return DeclaredImage{scanned->format, scanned->layout.width, scanned->layout.height};
}

}  // namespace rvae::codec_detail
