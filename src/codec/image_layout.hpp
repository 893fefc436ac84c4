// Structural scans of PNG and JPEG files: read the dimensions without decoding and find
// truncation or corruption that stb would miss or report vaguely. Bounds-checked; no allocation
// beyond the error message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "codec/jpeg_segments.hpp"
#include "rvae/bytes.hpp"
#include "rvae/error.hpp"

namespace rvae::codec_detail {

/// What a scan learned. The dimensions are valid when `has_dimensions`, even when the file has
/// a problem further on, so callers can refuse an oversized image before anything else.
struct ImageLayout {
  bool has_dimensions = false;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  /// PNG: the colour type has alpha or a tRNS chunk is present (stb then yields alpha).
  bool has_alpha = false;
  /// PNG: an IDAT with no data comes before the first one with data. stb copies such a chunk
  /// from a null buffer (undefined behaviour, if harmless), so decode_image hands stb a copy
  /// without the empty IDATs (png_without_empty_idats).
  bool empty_idat_first = false;
  /// JPEG: the number of components in the frame header (3 YCbCr, 1 gray, 4 CMYK/YCCK).
  int components = 0;
  /// JPEG: the header up to the first scan, for the two-thread decode (jpeg_split.hpp).
  JpegHeader jpeg;
  /// The first problem found: DataLoss when the data ends early, InvalidArgument otherwise.
  std::optional<Error> problem;
};

/// Walks the chunks from the signature to IEND (data after IEND is ignored). The caller has
/// checked the 8-byte signature.
ImageLayout scan_png(const std::uint8_t* data, std::size_t size);

/// The PNG with its zero-length IDAT chunks left out (the image is the same: IDAT data is
/// concatenated). `data` must have passed scan_png without a problem.
Bytes png_without_empty_idats(const std::uint8_t* data, std::size_t size);

/// Walks the markers from SOI to EOI, skipping entropy-coded data (data after EOI is ignored),
/// and checks every table and header segment a decoder trusts (jpeg_segments.hpp).
/// The caller has checked the FF D8 start.
ImageLayout scan_jpeg(const std::uint8_t* data, std::size_t size);

}  // namespace rvae::codec_detail
