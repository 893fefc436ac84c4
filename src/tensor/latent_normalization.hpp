// Latent (de-)normalisation into a buffer the caller gives (rvae::denormalize_latents otherwise
// allocates): a client de-normalising every call's latents reuses its buffers instead of
// faulting in fresh pages each time.
#pragma once

#include "rvae/bytes.hpp"
#include "rvae/error.hpp"
#include "rvae/tensor.hpp"

namespace rvae::internal {

/// denormalize_latents, the result in `storage` (resized; every byte written).
Result<Tensor> denormalize_latents_into(const TensorView& latents, const LatentNormalization& norm,
                                        DType to, Bytes storage);

}  // namespace rvae::internal
