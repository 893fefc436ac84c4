#include "decode_checks.hpp"

#include <string>

#include "rvae/error.hpp"

namespace rvae::cli {
namespace {

[[noreturn]] void refuse(const std::string& message) {
  throw Error(ErrorCode::kInvalidArgument, message);
}

}  // namespace

void check_decodable(const Shape& shape, const DecodeOptions& options) {
  const std::string shape_text = shape_to_string(shape);
  const bool video = shape.size() == 5;
  if (shape.size() == 3 && (!options.height || !options.width)) {
    refuse("packed latents " + shape_text +
           " do not say the image size; give it with --height H --width W");
  }
  if (video && options.output_type == OutputType::kImage) {
    refuse("video latents " + shape_text +
           " decode to frames, not one image; write them with -o OUT.mp4 or -o DIR/");
  }
  if (!video && options.output_type == OutputType::kMp4) {
    refuse("latents " + shape_text +
           " are not video latents [B,C,T,h,w]; an .mp4 needs a video model's latents");
  }
  if (video && options.tiling.chunk_mode == ChunkMode::kOn && options.tiling.stateful_decoder) {
    refuse(
        "--frames-per-request cannot split this model's videos: its decoder carries state "
        "across frames, so chunks decoded as separate requests would not match the whole "
        "video; leave the flag out");
  }
  if (!video && options.output_type == OutputType::kImage && !shape.empty() && shape[0] != 1) {
    refuse("latents " + shape_text + " hold a batch of " + std::to_string(shape[0]) +
           " images; write them with -o DIR/ (one PNG each)");
  }
}

}  // namespace rvae::cli
