// The latent side of tiled decode: the caller's latents as one [B, C, T, h, w] grid whatever
// their form, cut into tiles in the caller's form, and downsampled for the colour reference.
#pragma once

#include <cstddef>
#include <cstdint>

#include "rvae/error.hpp"
#include "rvae/options.hpp"
#include "rvae/tensor.hpp"

namespace rvae::detail {

/// How the caller's latents are laid out.
enum class LatentForm { kImage, kPacked, kVideo };

/// The latents as [B, C, T, h, w] bytes (T = 1 for images); packed input is unpacked into an
/// owned copy. Row-major, any float dtype.
class LatentGrid {
 public:
  /// Reads the form from the shape: 4-D image, 5-D video, 3-D packed (needs options.height and
  /// width). InvalidArgument for anything else.
  static Result<LatentGrid> from(const TensorView& latents, const DecodeOptions& options);

  LatentForm form() const noexcept { return form_; }
  DType dtype() const noexcept { return dtype_; }
  std::int64_t batch() const noexcept { return batch_; }
  std::int64_t channels() const noexcept { return channels_; }
  std::int64_t frames() const noexcept { return frames_; }
  int height() const noexcept { return height_; }
  int width() const noexcept { return width_; }

  /// The latents of rows [y, y + h) and columns [x, x + w), in the caller's form (packed tiles
  /// for packed input: h and w must then be even). `options` gets the tile's height/width.
  Result<Tensor> crop(int y, int x, int h, int w, DecodeOptions& options) const;
  /// The whole latent box-averaged by `factor` (each output pixel the mean of up to factor x
  /// factor inputs), in the caller's form and dtype; `options` gets its height/width.
  Result<Tensor> downsample(int factor, DecodeOptions& options) const;
  /// The smallest integer factor that brings the output within `max_side` pixels a side (sides
  /// kept even for packed latents).
  int downsample_factor(int max_side) const noexcept;

 private:
  Result<Tensor> in_form(Tensor grid, DecodeOptions& options) const;

  LatentForm form_ = LatentForm::kImage;
  DType dtype_ = DType::kFloat32;
  std::int64_t batch_ = 0, channels_ = 0, frames_ = 1;
  int height_ = 0, width_ = 0;
  const std::uint8_t* data_ = nullptr;
  Tensor unpacked_;  // owns data_ for packed input
};

}  // namespace rvae::detail
