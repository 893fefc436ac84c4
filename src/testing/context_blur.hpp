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

/// PROTOCOL.md §7.1 on one video clip's normalised latent `x`, laid out [frames][channels][h][w]:
/// a causal temporal mix x1[t] = (3 x[t] + x[t-1]) / 4 (x[-1] = x[0]), §7's blur on every frame,
/// then the per-channel mean of the unmixed, unblurred clip (over frames x h x w) subtracted.
/// With one frame this is apply_spatial_context().
void apply_temporal_context(double* x, std::size_t frames, std::size_t channels, std::size_t height,
                            std::size_t width);

}  // namespace rvae::reference
