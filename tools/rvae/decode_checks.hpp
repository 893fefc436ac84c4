// What the CLI checks about latents before sending them, so the user is told in terms of flags
// and files (the library's own messages speak of its C++ options).
#pragma once

#include "rvae/options.hpp"
#include "rvae/tensor.hpp"

namespace rvae::cli {

/// rvae::Error (InvalidArgument) when latents of this shape cannot give the output asked for:
/// packed latents without --height/--width, video latents to one image, image latents to MP4,
/// a batch of latents to one image, --frames-per-request for a model whose decoder carries state
/// across frames.
void check_decodable(const Shape& shape, const DecodeOptions& options);

}  // namespace rvae::cli
