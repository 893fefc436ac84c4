// Cropping and downsampling work on raw bytes of any element size (crop) or through float32
// (downsample), so tiles keep the caller's dtype bit for bit.
#include "tiling/tile_latents.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/try.hpp"
#include "tiling/tile_plan.hpp"

namespace rvae::detail {
namespace {

Error invalid(const std::string& message) {
  return Error(ErrorCode::kInvalidArgument, message);
}

}  // namespace

Result<LatentGrid> LatentGrid::from(const TensorView& latents, const DecodeOptions& options) {
  RVAE_TRY(latents.validate());
  if (latents.dtype == DType::kUInt8)
    return invalid("latents must be float16, bfloat16 or float32");
  LatentGrid grid;
  grid.dtype_ = latents.dtype;
  const Shape& s = latents.shape;
  if (s.size() == 3) {
    if (!options.height || !options.width) {
      return invalid("packed latents " + shape_to_string(s) + " need options.height and width");
    }
    RVAE_ASSIGN_OR_RETURN(grid.unpacked_, unpack_latents(latents, *options.height, *options.width));
    grid.form_ = LatentForm::kPacked;
    grid.data_ = grid.unpacked_.data();
    const Shape& u = grid.unpacked_.shape();
    grid.batch_ = u[0];
    grid.channels_ = u[1];
    grid.height_ = static_cast<int>(u[2]);
    grid.width_ = static_cast<int>(u[3]);
    return grid;
  }
  if (s.size() != 4 && s.size() != 5) {
    return invalid(
        "tiled decode needs [B,C,h,w], packed [B,L,4C] or video [B,C,T,h,w] latents; got " +
        shape_to_string(s));
  }
  grid.form_ = s.size() == 5 ? LatentForm::kVideo : LatentForm::kImage;
  grid.data_ = static_cast<const std::uint8_t*>(latents.data);
  grid.batch_ = s[0];
  grid.channels_ = s[1];
  grid.frames_ = s.size() == 5 ? s[2] : 1;
  grid.height_ = static_cast<int>(s[s.size() - 2]);
  grid.width_ = static_cast<int>(s[s.size() - 1]);
  return grid;
}

Result<Tensor> LatentGrid::crop(int y, int x, int h, int w, DecodeOptions& options) const {
  const std::size_t element = dtype_size(dtype_);
  const auto planes = static_cast<std::size_t>(batch_ * channels_ * frames_);
  Result<Tensor> tile = Tensor::zeros({batch_, channels_, frames_, h, w}, dtype_);
  if (!tile) return tile;
  const std::size_t src_row = static_cast<std::size_t>(width_) * element;
  const std::size_t src_plane = src_row * static_cast<std::size_t>(height_);
  const std::size_t dst_row = static_cast<std::size_t>(w) * element;
  std::uint8_t* dst = tile->data();
  for (std::size_t p = 0; p < planes; ++p) {
    const std::uint8_t* plane = data_ + p * src_plane;
    for (int row = 0; row < h; ++row) {
      std::memcpy(dst,
                  plane + static_cast<std::size_t>(y + row) * src_row +
                      static_cast<std::size_t>(x) * element,
                  dst_row);
      dst += dst_row;
    }
  }
  return in_form(std::move(tile).value(), options);
}

int LatentGrid::downsample_factor(int max_side) const noexcept {
  const int max_latent = std::max(1, max_side / 8);
  for (int factor = 1;; ++factor) {
    int h = ceil_div(height_, factor);
    int w = ceil_div(width_, factor);
    if (form_ == LatentForm::kPacked) {
      h += h % 2;
      w += w % 2;
    }
    if (h <= max_latent && w <= max_latent) return factor;
  }
}

Result<Tensor> LatentGrid::downsample(int factor, DecodeOptions& options) const {
  int h = ceil_div(height_, factor);
  int w = ceil_div(width_, factor);
  const int out_h = form_ == LatentForm::kPacked ? h + h % 2 : h;
  const int out_w = form_ == LatentForm::kPacked ? w + w % 2 : w;
  const auto planes = static_cast<std::size_t>(batch_ * channels_ * frames_);
  const std::size_t plane_in = static_cast<std::size_t>(height_) * static_cast<std::size_t>(width_);
  TensorView source{data_,
                    planes * plane_in * dtype_size(dtype_),
                    {batch_ * channels_ * frames_, height_, width_},
                    dtype_};
  Result<Tensor> floats = convert(source, DType::kFloat32);
  if (!floats) return floats;
  std::vector<float> out(planes * static_cast<std::size_t>(out_h) *
                         static_cast<std::size_t>(out_w));
  const float* in = floats->data_as<float>();
  for (std::size_t p = 0; p < planes; ++p) {
    for (int oy = 0; oy < out_h; ++oy) {
      // A padding row (packed latents need even sides) repeats the last real one.
      const int by = std::min(oy, h - 1);
      const int y0 = by * factor, y1 = std::min(height_, y0 + factor);
      for (int ox = 0; ox < out_w; ++ox) {
        const int bx = std::min(ox, w - 1);
        const int x0 = bx * factor, x1 = std::min(width_, x0 + factor);
        double sum = 0.0;
        for (int yy = y0; yy < y1; ++yy)
          for (int xx = x0; xx < x1; ++xx)
            sum += in[p * plane_in + static_cast<std::size_t>(yy * width_ + xx)];
        out[(p * static_cast<std::size_t>(out_h) + static_cast<std::size_t>(oy)) *
                static_cast<std::size_t>(out_w) +
            static_cast<std::size_t>(ox)] = static_cast<float>(sum / ((y1 - y0) * (x1 - x0)));
      }
    }
  }
  Result<Tensor> small = Tensor::from_floats({batch_, channels_, frames_, out_h, out_w}, out);
  if (!small) return small;
  Result<Tensor> typed = convert(small->view(), dtype_);
  if (!typed) return typed;
  return in_form(std::move(typed).value(), options);
}

Result<Tensor> LatentGrid::in_form(Tensor grid, DecodeOptions& options) const {
  const Shape s = grid.shape();  // [B, C, T, h, w]
  // The server reads height/width only for packed latents; a caller's values for the whole
  // image would be wrong for a tile.
  options.height.reset();
  options.width.reset();
  if (form_ == LatentForm::kVideo) return grid;
  Bytes bytes = std::move(grid).release_bytes();
  Result<Tensor> image = Tensor::from_bytes({s[0], s[1], s[3], s[4]}, dtype_, std::move(bytes));
  if (!image || form_ == LatentForm::kImage) return image;
  options.height = static_cast<int>(s[3] * 8);
  options.width = static_cast<int>(s[4] * 8);
  return pack_latents(image->view());
}

}  // namespace rvae::detail
