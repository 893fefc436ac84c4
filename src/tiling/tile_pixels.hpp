// The pixel side of tiled decode: a tile's reply read as float rows in [-1, 1], whatever form it
// came in, and the output written row by row in the form the caller asked for.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rvae/error.hpp"
#include "rvae/image.hpp"
#include "rvae/options.hpp"
#include "rvae/tensor.hpp"

namespace rvae::detail {

/// Per channel, the output level of each 8-bit input level shifted by an offset (in [-1, 1]
/// units), rounded as PixelSink::write_row rounds.
using LevelTable = std::array<std::array<std::uint8_t, 256>, 3>;

/// The table for a tile shifted by `offset` (RGB): a pixel that only that tile covers, with full
/// weight, is then one lookup per sample, the same value write_row gives.
LevelTable shifted_levels(const float* offset) noexcept;

/// True when a sample at `value` (in [-1, 1]) was clipped by the decoder at -1 or 1 and a shift
/// by `offset` would move it inwards: its true value is then only known to lie between the bound
/// and the bound plus the offset (a request darker than the whole clips sooner).
bool clipped_inwards(float value, float offset) noexcept;

/// `value` shifted by `offset`, or for a sample clipped_inwards: the bound when the colour
/// reference (`reference`, the same pixel in the reference, if any) is clipped there too, else
/// the middle of the interval, which errs by at most half the offset (a downsampled reference
/// cannot place the value within it more finely).
float shift_sample(float value, float offset, const float* reference) noexcept;

/// One decode reply (uint8 images or a float tensor) as N items of height x width RGB, where an
/// item is one batch entry's image or one video frame. Owns the reply.
class TilePixels {
 public:
  /// Takes the reply. `batch` is the latents' batch size (to split a video's frames).
  /// DataLoss when the reply holds no pixels.
  static Result<TilePixels> from(DecodeOutput&& reply, std::int64_t batch);

  std::size_t items() const noexcept { return items_; }
  int height() const noexcept { return height_; }
  int width() const noexcept { return width_; }
  /// Frames per batch entry (1 for images).
  std::int64_t frames() const noexcept { return frames_; }
  /// The float dtype of a tensor reply (kUInt8 for image replies).
  DType dtype() const noexcept { return dtype_; }

  /// Writes `count` RGB triples of item `item`, row `y`, from column `x`, into `rgb` (3 * count
  /// floats, in [-1, 1]).
  void read_row(std::size_t item, int y, int x, int count, float* rgb) const noexcept;
  /// The mean RGB of item `item` over rows [y, y + h) and columns [x, x + w).
  void mean(std::size_t item, int y, int x, int h, int w, double* rgb) const;
  /// Row `y` of item `item` from column `x` as RGB bytes; only for a reply of 8-bit images
  /// (dtype() == kUInt8).
  const std::uint8_t* bytes(std::size_t item, int y, int x) const noexcept;

 private:
  DecodeOutput reply_;
  std::size_t items_ = 0;
  std::int64_t frames_ = 1;
  int height_ = 0, width_ = 0;
  DType dtype_ = DType::kUInt8;
};

/// The output of a tiled decode, allocated once (its size is the only large allocation), written
/// row by row.
class PixelSink {
 public:
  /// An output of `items` images of height x width (kUInt8/kImage), or a float tensor of
  /// `dtype` shaped [B,3,H,W] ([B,3,F,H,W] when `frames` > 1 or `video`).
  static Result<PixelSink> make(OutputType type, std::int64_t batch, std::int64_t frames,
                                bool video, int height, int width, DType dtype);

  /// Writes `count` RGB triples (in [-1, 1]; rounded to 8-bit levels for images).
  void write_row(std::size_t item, int y, int x, int count, const float* rgb) noexcept;
  /// True when the output is 8-bit images (kUInt8, kImage), which write_levels can fill.
  bool holds_bytes() const noexcept { return type_ != OutputType::kFloatTensor; }
  /// Writes `count` pixels of 8-bit RGB `source` through `table`; only when holds_bytes().
  void write_levels(std::size_t item, int y, int x, int count, const std::uint8_t* source,
                    const LevelTable& table) noexcept;
  /// The finished output (images or tensor filled; `encoded` left to the caller).
  DecodeOutput take() &&;

 private:
  OutputType type_ = OutputType::kUInt8;
  std::int64_t frames_ = 1;
  int height_ = 0, width_ = 0;
  DType dtype_ = DType::kUInt8;
  std::vector<Image> images_;
  Tensor tensor_;
};

}  // namespace rvae::detail
