// Pieces every subcommand shares: presets, client settings, endpoint choice, latent files.
#pragma once

#include <string>

#include "args.hpp"
#include "rvae/rvae.hpp"

namespace rvae::cli {

/// Options every network subcommand accepts (take a value).
inline const std::set<std::string> kClientValueOptions = {"model", "endpoint", "timeout", "presets",
                                                          "attempts"};

/// Built-in presets, then RVAE_PRESETS (a JSON file), then --presets FILE.
PresetRegistry load_presets(const Args& args);
/// The preset named by --model (default `fallback`); UsageError for an unknown name.
ModelPreset choose_preset(const Args& args, const PresetRegistry& presets,
                          const std::string& fallback);
/// --endpoint, else RVAE_ENDPOINT, else the preset's URL for the role.
std::string choose_endpoint(const Args& args, const ModelPreset& preset, bool decode);
/// Deadline from --timeout SECONDS, retries from --attempts N; the token comes from the
/// environment (HF_TOKEN or the Hugging Face token file).
ClientOptions client_options(const Args& args);

/// Applies --scaling-factor, --shift-factor and --no-scaling to the preset's factors.
void apply_factor_flags(const Args& args, std::optional<double>& scaling_factor,
                        std::optional<double>& shift_factor);

/// Lower-cased extension with its dot (".png"), or "" when there is none.
std::string extension_of(const std::string& path);
/// Reads latents from .safetensors (the only tensor, or the one called `name`) or .npy.
Tensor read_latents(const std::string& path, const std::string& name);
/// Writes a tensor as .safetensors (named `name`) or .npy, chosen by extension.
void write_tensor(const std::string& path, const Tensor& tensor, const std::string& name);

/// Throws the error when there is one: main() prints it on one line and exits with 1.
template <typename T>
T take(Result<T>&& result) {
  return std::move(result).value();
}
inline void take(Result<void>&& result) {
  result.value();
}

}  // namespace rvae::cli
