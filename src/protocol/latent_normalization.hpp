// The latent normalisation a request's options name (PROTOCOL.md §9), checked once for every
// protocol: what the Hugging Face requests apply client-side for per-channel models, and what a
// protocol without factors on the wire (the Open Inference Protocol) applies for every model.
#pragma once

#include <optional>

#include "rvae/error.hpp"
#include "rvae/options.hpp"
#include "rvae/tensor.hpp"

namespace rvae::protocol {

/// nullopt when the options name no normalisation (no factor, no statistics; a decode's legacy
/// do_scaling alone is the server's business). The scalar form when scaling_factor or
/// shift_factor is set (an unset scaling_factor is 1, an unset shift 0); the per-channel form
/// when latents_mean/latents_std are set (scaling_factor 1 unless set). InvalidArgument for
/// statistics of different sizes or only one of them, shift_factor or do_scaling beside them, a
/// non-finite value, a std <= 0 or a zero scaling_factor.
Result<std::optional<LatentNormalization>> normalization_of(const DecodeOptions& options);
/// The same for encode options (which have no do_scaling).
Result<std::optional<LatentNormalization>> normalization_of(const EncodeOptions& options);

/// True for a normalisation with per-channel statistics.
inline bool is_per_channel(const std::optional<LatentNormalization>& norm) {
  return norm && !norm->mean.empty();
}

}  // namespace rvae::protocol
