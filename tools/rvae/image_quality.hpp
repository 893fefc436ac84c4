// How far one decoded image is from another, as tile-bench and the demo report it.
#pragma once

#include "rvae/image.hpp"

namespace rvae::cli {

struct ImageQuality {
  double psnr = 0;     ///< dB over every sample; infinite when the images are equal.
  int max_levels = 0;  ///< Largest difference of one sample, in 8-bit levels.
};

/// `a` against `b` over the samples both have (they are meant to be the same size).
ImageQuality compare_images(const Image& a, const Image& b);

}  // namespace rvae::cli
