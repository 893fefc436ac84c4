// Crop and Lanczos-3 resize. The resize is two 1-D passes (rows, then columns) with weights
// computed once per output coordinate, as PIL does; its results match PIL's LANCZOS to within
// rounding.
#include "rvae/image_resize.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace rvae {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kLobes = 3.0;
constexpr int kMaxSide = 65536;

double sinc(double x) {
  if (x == 0.0) return 1.0;
  return std::sin(kPi * x) / (kPi * x);
}

double lanczos(double x) {
  return std::abs(x) < kLobes ? sinc(x) * sinc(x / kLobes) : 0.0;
}

// For each output coordinate: the first input coordinate it reads and the normalised weights.
struct Taps {
  std::vector<int> first;
  std::vector<int> count;
  std::vector<double> weights;  // `stride` per output coordinate.
  int stride = 0;
};

Taps make_taps(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  // Shrinking widens the filter so every input pixel contributes (area-like); enlarging keeps it.
  const double filter_scale = std::max(scale, 1.0);
  const double support = kLobes * filter_scale;
  Taps taps;
  taps.stride = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.first.resize(static_cast<std::size_t>(out_size));
  taps.count.resize(static_cast<std::size_t>(out_size));
  taps.weights.assign(static_cast<std::size_t>(out_size) * static_cast<std::size_t>(taps.stride),
                      0.0);
  for (int i = 0; i < out_size; ++i) {
    const double centre = (i + 0.5) * scale;
    const int first = std::max(0, static_cast<int>(centre - support + 0.5));
    const int last = std::min(in_size, static_cast<int>(centre + support + 0.5));
    const int count = std::min(last - first, taps.stride);
    double* weights = &taps.weights[static_cast<std::size_t>(i) * taps.stride];
    double total = 0;
    for (int k = 0; k < count; ++k) {
      weights[k] = lanczos((first + k - centre + 0.5) / filter_scale);
      total += weights[k];
    }
    for (int k = 0; k < count && total != 0.0; ++k)
      weights[k] /= total;
    taps.first[static_cast<std::size_t>(i)] = first;
    taps.count[static_cast<std::size_t>(i)] = count;
  }
  return taps;
}

std::size_t offset(int x, int y, int width, int channels) {
  return (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
          static_cast<std::size_t>(x)) *
         static_cast<std::size_t>(channels);
}

}  // namespace

Result<Image> crop_image(const Image& image, int left, int top, int width, int height) {
  if (width <= 0 || height <= 0 || left < 0 || top < 0 || left > image.width - width ||
      top > image.height - height) {
    return Error(ErrorCode::kInvalidArgument,
                 "crop " + std::to_string(width) + "x" + std::to_string(height) + " at " +
                     std::to_string(left) + "," + std::to_string(top) + " is outside the " +
                     std::to_string(image.width) + "x" + std::to_string(image.height) + " image");
  }
  const int channels = image.channels;
  Image out{width, height, channels, Bytes(offset(0, height, width, channels))};
  const std::size_t row_bytes =
      static_cast<std::size_t>(width) * static_cast<std::size_t>(channels);
  for (int y = 0; y < height; ++y) {
    const std::uint8_t* source = &image.pixels[offset(left, top + y, image.width, channels)];
    std::copy(source, source + row_bytes, &out.pixels[offset(0, y, width, channels)]);
  }
  return out;
}

Result<Image> resize_image_lanczos(const Image& image, int width, int height) {
  if (width <= 0 || height <= 0 || width > kMaxSide || height > kMaxSide || image.width <= 0 ||
      image.height <= 0) {
    return Error(ErrorCode::kInvalidArgument, "cannot resize a " + std::to_string(image.width) +
                                                  "x" + std::to_string(image.height) +
                                                  " image to " + std::to_string(width) + "x" +
                                                  std::to_string(height));
  }
  const int channels = image.channels;
  // Rows first: image.width -> width, kept in floating point for the second pass.
  const Taps across = make_taps(image.width, width);
  std::vector<float> rows(offset(0, image.height, width, channels));
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double* weights = &across.weights[static_cast<std::size_t>(x) * across.stride];
      const int first = across.first[static_cast<std::size_t>(x)];
      for (int c = 0; c < channels; ++c) {
        double sum = 0;
        for (int k = 0; k < across.count[static_cast<std::size_t>(x)]; ++k) {
          sum += weights[k] * image.pixels[offset(first + k, y, image.width, channels) +
                                           static_cast<std::size_t>(c)];
        }
        rows[offset(x, y, width, channels) + static_cast<std::size_t>(c)] = static_cast<float>(sum);
      }
    }
  }
  const Taps down = make_taps(image.height, height);
  Image out{width, height, channels, Bytes(offset(0, height, width, channels))};
  for (int y = 0; y < height; ++y) {
    const double* weights = &down.weights[static_cast<std::size_t>(y) * down.stride];
    const int first = down.first[static_cast<std::size_t>(y)];
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        double sum = 0;
        for (int k = 0; k < down.count[static_cast<std::size_t>(y)]; ++k) {
          sum += weights[k] *
                 rows[offset(x, first + k, width, channels) + static_cast<std::size_t>(c)];
        }
        const double level = std::clamp(std::round(sum), 0.0, 255.0);
        out.pixels[offset(x, y, width, channels) + static_cast<std::size_t>(c)] =
            static_cast<std::uint8_t>(level);
      }
    }
  }
  return out;
}

}  // namespace rvae
