// The dimensions an encoded image declares, read by the structural scan without decoding: lets
// a caller that knows what it asked for refuse a mismatched image before paying for its pixels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "rvae/image.hpp"

namespace rvae::codec_detail {

/// What a PNG's IHDR or a JPEG's frame header says.
struct DeclaredImage {
  ImageFormat format = ImageFormat::kPng;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
};

/// The declared dimensions of a PNG or JPEG, or nullopt when `data` is neither or its header
/// cannot be read (decode_image then reports why). Reads headers only; allocates nothing for
/// pixels, whatever the image claims.
std::optional<DeclaredImage> declared_image(const std::uint8_t* data, std::size_t size);

}  // namespace rvae::codec_detail
