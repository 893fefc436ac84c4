#include "image_quality.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace rvae::cli {

ImageQuality compare_images(const Image& a, const Image& b) {
  const std::size_t count = std::min(a.pixels.size(), b.pixels.size());
  double sum = 0;
  ImageQuality q;
  for (std::size_t i = 0; i < count; ++i) {
    const int d = static_cast<int>(a.pixels[i]) - static_cast<int>(b.pixels[i]);
    sum += static_cast<double>(d) * d;
    q.max_levels = std::max(q.max_levels, std::abs(d));
  }
  const double mse = count == 0 ? 0 : sum / static_cast<double>(count);
  q.psnr = mse == 0 ? INFINITY : 10 * std::log10(255.0 * 255.0 / mse);
  return q;
}

}  // namespace rvae::cli
