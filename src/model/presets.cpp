// Model presets. The built-in table is plain data (PROTOCOL.md §1); the endpoint URLs have
// changed before, so merge_json lets users override any field without recompiling.
#include "rvae/presets.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/try.hpp"
#include "files/strict_json.hpp"
#include "rvae/error.hpp"
#include "rvae/latent_file.hpp"
#include "rvae/options.hpp"
#include "rvae/tensor.hpp"

namespace rvae {
namespace {

using Json = nlohmann::json;

// One row of PROTOCOL.md §1. A literal type so the table is constant data, not code.
struct BuiltinPreset {
  const char* name;
  const char* model_id;
  const char* decode_endpoint;
  const char* encode_endpoint;
  int latent_channels;
  double scaling_factor;
  bool has_shift;
  double shift_factor;
  DType dtype;
  int spatial_compression;
  int temporal_compression;
  bool packed_latents;
  // Per-channel statistics (PROTOCOL.md §9), latent_channels values each; null for the scalar
  // form.
  const double* latents_mean;
  const double* latents_std;
  std::uint64_t reply_budget_bytes;  // video models: see kHunyuanReplyBudget
  bool stateful_decoder;             // Wan 2.1's decoder caches features across frames
};

// HunyuanVideo's per-request reply budget for temporal chunking. 256 MiB keeps its 544x960
// 129-frame clip (202 MB as uint8) in one request, while the 720p clip (356 MB uint8, 713 MB
// float16) is chunked: then no single reply, and so neither the server's decode nor the client's
// copy of it, holds the whole 720p video, and the window of chunks in flight stays a few hundred
// MB on a 16 GB machine (issue 21). A 17-frame 720p chunk is 47 MB as uint8.
constexpr std::uint64_t kHunyuanReplyBudget = std::uint64_t{256} << 20;

// Wan 2.1's VAE statistics, which Qwen-Image's VAE shares (PROTOCOL.md §9).
constexpr double kWanMean[16] = {-0.7571, -0.7089, -0.9113, 0.1075,  -0.1745, 0.9653,
                                 -0.1517, 1.5508,  0.4134,  -0.0715, 0.5517,  -0.3632,
                                 -0.1922, -0.9497, 0.2503,  -0.2921};
constexpr double kWanStd[16] = {2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
                                3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160};

constexpr BuiltinPreset kBuiltinPresets[] = {
    {"sd15", "stabilityai/sd-vae-ft-mse",
     "https://q1bj3bpq6kzilnsu.us-east-1.aws.endpoints.huggingface.cloud/",
     "https://qc6479g0aac6qwy9.us-east-1.aws.endpoints.huggingface.cloud/", 4, 0.18215, false, 0.0,
     DType::kFloat16, 8, 1, false, nullptr, nullptr, 0, false},
    {"sdxl", "madebyollin/sdxl-vae-fp16-fix",
     "https://x2dmsqunjd6k9prw.us-east-1.aws.endpoints.huggingface.cloud/",
     "https://xjqqhmyn62rog84g.us-east-1.aws.endpoints.huggingface.cloud/", 4, 0.13025, false, 0.0,
     DType::kFloat16, 8, 1, false, nullptr, nullptr, 0, false},
    {"flux", "black-forest-labs/FLUX.1-schnell",
     "https://whhx50ex1aryqvw6.us-east-1.aws.endpoints.huggingface.cloud/",
     "https://ptccx55jz97f9zgo.us-east-1.aws.endpoints.huggingface.cloud/", 16, 0.3611, true,
     0.1159, DType::kBFloat16, 8, 1, true, nullptr, nullptr, 0, false},
    {"hunyuan-video", "hunyuanvideo-community/HunyuanVideo",
     "https://o7ywnmrahorts457.us-east-1.aws.endpoints.huggingface.cloud/", "", 16, 0.476986, false,
     0.0, DType::kFloat16, 8, 4, false, nullptr, nullptr, kHunyuanReplyBudget, false},
    // No public endpoint serves these: the caller names one (a Triton/KServe model or their own).
    {"wan2.1", "Wan-AI/Wan2.1-T2V-14B-Diffusers", "", "", 16, 1.0, false, 0.0, DType::kBFloat16, 8,
     4, false, kWanMean, kWanStd, 0, true},
    {"qwen-image", "Qwen/Qwen-Image", "", "", 16, 1.0, false, 0.0, DType::kBFloat16, 8, 1, true,
     kWanMean, kWanStd, 0, false},
};

// Limits on user-supplied values: wide enough for any plausible VAE, narrow enough to catch
// typos and to keep later arithmetic (shapes, frame counts) far from overflow.
constexpr int kMaxLatentChannels = 64;
constexpr int kMaxCompression = 64;
constexpr int kMaxImageSide = 65535;

Error invalid(const std::string& message) {
  return Error(ErrorCode::kInvalidArgument, message);
}

std::string where(const std::string& preset, std::string_view field) {
  return "preset '" + preset + "': '" + std::string(field) + "'";
}

Result<std::string> get_string(const Json& value, const std::string& preset,
                               std::string_view field) {
  if (!value.is_string()) return invalid(where(preset, field) + " must be a string");
  return value.get<std::string>();
}

Result<std::string> get_url(const Json& value, const std::string& preset, std::string_view field) {
  auto url = get_string(value, preset, field);
  if (!url) return url;
  if (!url->empty() && url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
    return invalid(where(preset, field) +
                   " must start with http:// or https:// (or be empty), "
                   "got '" +
                   *url + "'");
  }
  return url;
}

Result<int> get_int(const Json& value, const std::string& preset, std::string_view field, int min,
                    int max) {
  if (!value.is_number_integer()) return invalid(where(preset, field) + " must be an integer");
  // Unsigned values above int64's range are simply "too large".
  const std::int64_t number =
      value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(max)
          ? std::int64_t{max} + 1
          : value.get<std::int64_t>();
  if (number < min || number > max) {
    return invalid(where(preset, field) + " must be in " + std::to_string(min) + ".." +
                   std::to_string(max) + ", got " + value.dump());
  }
  return static_cast<int>(number);
}

// JSON has no spelling for inf or nan, and the parser rejects overflowing literals such as 1e999,
// so every number that reaches here is finite.
Result<double> get_number(const Json& value, const std::string& preset, std::string_view field) {
  if (!value.is_number()) return invalid(where(preset, field) + " must be a number");
  return value.get<double>();
}

// A per-channel statistic: an array of numbers, or null (none: the scalar form).
Result<std::vector<double>> get_statistics(const Json& value, const std::string& preset,
                                           std::string_view field) {
  if (value.is_null()) return std::vector<double>();
  if (!value.is_array() || value.empty()) {
    return invalid(where(preset, field) + " must be an array of numbers (one per latent channel)");
  }
  std::vector<double> values;
  for (const Json& item : value) {
    if (!item.is_number()) {
      return invalid(where(preset, field) + " must be an array of numbers, got " + item.dump());
    }
    values.push_back(item.get<double>());
  }
  return values;
}

// The latent normalisation as a whole, once every field is applied (JSON objects have no key
// order to rely on): scalar, or per-channel statistics of latent_channels values without a shift.
Result<void> check_normalization(const ModelPreset& preset) {
  const std::string& name = preset.name;
  if (preset.latents_mean.empty() && preset.latents_std.empty()) return {};
  const auto channels = static_cast<std::size_t>(preset.latent_channels);
  if (preset.latents_mean.size() != channels || preset.latents_std.size() != channels) {
    return invalid("preset '" + name + "': 'latents_mean' and 'latents_std' need " +
                   std::to_string(channels) + " values each (latent_channels), got " +
                   std::to_string(preset.latents_mean.size()) + " and " +
                   std::to_string(preset.latents_std.size()) +
                   " (set both to null for the scalar form)");
  }
  if (preset.shift_factor) {
    return invalid("preset '" + name +
                   "': 'shift_factor' cannot be combined with 'latents_mean'/'latents_std' (set "
                   "it to null)");
  }
  for (double value : preset.latents_std) {
    if (!(value > 0.0)) {
      return invalid(where(name, "latents_std") + " values must be positive, got " +
                     std::to_string(value));
    }
  }
  return {};
}

// Applies one JSON object to `preset`; on error `preset` may be half-updated (the caller works
// on a copy).
Result<void> apply_fields(const Json& fields, ModelPreset& preset) {
  const std::string& name = preset.name;
  if (!fields.is_object()) return invalid("preset '" + name + "' must be a JSON object");
  for (const auto& item : fields.items()) {
    const std::string& key = item.key();
    const Json& value = item.value();
    if (key == "model_id") {
      RVAE_ASSIGN_OR_RETURN(preset.model_id, get_string(value, name, key));
    } else if (key == "decode_endpoint" || key == "encode_endpoint") {
      RVAE_ASSIGN_OR_RETURN(auto url, get_url(value, name, key));
      (key == "decode_endpoint" ? preset.decode_endpoint : preset.encode_endpoint) = std::move(url);
    } else if (key == "latent_channels") {
      RVAE_ASSIGN_OR_RETURN(preset.latent_channels,
                            get_int(value, name, key, 1, kMaxLatentChannels));
    } else if (key == "spatial_compression" || key == "temporal_compression") {
      RVAE_ASSIGN_OR_RETURN(auto number, get_int(value, name, key, 1, kMaxCompression));
      (key == "spatial_compression" ? preset.spatial_compression : preset.temporal_compression) =
          number;
    } else if (key == "scaling_factor") {
      RVAE_ASSIGN_OR_RETURN(auto number, get_number(value, name, key));
      if (number == 0.0) return invalid(where(name, key) + " must not be 0");
      preset.scaling_factor = number;
    } else if (key == "shift_factor") {
      if (value.is_null()) {
        preset.shift_factor.reset();
      } else {
        RVAE_ASSIGN_OR_RETURN(preset.shift_factor, get_number(value, name, key));
      }
    } else if (key == "latents_mean" || key == "latents_std") {
      RVAE_ASSIGN_OR_RETURN(auto values, get_statistics(value, name, key));
      (key == "latents_mean" ? preset.latents_mean : preset.latents_std) = std::move(values);
    } else if (key == "dtype") {
      RVAE_ASSIGN_OR_RETURN(auto text, get_string(value, name, key));
      const auto dtype = dtype_from_name(text);
      if (!dtype) {
        return invalid(where(name, key) + " '" + text +
                       "' is not one of float32, float16, bfloat16, uint8");
      }
      preset.dtype = *dtype;
    } else if (key == "max_image_side") {
      RVAE_ASSIGN_OR_RETURN(preset.max_image_side, get_int(value, name, key, 8, kMaxImageSide));
    } else if (key == "reply_budget_bytes") {
      if (!value.is_number_unsigned() &&
          !(value.is_number_integer() && value.get<std::int64_t>() == 0)) {
        return invalid(where(name, key) + " must be a non-negative integer (bytes; 0: no budget)");
      }
      preset.reply_budget_bytes = value.get<std::uint64_t>();
    } else if (key == "stateful_decoder") {
      if (!value.is_boolean()) return invalid(where(name, key) + " must be true or false");
      preset.stateful_decoder = value.get<bool>();
    } else if (key == "packed_latents") {
      if (!value.is_boolean()) return invalid(where(name, key) + " must be true or false");
      preset.packed_latents = value.get<bool>();
    } else {
      return invalid("preset '" + name + "' has an unknown key '" + key + "'");
    }
  }
  return check_normalization(preset);
}

// The preset's normalisation in decode or encode options.
template <typename Options>
void set_normalization(const ModelPreset& preset, Options& options) {
  if (preset.per_channel()) {
    // The statistics carry the normalisation; a scaling factor other than 1 divides as well.
    options.latents_mean = preset.latents_mean;
    options.latents_std = preset.latents_std;
    if (preset.scaling_factor != 1.0) options.scaling_factor = preset.scaling_factor;
  } else {
    options.scaling_factor = preset.scaling_factor;
    options.shift_factor = preset.shift_factor;
  }
}

}  // namespace

DecodeOptions ModelPreset::decode_options() const {
  DecodeOptions options;
  set_normalization(*this, options);
  if (is_video()) options.temporal_compression = temporal_compression;
  options.tiling.max_image_side = max_image_side;
  options.tiling.reply_budget_bytes = reply_budget_bytes;
  options.tiling.stateful_decoder = stateful_decoder;
  return options;
}

EncodeOptions ModelPreset::encode_options() const {
  EncodeOptions options;
  set_normalization(*this, options);
  options.tiling.max_image_side = max_image_side;
  return options;
}

PresetRegistry PresetRegistry::builtin() {
  PresetRegistry registry;
  for (const BuiltinPreset& row : kBuiltinPresets) {
    ModelPreset preset;
    preset.name = row.name;
    preset.model_id = row.model_id;
    preset.decode_endpoint = row.decode_endpoint;
    preset.encode_endpoint = row.encode_endpoint;
    preset.latent_channels = row.latent_channels;
    preset.scaling_factor = row.scaling_factor;
    if (row.has_shift) preset.shift_factor = row.shift_factor;
    preset.dtype = row.dtype;
    preset.spatial_compression = row.spatial_compression;
    preset.temporal_compression = row.temporal_compression;
    preset.packed_latents = row.packed_latents;
    preset.reply_budget_bytes = row.reply_budget_bytes;
    preset.stateful_decoder = row.stateful_decoder;
    if (row.latents_mean != nullptr) {
      const auto channels = static_cast<std::size_t>(row.latent_channels);
      preset.latents_mean.assign(row.latents_mean, row.latents_mean + channels);
      preset.latents_std.assign(row.latents_std, row.latents_std + channels);
    }
    registry.presets_.push_back(std::move(preset));
  }
  return registry;
}

const ModelPreset* PresetRegistry::find(std::string_view name) const {
  for (const ModelPreset& preset : presets_) {
    if (preset.name == name) return &preset;
  }
  return nullptr;
}

void PresetRegistry::upsert(ModelPreset preset) {
  for (ModelPreset& existing : presets_) {
    if (existing.name == preset.name) {
      existing = std::move(preset);
      return;
    }
  }
  presets_.push_back(std::move(preset));
}

Result<void> PresetRegistry::merge_json(std::string_view json_text) {
  // {name: {field: [values]}} is 3 levels; one more lets a misplaced array or object get a
  // precise "must be a number" message instead of a depth error.
  RVAE_ASSIGN_OR_RETURN(auto parsed, internal::parse_json_strict(json_text, "preset JSON", 4));
  if (!parsed.is_object()) {
    return invalid("preset JSON must be an object of preset names to fields");
  }
  // All or nothing: every change goes to a copy that replaces this registry only at the end.
  PresetRegistry updated = *this;
  for (const auto& item : parsed.items()) {
    const std::string& name = item.key();
    if (name.empty()) return invalid("preset JSON has a preset with an empty name");
    const ModelPreset* existing = updated.find(name);
    ModelPreset preset;
    if (existing != nullptr) {
      preset = *existing;
    } else {
      preset.name = name;
      const Json& fields = item.value();
      const bool normalised = fields.is_object() &&
                              (fields.contains("scaling_factor") ||
                               (fields.contains("latents_mean") && fields.contains("latents_std")));
      if (fields.is_object() && (!fields.contains("latent_channels") || !normalised)) {
        return invalid("new preset '" + name +
                       "' must give latent_channels and scaling_factor (or latents_mean and "
                       "latents_std)");
      }
    }
    RVAE_TRY(apply_fields(item.value(), preset));
    updated.upsert(std::move(preset));
  }
  *this = std::move(updated);
  return {};
}

Result<void> PresetRegistry::merge_json_file(const std::string& path) {
  // Preset files are small; a cap keeps a wrong path (a disk image, /dev/zero) harmless.
  constexpr std::size_t kMaxPresetFileBytes = 16 * 1024 * 1024;
  RVAE_ASSIGN_OR_RETURN(auto bytes, read_file(path, kMaxPresetFileBytes));
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  auto merged = merge_json(text);
  if (!merged) {
    Error error = std::move(merged).error();
    return Error(error.code(), "'" + path + "': " + error.message());
  }
  return {};
}

}  // namespace rvae
