// One check of the latent statistics and factors in a request's options, so a bad set is refused
// before any bytes move, with a message in the options' own terms.
#include "protocol/latent_normalization.hpp"

#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "protocol/protocol_internal.hpp"

namespace rvae::protocol {
namespace {

using internal::invalid_argument;

Result<std::optional<LatentNormalization>> from_fields(const std::optional<double>& scaling_factor,
                                                       const std::optional<double>& shift_factor,
                                                       bool do_scaling,
                                                       const std::vector<double>& mean,
                                                       const std::vector<double>& stds) {
  if (scaling_factor && (!std::isfinite(*scaling_factor) || *scaling_factor == 0.0)) {
    return invalid_argument("scaling_factor must be finite and nonzero; got " +
                            std::to_string(*scaling_factor));
  }
  if (shift_factor && !std::isfinite(*shift_factor)) {
    return invalid_argument("shift_factor must be finite");
  }
  if (mean.empty() && stds.empty()) {
    if (!scaling_factor && !shift_factor) return std::optional<LatentNormalization>();
    LatentNormalization norm;
    norm.scaling_factor = scaling_factor.value_or(1.0);
    norm.shift_factor = shift_factor.value_or(0.0);
    return std::optional<LatentNormalization>(std::move(norm));
  }
  if (mean.size() != stds.size()) {
    return invalid_argument(
        "latents_mean and latents_std need one value per latent channel "
        "each; got " +
        std::to_string(mean.size()) + " means and " + std::to_string(stds.size()) + " stds");
  }
  if (shift_factor) {
    return invalid_argument(
        "shift_factor cannot be combined with per-channel latents_mean/latents_std");
  }
  if (do_scaling) {
    return invalid_argument(
        "do_scaling cannot be combined with per-channel latents_mean/latents_std (the server "
        "knows no per-channel form; the client applies them)");
  }
  for (std::size_t c = 0; c < mean.size(); ++c) {
    if (!std::isfinite(mean[c])) {
      return invalid_argument("latents_mean[" + std::to_string(c) + "] must be finite");
    }
    if (!std::isfinite(stds[c]) || stds[c] <= 0.0) {
      return invalid_argument("latents_std[" + std::to_string(c) +
                              "] must be finite and positive; got " + std::to_string(stds[c]));
    }
  }
  LatentNormalization norm;
  norm.scaling_factor = scaling_factor.value_or(1.0);
  norm.mean = mean;
  norm.std = stds;
  return std::optional<LatentNormalization>(std::move(norm));
}

}  // namespace

Result<std::optional<LatentNormalization>> normalization_of(const DecodeOptions& options) {
  return from_fields(options.scaling_factor, options.shift_factor, options.do_scaling,
                     options.latents_mean, options.latents_std);
}

Result<std::optional<LatentNormalization>> normalization_of(const EncodeOptions& options) {
  return from_fields(options.scaling_factor, options.shift_factor, false, options.latents_mean,
                     options.latents_std);
}

}  // namespace rvae::protocol
