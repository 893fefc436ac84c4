// rvae presets: the model presets in force (built in, then RVAE_PRESETS, then --presets FILE).
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "common.hpp"

namespace rvae::cli {
namespace {

const char* const kUsage =
    "usage: rvae presets [--presets FILE] [--json]\n"
    "\n"
    "Lists the model presets decode and encode use: latent channels and dtype, scaling and\n"
    "shift factors (or per-channel means and stds: wan2.1, qwen-image), packing, frames per\n"
    "latent frame, the public endpoints' image cap and the decode and encode endpoints.\n"
    "RVAE_PRESETS=FILE and --presets FILE (JSON, see README) override or add presets, in that\n"
    "order. --json prints one JSON array, with the per-channel values.\n";

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

// The largest image the preset's endpoint takes in one request (larger ones are tiled).
std::string cap_of(const ModelPreset& preset) {
  const std::string side = std::to_string(preset.max_image_side);
  return side + "x" + side;
}

// How the preset's latents are normalised, in words.
std::string normalization_of(const ModelPreset& preset) {
  if (!preset.per_channel()) return "scalar";
  std::string text = "per-channel (" + std::to_string(preset.latents_mean.size()) + " means/stds)";
  if (preset.scaling_factor != 1.0) text += ", scaling " + number(preset.scaling_factor);
  return text;
}

nlohmann::ordered_json array_or_null(const std::vector<double>& values) {
  if (values.empty()) return nullptr;
  return nlohmann::ordered_json(values);
}

std::string or_none(const std::string& text) {
  return text.empty() ? "(none)" : text;
}

}  // namespace

int presets_command(const std::vector<std::string>& argv) {
  const Args args(argv, {"presets"}, {"help", "json"});
  if (args.has("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (!args.positionals().empty()) throw UsageError{"presets takes no positional arguments"};
  const PresetRegistry presets = load_presets(args);
  if (args.has("json")) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const ModelPreset& preset : presets.all()) {
      list.push_back(
          {{"name", preset.name},
           {"model_id", preset.model_id},
           {"latent_channels", preset.latent_channels},
           {"dtype", std::string(dtype_name(preset.dtype))},
           {"scaling_factor", preset.scaling_factor},
           {"shift_factor", preset.shift_factor ? nlohmann::ordered_json(*preset.shift_factor)
                                                : nlohmann::ordered_json(nullptr)},
           {"normalization", preset.per_channel() ? "per-channel" : "scalar"},
           {"latents_mean", array_or_null(preset.latents_mean)},
           {"latents_std", array_or_null(preset.latents_std)},
           {"spatial_compression", preset.spatial_compression},
           {"temporal_compression", preset.temporal_compression},
           {"packed_latents", preset.packed_latents},
           {"max_image", cap_of(preset)},
           {"decode_endpoint", preset.decode_endpoint},
           {"encode_endpoint", preset.encode_endpoint}});
    }
    std::cout << list.dump(2) << "\n";
    return 0;
  }
  std::printf("%-14s %-3s %-8s %-8s %-7s %-6s %-6s %-9s\n", "name", "ch", "dtype", "scaling",
              "shift", "packed", "frames", "cap");
  for (const ModelPreset& preset : presets.all()) {
    // A per-channel preset's scaling factor alone says nothing: its statistics line does.
    const std::string scaling = preset.per_channel() ? "-" : number(preset.scaling_factor);
    std::printf("%-14s %-3d %-8s %-8s %-7s %-6s %-6d %-9s\n", preset.name.c_str(),
                preset.latent_channels, std::string(dtype_name(preset.dtype)).c_str(),
                scaling.c_str(), preset.shift_factor ? number(*preset.shift_factor).c_str() : "-",
                preset.packed_latents ? "yes" : "no", preset.temporal_compression,
                cap_of(preset).c_str());
    std::printf("  %s\n", or_none(preset.model_id).c_str());
    if (preset.per_channel())
      std::printf("  normalisation: %s\n", normalization_of(preset).c_str());
    std::printf("  decode: %s\n  encode: %s\n", or_none(preset.decode_endpoint).c_str(),
                or_none(preset.encode_endpoint).c_str());
  }
  return 0;
}

}  // namespace rvae::cli
