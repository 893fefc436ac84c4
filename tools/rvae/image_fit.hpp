// --fit for encode: what to do with an image whose sides are not multiples of 8.
#pragma once

#include <optional>
#include <string>

#include "rvae/image.hpp"

namespace rvae::cli {

enum class FitMode { kNone, kCrop, kResize };

/// The --fit value (absent: kNone); UsageError for anything but crop or resize.
FitMode fit_mode(const std::optional<std::string>& value);

/// The image unchanged when its sides are multiples of 8; else cropped (centred) or resized
/// (Lanczos) to the sides rounded down to multiples of 8. With kNone, or sides under 8, an
/// rvae::Error (InvalidArgument) that says which --fit would fix it.
Image fit_image(Image image, FitMode mode);

}  // namespace rvae::cli
