// The latent side of temporal chunking: a range of latent frames of a video latent
// [B, C, T, h, w], and a clip averaged in time for a colour reference that must fit a frame cap.
#pragma once

#include "rvae/error.hpp"
#include "rvae/tensor.hpp"

namespace rvae::detail {

/// Latent frames [start, start + count) of `latents` ([B, C, T, h, w], any float dtype), bit for
/// bit in its dtype.
Result<Tensor> slice_frames(const TensorView& latents, int start, int count);

/// `latents` ([B, C, T, h, w]) with each run of `factor` latent frames replaced by its mean (the
/// last run may be shorter): ceil(T / factor) frames, in the same dtype.
Result<Tensor> average_frames(const TensorView& latents, int factor);

}  // namespace rvae::detail
