// Synthetic images and tensors for tests, one definition each. Deterministic, so a failure
// reproduces; none of them is an expected value (those come from an independent source).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>

#include "rvae/image.hpp"
#include "rvae/tensor.hpp"

namespace rvae::testing_support {

/// An image whose every sample is `value`.
inline Image filled_image(int width, int height, int channels, std::uint8_t value) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.assign(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                          static_cast<std::size_t>(channels),
                      value);
  return image;
}

/// RGB ramps along x and y, a different slope per channel, wrapping at 256 (so it has hard
/// edges): neighbouring pixels differ, so a shifted, cut or reordered image is noticed. `seed`
/// shifts the levels, to tell two images apart.
inline Image gradient_image(int width, int height, int seed = 0) {
  Image image = filled_image(width, height, 3, 0);
  std::size_t i = 0;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c)
        image.pixels[i++] = static_cast<std::uint8_t>((x * (c + 1) + y * 2 + seed * 37) % 256);
    }
  }
  return image;
}

/// A smooth photo-like RGB image: gentle gradients and long waves, no edges, so regions have
/// different means (what tiling must reconcile) and resampling changes little.
inline Image smooth_image(int width, int height) {
  Image image = filled_image(width, height, 3, 0);
  std::size_t i = 0;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double u = static_cast<double>(x) / width, v = static_cast<double>(y) / height;
      for (int k = 0; k < 3; ++k) {
        const double value = 128 + 70 * (u - 0.5) * (k - 1) + 60 * (v - 0.5) +
                             40 * std::sin(6.28 * (1.2 * u + 0.8 * v) + k);
        image.pixels[i++] = static_cast<std::uint8_t>(std::lround(std::clamp(value, 0.0, 255.0)));
      }
    }
  }
  return image;
}

/// A tensor whose bytes are all different within any 256 (not zeros, not one repeated element),
/// so a body that was reordered or cut is noticed. Its values are arbitrary.
inline Tensor patterned_tensor(Shape shape, DType dtype) {
  Tensor tensor = Tensor::zeros(std::move(shape), dtype).value();
  for (std::size_t i = 0; i < tensor.size_bytes(); ++i) {
    tensor.data()[i] = static_cast<std::uint8_t>((i * 131 + 7) & 0xFF);
  }
  return tensor;
}

/// `size` pseudo-random bytes from `seed`, as a string (an HTTP body): data no encoding can
/// shorten and any reordering or cut shows in.
inline std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes)
    byte = static_cast<char>(generator() & 0xFF);
  return bytes;
}

}  // namespace rvae::testing_support
