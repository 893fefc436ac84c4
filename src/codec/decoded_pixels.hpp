// What every image decoder of the codec layer hands back: stb_image, libjpeg-turbo (one or two
// threads) and the libdeflate PNG reader alike.
#pragma once

#include "rvae/bytes.hpp"

namespace rvae::codec_detail {

/// Decoded 8-bit pixels in an owned buffer, rows top to bottom without padding.
struct DecodedPixels {
  int width = 0;
  int height = 0;
  Bytes pixels;  ///< width * height * the requested channels.
};

}  // namespace rvae::codec_detail
