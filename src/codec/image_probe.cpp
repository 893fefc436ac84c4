#include "codec/image_probe.hpp"

#include "codec/image_layout.hpp"

namespace rvae::codec_detail {

std::optional<DeclaredImage> declared_image(const std::uint8_t* data, std::size_t size) {
  const std::optional<ImageFormat> format = sniff_image_format(data, size);
  if (!format) return std::nullopt;
  const ImageLayout layout =
      *format == ImageFormat::kPng ? scan_png(data, size) : scan_jpeg(data, size);
  if (!layout.has_dimensions) return std::nullopt;
  return DeclaredImage{*format, layout.width, layout.height};
}

}  // namespace rvae::codec_detail
