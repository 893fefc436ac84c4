// Model presets in C: the built-in registry, looked up by name.
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
    if (out->struct_size != sizeof(rvae_preset)) {
      return fail(err, rvae::ErrorCode::kInvalidArgument,
                  "rvae_preset_get: out->struct_size is " + std::to_string(out->struct_size) +
                      ", expected sizeof(rvae_preset) = " + std::to_string(sizeof(rvae_preset)));
    }
    const rvae::ModelPreset* preset = preset_or_null(model);
    if (preset == nullptr) {
      return fail(err, rvae::ErrorCode::kNotFound,
                  rvae::capi::find_model(model, "rvae_preset_get").error().message());
    }
    out->name = preset->name.c_str();
    out->model_id = preset->model_id.c_str();
    out->decode_endpoint = preset->decode_endpoint.c_str();
    out->encode_endpoint = preset->encode_endpoint.c_str();
    out->latent_channels = preset->latent_channels;
    out->scaling_factor = preset->scaling_factor;
    out->has_shift_factor = preset->shift_factor ? 1 : 0;
    out->shift_factor = preset->shift_factor.value_or(0.0);
    out->dtype = c_dtype(preset->dtype);
    out->spatial_compression = preset->spatial_compression;
    out->temporal_compression = preset->temporal_compression;
    out->packed_latents = preset->packed_latents ? 1 : 0;
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
