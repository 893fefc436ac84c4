// The pixel side of tiled encode: the caller's image or pixel tensor cut into tiles in the same
// form, and downsampled for the colour reference.
#pragma once

#include <cstdint>
#include <optional>

#include "rvae/error.hpp"
#include "rvae/image.hpp"
#include "rvae/tensor.hpp"

namespace rvae::detail {

/// One encode request's input: an image (sent as PNG) or a pixel tensor [B,3,H,W].
struct EncodeInput {
  std::optional<Image> image;
  Tensor tensor;  ///< When `image` is empty.
};

/// The caller's pixels, borrowed: an RGB(A) image or a [B,3,H,W] tensor of any dtype.
class PixelGrid {
 public:
  /// An image (alpha is dropped, as the encoder sees RGB).
  static Result<PixelGrid> from(const Image& image);
  /// A [B,3,H,W] tensor.
  static Result<PixelGrid> from(const TensorView& pixels);

  std::int64_t batch() const noexcept { return batch_; }
  int height() const noexcept { return height_; }
  int width() const noexcept { return width_; }

  /// Pixels of rows [y, y + h) and columns [x, x + w), in the caller's form.
  Result<EncodeInput> crop(int y, int x, int h, int w) const;
  /// The whole input box-averaged by `factor`, padded (edge pixels repeated) to a multiple of 8
  /// a side, in the caller's form.
  Result<EncodeInput> downsample(int factor) const;
  /// The smallest integer factor that brings the input within `max_side` pixels a side.
  int downsample_factor(int max_side) const noexcept;

 private:
  // Value of item b, channel k at (y, x); uint8 levels for images and uint8 tensors.
  double at(std::int64_t b, int k, int y, int x) const noexcept;

  // The image read: the owned RGB copy when the caller's had alpha (looked up on each use, not
  // stored as a pointer, so a moved PixelGrid still reads its own copy), else the caller's.
  const Image* image() const noexcept { return rgb_ ? &*rgb_ : image_; }

  std::optional<Image> rgb_;  // owned RGB copy when the caller's image has alpha
  const Image* image_ = nullptr;
  TensorView tensor_;
  std::int64_t batch_ = 1;
  int height_ = 0, width_ = 0;
};

}  // namespace rvae::detail
