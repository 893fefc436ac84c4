// Byte offset of one channel of one pixel in an Image, computed in size_t.
#pragma once

#include <cstddef>

#include "rvae/image.hpp"

namespace rvae::cli {

/// Offset of channel `c` of pixel (x, y); every argument is non-negative by construction.
inline std::size_t pixel_offset(const Image& image, int x, int y, int c) {
  return (static_cast<std::size_t>(y) * static_cast<std::size_t>(image.width) +
          static_cast<std::size_t>(x)) *
             static_cast<std::size_t>(image.channels) +
         static_cast<std::size_t>(c);
}

}  // namespace rvae::cli
