// Cropping copies bytes (tiles keep the caller's values exactly); downsampling averages in double
// and rounds back to the caller's dtype.
#include "tiling/tile_images.hpp"

#include <algorithm>
#include <cmath>
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

Result<void> check_sides(int height, int width) {
  if (height % 8 != 0 || width % 8 != 0) {
    return invalid("tiled encode needs sides that are multiples of 8 pixels, got " +
                   std::to_string(width) + "x" + std::to_string(height));
  }
  return {};
}

}  // namespace

Result<PixelGrid> PixelGrid::from(const Image& image) {
  RVAE_TRY(image.validate());
  RVAE_TRY(check_sides(image.height, image.width));
  PixelGrid grid;
  if (image.channels != 3) {
    grid.rgb_.emplace(to_rgb(image));
  } else {
    grid.image_ = &image;
  }
  grid.height_ = image.height;
  grid.width_ = image.width;
  return grid;
}

Result<PixelGrid> PixelGrid::from(const TensorView& pixels) {
  RVAE_TRY(pixels.validate());
  const Shape& s = pixels.shape;
  if (s.size() != 4 || s[1] != 3) {
    return invalid("tiled encode needs pixel tensors [B,3,H,W]; got " + shape_to_string(s));
  }
  RVAE_TRY(check_sides(static_cast<int>(s[2]), static_cast<int>(s[3])));
  PixelGrid grid;
  grid.tensor_ = pixels;
  grid.batch_ = s[0];
  grid.height_ = static_cast<int>(s[2]);
  grid.width_ = static_cast<int>(s[3]);
  return grid;
}

double PixelGrid::at(std::int64_t b, int k, int y, int x) const noexcept {
  if (image() != nullptr) {
    return image()->pixels[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) +
                            static_cast<std::size_t>(x)) *
                               3 +
                           static_cast<std::size_t>(k)];
  }
  const std::size_t index = ((static_cast<std::size_t>(b) * 3 + static_cast<std::size_t>(k)) *
                                 static_cast<std::size_t>(height_) +
                             static_cast<std::size_t>(y)) *
                                static_cast<std::size_t>(width_) +
                            static_cast<std::size_t>(x);
  const auto* base = static_cast<const std::uint8_t*>(tensor_.data);
  switch (tensor_.dtype) {
    case DType::kUInt8:
      return base[index];
    case DType::kFloat32: {
      float v;
      std::memcpy(&v, base + index * 4, 4);
      return v;
    }
    case DType::kFloat16:
    case DType::kBFloat16: {
      std::uint16_t bits;
      std::memcpy(&bits, base + index * 2, 2);
      return tensor_.dtype == DType::kFloat16 ? float16_to_float32(bits)
                                              : bfloat16_to_float32(bits);
    }
  }
  return 0.0;
}

Result<EncodeInput> PixelGrid::crop(int y, int x, int h, int w) const {
  EncodeInput input;
  if (image() != nullptr) {
    Image tile;
    tile.width = w;
    tile.height = h;
    tile.channels = 3;
    tile.pixels.resize(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3);
    const std::size_t row = static_cast<std::size_t>(w) * 3;
    for (int r = 0; r < h; ++r) {
      std::memcpy(tile.pixels.data() + static_cast<std::size_t>(r) * row,
                  image()->pixels.data() +
                      (static_cast<std::size_t>(y + r) * static_cast<std::size_t>(width_) +
                       static_cast<std::size_t>(x)) *
                          3,
                  row);
    }
    input.image = std::move(tile);
    return input;
  }
  const std::size_t element = dtype_size(tensor_.dtype);
  RVAE_ASSIGN_OR_RETURN(Tensor tile, Tensor::zeros({batch_, 3, h, w}, tensor_.dtype));
  const auto* base = static_cast<const std::uint8_t*>(tensor_.data);
  std::uint8_t* dst = tile.data();
  const std::size_t row = static_cast<std::size_t>(w) * element;
  for (std::int64_t p = 0; p < batch_ * 3; ++p) {
    for (int r = 0; r < h; ++r) {
      const std::size_t src = ((static_cast<std::size_t>(p) * static_cast<std::size_t>(height_) +
                                static_cast<std::size_t>(y + r)) *
                                   static_cast<std::size_t>(width_) +
                               static_cast<std::size_t>(x)) *
                              element;
      std::memcpy(dst, base + src, row);
      dst += row;
    }
  }
  input.tensor = std::move(tile);
  return input;
}

int PixelGrid::downsample_factor(int max_side) const noexcept {
  const int max_latent = std::max(1, max_side / 8);
  for (int factor = 1;; ++factor) {
    if (ceil_div(height_ / 8, factor) <= max_latent && ceil_div(width_ / 8, factor) <= max_latent)
      return factor;
  }
}

Result<EncodeInput> PixelGrid::downsample(int factor) const {
  // A latent pixel of the reference stands for factor x factor latent pixels of the whole, so
  // its 8x8 pixel block is the average of a (8 * factor)^2 block here.
  const int out_h = ceil_div(height_ / 8, factor) * 8;
  const int out_w = ceil_div(width_ / 8, factor) * 8;
  const std::size_t plane = static_cast<std::size_t>(out_h) * static_cast<std::size_t>(out_w);
  std::vector<float> values(static_cast<std::size_t>(batch_) * 3 * plane);
  for (std::int64_t b = 0; b < batch_; ++b) {
    for (int k = 0; k < 3; ++k) {
      for (int oy = 0; oy < out_h; ++oy) {
        const int y0 = std::min(oy * factor, height_ - 1);
        const int y1 = std::min(height_, y0 + factor);
        for (int ox = 0; ox < out_w; ++ox) {
          const int x0 = std::min(ox * factor, width_ - 1);
          const int x1 = std::min(width_, x0 + factor);
          double sum = 0;
          for (int yy = y0; yy < y1; ++yy)
            for (int xx = x0; xx < x1; ++xx)
              sum += at(b, k, yy, xx);
          values[(static_cast<std::size_t>(b) * 3 + static_cast<std::size_t>(k)) * plane +
                 static_cast<std::size_t>(oy) * static_cast<std::size_t>(out_w) +
                 static_cast<std::size_t>(ox)] = static_cast<float>(sum / ((y1 - y0) * (x1 - x0)));
        }
      }
    }
  }
  EncodeInput input;
  if (image() != nullptr) {
    Image small;
    small.width = out_w;
    small.height = out_h;
    small.channels = 3;
    small.pixels.resize(plane * 3);
    for (std::size_t i = 0; i < plane; ++i)
      for (std::size_t k = 0; k < 3; ++k)
        small.pixels[i * 3 + k] =
            static_cast<std::uint8_t>(std::clamp(std::lround(values[k * plane + i]), 0L, 255L));
    input.image = std::move(small);
    return input;
  }
  RVAE_ASSIGN_OR_RETURN(Tensor floats, Tensor::from_floats({batch_, 3, out_h, out_w}, values));
  RVAE_ASSIGN_OR_RETURN(input.tensor, convert(floats.view(), tensor_.dtype));
  return input;
}

}  // namespace rvae::detail
