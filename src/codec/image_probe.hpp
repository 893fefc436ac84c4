// The dimensions an encoded image declares, read by the structural scan without decoding: lets
// a caller that knows what it asked for refuse a mismatched image before paying for its pixels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "codec/image_layout.hpp"
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

/// A PNG or JPEG after its structural scan (scan_png, scan_jpeg): the declared size, and what
/// the decoders take from the header, so a caller that checks the size first scans once.
struct ScannedImage {
  ImageFormat format = ImageFormat::kPng;
  ImageLayout layout;
};

/// Sniffs and scans; nullopt when `data` is neither a PNG nor a JPEG. Allocates nothing for
/// pixels.
std::optional<ScannedImage> scan_image(const std::uint8_t* data, std::size_t size);

/// decode_image for bytes scan_image has read into `scanned`.
Result<Image> decode_scanned_image(const std::uint8_t* data, std::size_t size,
                                   const ScannedImage& scanned, const ImageDecodeOptions& options,
                                   Bytes&& storage);

}  // namespace rvae::codec_detail
