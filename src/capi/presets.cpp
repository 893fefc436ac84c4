// Model presets in C: the built-in registry, looked up by name.
#include <cstddef>
#include <cstring>
#include <string>

#include "capi/capi.hpp"

namespace rvae::capi {

const PresetRegistry& builtin_presets() {
  static const PresetRegistry registry = PresetRegistry::builtin();
  return registry;
}

Result<const ModelPreset*> find_model(const char* model, const char* function) {
  const ModelPreset* preset = builtin_presets().find(model);
  if (preset != nullptr) return preset;
  std::string known;
  for (const ModelPreset& p : builtin_presets().all())
    known += (known.empty() ? "" : ", ") + p.name;
  return Error(ErrorCode::kInvalidArgument,
               std::string(function) + ": unknown model '" + model + "' (known: " + known + ")");
}

Result<std::string> resolve_endpoint(const char* endpoint, const char* model, bool decode,
                                     const char* function) {
  if (endpoint != nullptr) return std::string(endpoint);
  if (model == nullptr) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string(function) + ": endpoint is NULL and the params name no model");
  }
  Result<const ModelPreset*> preset = find_model(model, function);
  if (!preset) return preset.error();
  const std::string& url = decode ? (*preset)->decode_endpoint : (*preset)->encode_endpoint;
  if (url.empty()) {
    return Error(ErrorCode::kInvalidArgument, std::string(function) + ": model '" + model +
                                                  "' has no default " +
                                                  (decode ? "decode" : "encode") + " endpoint");
  }
  return url;
}

Result<Endpoint> endpoint_of(std::string url, int protocol, const char* input_name,
                             const char* output_name, const char* function) {
  Endpoint endpoint(std::move(url));
  switch (protocol) {
    case RVAE_PROTOCOL_AUTO:
      break;
    case RVAE_PROTOCOL_HUGGING_FACE:
      endpoint.with_protocol(WireProtocol::kHuggingFace);
      break;
    case RVAE_PROTOCOL_OPEN_INFERENCE:
      endpoint.with_protocol(WireProtocol::kOpenInference);
      break;
    default:
      return Error(ErrorCode::kInvalidArgument,
                   std::string(function) + ": params->protocol is " + std::to_string(protocol) +
                       ", not one of RVAE_PROTOCOL_AUTO, _HUGGING_FACE, _OPEN_INFERENCE");
  }
  if (input_name != nullptr || output_name != nullptr) {
    endpoint.with_tensor_names(input_name != nullptr ? input_name : "",
                               output_name != nullptr ? output_name : "");
  }
  return endpoint;
}

}  // namespace rvae::capi

namespace {

const rvae::ModelPreset* preset_or_null(const char* model) {
  if (model == nullptr) return nullptr;
  try {
    return rvae::capi::builtin_presets().find(model);
  } catch (...) {
    return nullptr;
  }
}

rvae_dtype c_dtype(rvae::DType dtype) {
  switch (dtype) {
    case rvae::DType::kFloat32:
      return RVAE_DTYPE_FLOAT32;
    case rvae::DType::kFloat16:
      return RVAE_DTYPE_FLOAT16;
    case rvae::DType::kBFloat16:
      return RVAE_DTYPE_BFLOAT16;
    case rvae::DType::kUInt8:
      return RVAE_DTYPE_UINT8;
  }
  return RVAE_DTYPE_FLOAT32;
}

// rvae_preset in the first rvae.h ended with packed_latents.
constexpr std::size_t kPresetV1 = RVAE_CAPI_SIZE_THROUGH(rvae_preset, packed_latents);
static_assert(sizeof(void*) != 8 || kPresetV1 == 88, "the first version's layout moved");
static_assert(rvae::capi::starts_after_padding(kPresetV1, alignof(rvae_preset),
                                               offsetof(rvae_preset, max_image_side)));
// Where each version of rvae_preset ends, oldest first; a field added later gets a row here.
constexpr std::size_t kPresetFieldEnds[] = {
    kPresetV1,
    RVAE_CAPI_SIZE_THROUGH(rvae_preset, max_image_side),
    RVAE_CAPI_SIZE_THROUGH(rvae_preset, latents_std),
};
// The first version that can describe a per-channel model.
constexpr std::size_t kPresetPerChannel = RVAE_CAPI_SIZE_THROUGH(rvae_preset, latents_std);

}  // namespace

