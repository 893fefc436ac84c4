#include "image_fit.hpp"

#include "args.hpp"
#include "common.hpp"
#include "rvae/image_resize.hpp"

namespace rvae::cli {
namespace {

constexpr int kMultiple = 8;

std::string size_text(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

}  // namespace

FitMode fit_mode(const std::optional<std::string>& value) {
  if (!value) return FitMode::kNone;
  if (*value == "crop") return FitMode::kCrop;
  if (*value == "resize") return FitMode::kResize;
  throw UsageError{"--fit must be crop or resize, got '" + *value + "'"};
}

Image fit_image(Image image, FitMode mode) {
  if (image.width % kMultiple == 0 && image.height % kMultiple == 0) return image;
  const int width = image.width / kMultiple * kMultiple;
  const int height = image.height / kMultiple * kMultiple;
  const std::string size = size_text(image.width, image.height);
  if (width == 0 || height == 0) {
    throw Error(ErrorCode::kInvalidArgument,
                "the image is " + size + ": encoding needs sides of at least 8 pixels");
  }
  const std::string fitted = size_text(width, height);
  switch (mode) {
    case FitMode::kNone:
      throw Error(ErrorCode::kInvalidArgument,
                  "the image is " + size + ", but encoding needs sides that are multiples of 8: " +
                      "add --fit crop (centred " + fitted + " crop) or --fit resize (Lanczos to " +
                      fitted + ")");
    case FitMode::kCrop:
      return take(
          crop_image(image, (image.width - width) / 2, (image.height - height) / 2, width, height));
    case FitMode::kResize:
      return take(resize_image_lanczos(image, width, height));
  }
  return image;
}

}  // namespace rvae::cli
