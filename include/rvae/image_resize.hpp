// Making an image fit an encoder that needs sides in multiples of 8: a centred crop, or a
// resize with the Lanczos filter (a = 3), which is what diffusers' VaeImageProcessor does
// (PIL's LANCZOS resample after rounding the sides down to multiples of the VAE's factor).
#pragma once

#include "rvae/error.hpp"
#include "rvae/export.h"
#include "rvae/image.hpp"

namespace rvae {

/// The `width` x `height` rectangle of `image` whose top-left corner is (left, top).
/// InvalidArgument when it does not lie inside the image or is empty.
RVAE_API Result<Image> crop_image(const Image& image, int left, int top, int width, int height);

/// `image` resampled to `width` x `height` with a separable Lanczos-3 filter, widened by the
/// scale factor when shrinking (so downscaling does not alias), values rounded and clamped to
/// 0..255. Every channel is filtered alike. InvalidArgument for non-positive sizes or sides over
/// 65536.
RVAE_API Result<Image> resize_image_lanczos(const Image& image, int width, int height);

}  // namespace rvae
