// The latent side of temporal chunking: a range of latent frames of a video latent
// [B, C, T, h, w].
#pragma once

#include "rvae/error.hpp"
#include "rvae/tensor.hpp"

namespace rvae::detail {

/// Latent frames [start, start + count) of `latents` ([B, C, T, h, w], any float dtype), bit for
/// bit in its dtype.
Result<Tensor> slice_frames(const TensorView& latents, int start, int count);

}  // namespace rvae::detail
