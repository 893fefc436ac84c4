// Model presets: endpoints, latent layout and factors per model, as data the caller can
// override or extend at run time (the public URLs have changed before).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rvae/error.hpp"
#include "rvae/export.h"
#include "rvae/options.hpp"
#include "rvae/tensor.hpp"

namespace rvae {

/// Everything rvae knows about one model's endpoints.
struct RVAE_API ModelPreset {
  std::string name;             ///< Short key, e.g. "sdxl".
  std::string model_id;         ///< Hugging Face id of the VAE, for display.
  std::string decode_endpoint;  ///< Empty when the model has no decode endpoint.
  std::string encode_endpoint;  ///< Empty when the model has no encode endpoint.
  int latent_channels = 4;
  double scaling_factor = 1.0;
  std::optional<double> shift_factor;
  /// Per-channel latent statistics (PROTOCOL.md §9; Wan 2.1, Qwen-Image): latent_channels values
  /// each, or both empty for the scalar form (scaling_factor, shift_factor).
  std::vector<double> latents_mean;
  std::vector<double> latents_std;
  DType dtype = DType::kFloat16;  ///< The dtype latents usually have for this model.
  int spatial_compression = 8;
  int temporal_compression = 1;  ///< 4 for video models, 1 for image models.
  bool packed_latents = false;   ///< True when the model's pipeline uses Flux-packed latents.
  /// The endpoint's cap: the largest image side in pixels it accepts (2048 for the public
  /// service). Larger decodes and encodes are tiled (TilingOptions::max_image_side).
  int max_image_side = 2048;
  /// Video models: the largest reply of one request, in bytes, above which a decode is split
  /// into temporal chunks (TilingOptions::reply_budget_bytes; 0: never by size). HunyuanVideo:
  /// 1 GiB (its own longest clip, 129 frames at 720p, is one request), see src/model/presets.cpp.
  std::uint64_t reply_budget_bytes = 0;
  /// True when the decoder carries state across frames (Wan 2.1): temporal chunking is refused
  /// (TilingOptions::stateful_decoder).
  bool stateful_decoder = false;

  bool is_video() const noexcept { return temporal_compression > 1; }
  /// True when the latents are normalised per channel (latents_mean/latents_std).
  bool per_channel() const noexcept { return !latents_mean.empty(); }
  /// Decode options with this preset's factors set (the usual request): scaling_factor and
  /// shift_factor, or for a per-channel preset latents_mean/latents_std (and scaling_factor only
  /// when it is not 1).
  DecodeOptions decode_options() const;
  /// Encode options with this preset's factors set.
  EncodeOptions encode_options() const;
};

/// A set of presets, looked up by name. Copyable; not synchronised (copy one per thread or
/// guard it when modifying while others read).
class RVAE_API PresetRegistry {
 public:
  /// An empty registry.
  PresetRegistry() = default;
  /// The presets built into this version (sd15, sdxl, flux, hunyuan-video, and the per-channel
  /// wan2.1 and qwen-image, which have no public endpoint).
  static PresetRegistry builtin();

  /// nullptr when no preset has this name.
  const ModelPreset* find(std::string_view name) const;
  /// Adds the preset, replacing one of the same name.
  void upsert(ModelPreset preset);
  const std::vector<ModelPreset>& all() const noexcept { return presets_; }

  /// Merges presets from JSON text: an object whose keys are preset names and whose values hold
  /// any of the ModelPreset fields (`decode_endpoint`, `encode_endpoint`, `latent_channels`,
  /// `scaling_factor`, `shift_factor` (number or null), `latents_mean` and `latents_std` (arrays
  /// of latent_channels numbers, std > 0, or null), `dtype`, `spatial_compression`,
  /// `temporal_compression`, `packed_latents`, `max_image_side`, `reply_budget_bytes`,
  /// `stateful_decoder`, `model_id`). Fields of an existing
  /// preset that the JSON omits are kept; a new preset must give `latent_channels` and
  /// `scaling_factor` or both statistics. The statistics come both or neither, with no
  /// `shift_factor` beside them: setting both to null switches a preset back to the scalar form,
  /// and giving them to a preset with a shift needs `"shift_factor": null` too. InvalidArgument on
  /// malformed JSON or a bad value; the registry is unchanged then.
  Result<void> merge_json(std::string_view json_text);
  /// merge_json on a file's contents. NotFound when it cannot be read.
  Result<void> merge_json_file(const std::string& path);

 private:
  std::vector<ModelPreset> presets_;
};

}  // namespace rvae