extern "C" {

int rvae_preset_get(const char* model, rvae_preset* out, rvae_error** err) {
  using rvae::capi::fail;
  return rvae::capi::guarded(err, "rvae_preset_get", [&] {
    if (model == nullptr) {
      return fail(err, rvae::ErrorCode::kInvalidArgument, "rvae_preset_get: model is NULL");
    }
    if (out == nullptr) {
      return fail(err, rvae::ErrorCode::kInvalidArgument, "rvae_preset_get: out is NULL");
    }
    // The library fills this struct, so it may grow: any size from the first version on is
    // accepted, and only the fields that fit in the caller's struct are written.
    if (out->struct_size < kPresetV1) {
      return fail(err, rvae::ErrorCode::kInvalidArgument,
                  "rvae_preset_get: out->struct_size is " + std::to_string(out->struct_size) +
                      ", expected at least " + std::to_string(kPresetV1) +
                      " (set it to sizeof(rvae_preset))");
    }
    const rvae::ModelPreset* preset = preset_or_null(model);
    if (preset == nullptr) {
      return fail(err, rvae::ErrorCode::kNotFound,
                  rvae::capi::find_model(model, "rvae_preset_get").error().message());
    }
    // An older struct would show only scaling_factor, which alone describes these latents
    // wrongly: refuse rather than let the caller scale with it.
    if (preset->per_channel() && out->struct_size < kPresetPerChannel) {
      return fail(err, rvae::ErrorCode::kInvalidArgument,
                  "rvae_preset_get: model '" + preset->name +
                      "' normalises latents per channel, which an rvae_preset of struct_size " +
                      std::to_string(out->struct_size) + " cannot describe (at least " +
                      std::to_string(kPresetPerChannel) +
                      " needed: rebuild against the current rvae.h)");
    }
    rvae_preset filled{};
    filled.name = preset->name.c_str();
    filled.model_id = preset->model_id.c_str();
    filled.decode_endpoint = preset->decode_endpoint.c_str();
    filled.encode_endpoint = preset->encode_endpoint.c_str();
    filled.latent_channels = preset->latent_channels;
    filled.scaling_factor = preset->scaling_factor;
    filled.has_shift_factor = preset->shift_factor ? 1 : 0;
    filled.shift_factor = preset->shift_factor.value_or(0.0);
    filled.dtype = c_dtype(preset->dtype);
    filled.spatial_compression = preset->spatial_compression;
    filled.temporal_compression = preset->temporal_compression;
    filled.packed_latents = preset->packed_latents ? 1 : 0;
    filled.max_image_side = preset->max_image_side;
    filled.normalization =
        preset->per_channel() ? RVAE_NORMALIZATION_PER_CHANNEL : RVAE_NORMALIZATION_SCALAR;
    // The built-in registry is static, so its vectors outlive every caller.
    filled.latents_mean = preset->per_channel() ? preset->latents_mean.data() : nullptr;
    filled.latents_std = preset->per_channel() ? preset->latents_std.data() : nullptr;
    // Everything after struct_size, up to the end of the last whole field that fits.
    std::size_t end = 0;
    for (std::size_t field_end : kPresetFieldEnds) {
      if (field_end <= out->struct_size) end = field_end;
    }
    constexpr std::size_t kStart = sizeof(out->struct_size);
    std::memcpy(reinterpret_cast<unsigned char*>(out) + kStart,
                reinterpret_cast<const unsigned char*>(&filled) + kStart, end - kStart);
    return rvae::capi::succeed(err);
  });
}

const char* rvae_preset_decode_endpoint(const char* model) {
  const rvae::ModelPreset* preset = preset_or_null(model);
  return preset && !preset->decode_endpoint.empty() ? preset->decode_endpoint.c_str() : nullptr;
}

const char* rvae_preset_encode_endpoint(const char* model) {
  const rvae::ModelPreset* preset = preset_or_null(model);
  return preset && !preset->encode_endpoint.empty() ? preset->encode_endpoint.c_str() : nullptr;
}

}  // extern "C"
