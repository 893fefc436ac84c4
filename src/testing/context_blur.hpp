// The spatial-context stand-in of PROTOCOL.md §7: what makes tiling visible. A real VAE's output
// pixel sees a neighbourhood of latents (convolutions) and GroupNorm sees the whole request; §7
// models both with a blur of reach 4 and a per-request mean subtraction.
#pragma once

#include <cstddef>

namespace rvae::reference {

/// Applies §7 steps 1 and 2 in place to one image's (or one video frame's) scaled latent `x`,
/// laid out [channels][height][width] (plane after plane, rows contiguous): each channel is
/// blurred with [1,4,6,4,1]/16 along h then along w, edges replicated, twice; then the mean of
/// the unblurred channel is subtracted. `height` and `width` must be at least 1.
void apply_spatial_context(double* x, std::size_t channels, std::size_t height, std::size_t width);

}  // namespace rvae::reference
