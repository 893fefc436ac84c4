// Reading and writing pixels one row at a time keeps every buffer but the output small.
#include "tiling/tile_pixels.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "core/try.hpp"
#include "tensor/float_io.hpp"

namespace rvae::detail {
namespace {

// The server's own rounding of [-1, 1] to 8-bit levels (round half away from zero, which for
// the non-negative clamped value is floor(x + 0.5); std::round is a library call per sample).
std::uint8_t to_level(float value) noexcept {
  const double level = std::clamp((static_cast<double>(value) + 1.0) * 127.5, 0.0, 255.0);
  return static_cast<std::uint8_t>(level + 0.5);
}

constexpr float kLevelScale = 1.0f / 127.5f;

}  // namespace

LevelTable shifted_levels(const float* offset) noexcept {
  LevelTable table;
  for (std::size_t k = 0; k < 3; ++k) {
    for (int v = 0; v < 256; ++v) {
      // The arithmetic of read_row and a full-weight blend, so both paths agree.
      const float value = static_cast<float>(v) * kLevelScale - 1.0f;
      table[k][static_cast<std::size_t>(v)] = to_level(1.0f * (value + offset[k]));
    }
  }
  return table;
}

namespace {
constexpr float kClipBound = 1.0f - 0.5f / 127.5f;  // within half a level of -1 or 1
}  // namespace

bool clipped_inwards(float value, float offset) noexcept {
  return (value <= -kClipBound && offset > 0.0f) || (value >= kClipBound && offset < 0.0f);
}

float shift_sample(float value, float offset, const float* reference) noexcept {
  if (!clipped_inwards(value, offset)) return value + offset;
  const float bound = value > 0.0f ? 1.0f : -1.0f;
  if (reference != nullptr && std::abs(*reference) >= kClipBound &&
      (*reference > 0.0f) == (bound > 0.0f)) {
    return bound;
  }
  return bound + offset / 2.0f;
}

Result<TilePixels> TilePixels::from(DecodeOutput&& reply, std::int64_t batch) {
  TilePixels pixels;
  if (!reply.images.empty()) {
    pixels.items_ = reply.images.size();
    pixels.height_ = reply.images[0].height;
    pixels.width_ = reply.images[0].width;
    pixels.frames_ = static_cast<std::int64_t>(pixels.items_) / std::max<std::int64_t>(1, batch);
    for (const Image& image : reply.images) {
      if (image.channels != 3 || image.width != pixels.width_ || image.height != pixels.height_) {
        return Error(ErrorCode::kDataLoss, "a tile's images differ in size or are not RGB");
      }
    }
  } else if (!reply.tensor.empty()) {
    const Shape& s = reply.tensor.shape();
    if ((s.size() != 4 && s.size() != 5) || s[1] != 3 || reply.tensor.dtype() == DType::kUInt8) {
      return Error(ErrorCode::kDataLoss,
                   "a tile's tensor reply " + shape_to_string(s) + " is not [B,3,(F,)H,W] floats");
    }
    pixels.frames_ = s.size() == 5 ? s[2] : 1;
    pixels.items_ = static_cast<std::size_t>(s[0] * pixels.frames_);
    pixels.height_ = static_cast<int>(s[s.size() - 2]);
    pixels.width_ = static_cast<int>(s[s.size() - 1]);
    pixels.dtype_ = reply.tensor.dtype();
  } else {
    return Error(ErrorCode::kDataLoss, "a tile's reply holds no pixels");
  }
  pixels.reply_ = std::move(reply);
  return pixels;
}

void TilePixels::read_row(std::size_t item, int y, int x, int count, float* rgb) const noexcept {
  const auto w = static_cast<std::size_t>(width_);
  if (dtype_ == DType::kUInt8) {
    const std::uint8_t* row = reply_.images[item].pixels.data() +
                              (static_cast<std::size_t>(y) * w + static_cast<std::size_t>(x)) * 3;
    for (int i = 0; i < 3 * count; ++i)
      rgb[i] = static_cast<float>(row[i]) * kLevelScale - 1.0f;
    return;
  }
  // [B,3,F,H,W]: item = b * F + f.
  const auto frames = static_cast<std::size_t>(frames_);
  const std::size_t b = item / frames, f = item % frames;
  const std::size_t plane = static_cast<std::size_t>(height_) * w;
  const std::uint8_t* base = reply_.tensor.data();
  for (std::size_t k = 0; k < 3; ++k) {
    const std::size_t start = ((b * 3 + k) * frames + f) * plane + static_cast<std::size_t>(y) * w +
                              static_cast<std::size_t>(x);
    for (int i = 0; i < count; ++i)
      rgb[static_cast<std::size_t>(i) * 3 + k] =
          internal::load_float(dtype_, base, start + static_cast<std::size_t>(i));
  }
}

void TilePixels::mean(std::size_t item, int y, int x, int h, int w, double* rgb) const {
  const double n = static_cast<double>(h) * w;
  if (dtype_ == DType::kUInt8) {
    // Integer sums, exact, and several times faster than converting each sample: the colour
    // match measures every tile's whole interior.
    const auto width = static_cast<std::size_t>(width_);
    std::uint64_t sum[3] = {0, 0, 0};
    for (int r = y; r < y + h; ++r) {
      const std::uint8_t* p =
          reply_.images[item].pixels.data() +
          (static_cast<std::size_t>(r) * width + static_cast<std::size_t>(x)) * 3;
      std::uint32_t row[3] = {0, 0, 0};  // overflows only past 16 M pixels a row
      for (int i = 0; i < w; ++i, p += 3) {
        row[0] += p[0];
        row[1] += p[1];
        row[2] += p[2];
      }
      for (int k = 0; k < 3; ++k)
        sum[k] += row[k];
    }
    for (int k = 0; k < 3; ++k)
      rgb[k] = static_cast<double>(sum[k]) / n / 127.5 - 1.0;
    return;
  }
  std::vector<float> row(static_cast<std::size_t>(w) * 3);
  double sum[3] = {0, 0, 0};
  for (int r = y; r < y + h; ++r) {
    read_row(item, r, x, w, row.data());
    double row_sum[3] = {0, 0, 0};
    for (std::size_t i = 0; i < row.size(); i += 3) {
      row_sum[0] += row[i];
      row_sum[1] += row[i + 1];
      row_sum[2] += row[i + 2];
    }
    for (int k = 0; k < 3; ++k)
      sum[k] += row_sum[k];
  }
  for (int k = 0; k < 3; ++k)
    rgb[k] = sum[k] / n;
}

const std::uint8_t* TilePixels::bytes(std::size_t item, int y, int x) const noexcept {
  return reply_.images[item].pixels.data() +
         (static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) +
          static_cast<std::size_t>(x)) *
             3;
}

