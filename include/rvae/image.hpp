// Images: 8-bit interleaved pixels, and PNG/JPEG decode and encode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "rvae/bytes.hpp"
#include "rvae/error.hpp"
#include "rvae/export.h"

namespace rvae {

/// An 8-bit image, rows top to bottom, channels interleaved (HWC): RGB (3) or RGBA (4).
struct RVAE_API Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  Bytes pixels;  ///< width * height * channels bytes.

  /// Checks 1..65535 per side, channels 3 or 4, and pixels.size().
  Result<void> validate() const;
};

/// Borrowed pixels in Image's layout, so encoding a caller's frame (a video frame, a buffer from
/// C) needs no copy. The caller keeps `pixels` alive while the view is used. An Image converts
/// to it implicitly. Not validated at construction; validate() or the functions taking it check.
struct RVAE_API ImageView {
  int width = 0;
  int height = 0;
  int channels = 0;
  const std::uint8_t* pixels = nullptr;  ///< width * height * channels bytes.
  std::size_t size_bytes = 0;

  ImageView() = default;
  ImageView(int w, int h, int c, const std::uint8_t* data, std::size_t size) noexcept
      : width(w), height(h), channels(c), pixels(data), size_bytes(size) {}
  ImageView(const Image& image) noexcept  // NOLINT(google-explicit-constructor): by design
      : width(image.width),
        height(image.height),
        channels(image.channels),
        pixels(image.pixels.data()),
        size_bytes(image.pixels.size()) {}

  /// The same checks as Image::validate, and non-NULL pixels.
  Result<void> validate() const;
};

/// The two encodings the protocol uses.
enum class ImageFormat { kJpeg, kPng };

/// Recognises PNG (89 50 4E 47 0D 0A 1A 0A) or JPEG (FF D8) by magic bytes, as the upstream
/// client does.
RVAE_API std::optional<ImageFormat> sniff_image_format(const std::uint8_t* data,
                                                       std::size_t size) noexcept;

/// Limits for decoding untrusted images.
struct ImageDecodeOptions {
  /// Refuse images with more pixels than this before allocating (decompression bombs).
  std::uint64_t max_pixels = 8192ull * 8192ull;
  /// Threads one decode may use. 2 (the default) lets a large sequential JPEG decode on a
  /// second, short-lived thread while fewer JPEG decodes run than the process has cores (the
  /// pixels are the same); 1 keeps every decode on the calling thread.
  int max_threads = 2;
};

/// Decodes a PNG or JPEG from memory to 8-bit RGB (or RGBA when the file has alpha). 16-bit,
/// grayscale, palette and progressive inputs are converted. Errors: InvalidArgument for
/// unsupported (e.g. CMYK JPEG) or corrupt data, DataLoss for truncated data,
/// ResourceExhausted above max_pixels.
RVAE_API Result<Image> decode_image(const std::uint8_t* data, std::size_t size,
                                    const ImageDecodeOptions& options = {});
/// The same, decoding into `storage`'s memory: its contents are replaced and its capacity
/// reused, so a buffer an earlier image filled (e.g. one given back to Client::recycle's pool)
/// receives the pixels without the page faults of a fresh allocation.
RVAE_API Result<Image> decode_image(const std::uint8_t* data, std::size_t size,
                                    const ImageDecodeOptions& options, Bytes&& storage);
/// Reads and decodes an image file: a regular file of at most 2^31-1 bytes (a larger one is
/// ResourceExhausted before anything is read; a directory, FIFO or device InvalidArgument).
/// File errors as read_file gives them (NotFound, PermissionDenied, ...), then decode_image's.
RVAE_API Result<Image> read_image(const std::string& path, const ImageDecodeOptions& options = {});

/// PNG compression effort. Both decode to the same pixels.
enum class PngCompression {
  kFast,   ///< The default: several times faster than zlib level 6, within ~5% of its size.
  kSmall,  ///< 2-3% smaller photos than kFast, for slow links, at about 4x the encode time.
};

/// Encodes PNG (lossless).
RVAE_API Result<Bytes> encode_png(ImageView image,
                                  PngCompression compression = PngCompression::kFast);
/// Encodes baseline JPEG; quality 1..100. Alpha is dropped.
RVAE_API Result<Bytes> encode_jpeg(ImageView image, int quality = 95);
/// Writes PNG or JPEG chosen by the extension (.png, .jpg, .jpeg; case-insensitive), atomically
/// and durably as write_file does: `path` is either as before or the whole new image.
RVAE_API Result<void> write_image(const std::string& path, const Image& image,
                                  int jpeg_quality = 95);

/// Drops alpha (or copies) so the result has 3 channels.
RVAE_API Image to_rgb(ImageView image);

}  // namespace rvae
