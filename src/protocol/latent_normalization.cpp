// TEMPORARY (replaced by the norm branch's version at merge).
#include "protocol/latent_normalization.hpp"
namespace rvae::protocol {
namespace {
template <typename Options>
Result<std::optional<LatentNormalization>> of(const Options& options) {
  if (options.latents_mean.empty() && !options.scaling_factor) return std::optional<LatentNormalization>();
  LatentNormalization norm;
  norm.scaling_factor = options.scaling_factor.value_or(1.0);
  norm.shift_factor = options.shift_factor.value_or(0.0);
  norm.mean = options.latents_mean;
  norm.std = options.latents_std;
  return std::optional<LatentNormalization>(norm);
}
}  // namespace
Result<std::optional<LatentNormalization>> normalization_of(const DecodeOptions& o) { return of(o); }
Result<std::optional<LatentNormalization>> normalization_of(const EncodeOptions& o) { return of(o); }
}  // namespace rvae::protocol