Result<PixelSink> PixelSink::make(OutputType type, std::int64_t batch, std::int64_t frames,
                                  bool video, int height, int width, DType dtype) {
  PixelSink sink;
  sink.type_ = type;
  sink.frames_ = frames;
  sink.height_ = height;
  sink.width_ = width;
  if (type == OutputType::kFloatTensor) {
    sink.dtype_ = dtype;
    Shape shape = video ? Shape{batch, 3, frames, height, width} : Shape{batch, 3, height, width};
    RVAE_ASSIGN_OR_RETURN(sink.tensor_, Tensor::zeros(std::move(shape), dtype));
    return sink;
  }
  const auto items = static_cast<std::size_t>(batch * frames);
  const std::size_t bytes = static_cast<std::size_t>(height) * static_cast<std::size_t>(width) * 3;
  sink.images_.resize(items);
  for (Image& image : sink.images_) {
    image.width = width;
    image.height = height;
    image.channels = 3;
    image.pixels.resize(bytes);
  }
  return sink;
}

void PixelSink::write_row(std::size_t item, int y, int x, int count, const float* rgb) noexcept {
  const auto w = static_cast<std::size_t>(width_);
  if (type_ != OutputType::kFloatTensor) {
    std::uint8_t* row = images_[item].pixels.data() +
                        (static_cast<std::size_t>(y) * w + static_cast<std::size_t>(x)) * 3;
    for (int i = 0; i < 3 * count; ++i)
      row[i] = to_level(rgb[i]);
    return;
  }
  const auto frames = static_cast<std::size_t>(frames_);
  const std::size_t b = item / frames, f = item % frames;
  const std::size_t plane = static_cast<std::size_t>(height_) * w;
  std::uint8_t* base = tensor_.data();
  for (std::size_t k = 0; k < 3; ++k) {
    const std::size_t start = ((b * 3 + k) * frames + f) * plane + static_cast<std::size_t>(y) * w +
                              static_cast<std::size_t>(x);
    for (int i = 0; i < count; ++i)
      internal::store_float(dtype_, base, start + static_cast<std::size_t>(i),
                            rgb[static_cast<std::size_t>(i) * 3 + k]);
  }
}

void PixelSink::write_levels(std::size_t item, int y, int x, int count, const std::uint8_t* source,
                             const LevelTable& table) noexcept {
  std::uint8_t* row = images_[item].pixels.data() +
                      (static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) +
                       static_cast<std::size_t>(x)) *
                          3;
  for (int i = 0; i < count; ++i, row += 3, source += 3) {
    row[0] = table[0][source[0]];
    row[1] = table[1][source[1]];
    row[2] = table[2][source[2]];
  }
}

DecodeOutput PixelSink::take() && {
  DecodeOutput out;
  out.type = type_;
  out.images = std::move(images_);
  out.tensor = std::move(tensor_);
  return out;
}

}  // namespace rvae::detail
