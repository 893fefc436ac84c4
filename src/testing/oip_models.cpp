// Model names, metadata and route matching of the Open Inference Protocol side (PROTOCOL.md §8).
#include "testing/oip_models.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tensor/datatype_names.hpp"
#include "testing/stand_in_vae.hpp"

namespace rvae::reference {
namespace {

constexpr std::string_view kDecoderSuffix = "_decoder";
constexpr std::string_view kEncoderSuffix = "_encoder";

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

// [-1, C, -1, -1] or [-1, C, -1, -1, -1]: batch and sizes vary, the channel count is fixed.
Shape variable_shape(int rank, std::int64_t channels) {
  Shape shape(static_cast<std::size_t>(rank), -1);
  shape[1] = channels;
  return shape;
}

nlohmann::json tensor_json(const OipTensorSpec& spec) {
  return {{"name", spec.name}, {"datatype", oip_datatype_name(spec.dtype)}, {"shape", spec.shape}};
}

}  // namespace

std::optional<OipModel> find_oip_model(std::string_view name) {
  EndpointRole role;
  std::string_view preset;
  if (ends_with(name, kDecoderSuffix)) {
    role = EndpointRole::kDecode;
    preset = name.substr(0, name.size() - kDecoderSuffix.size());
  } else if (ends_with(name, kEncoderSuffix)) {
    role = EndpointRole::kEncode;
    preset = name.substr(0, name.size() - kEncoderSuffix.size());
  } else {
    return std::nullopt;
  }
  const StandInVae* vae = find_stand_in_vae(preset);
  if (vae == nullptr || (role == EndpointRole::kEncode && !vae->can_encode)) return std::nullopt;
  return OipModel{std::string(name), vae, role};
}

OipTensorSpec oip_input_spec(const OipModel& model, const OipDatatypes& datatypes) {
  const int rank = model.vae->latent_rank();
  if (model.role == EndpointRole::kDecode) {
    return {"latent_sample", datatypes.input, variable_shape(rank, model.vae->channels)};
  }
  return {"sample", datatypes.input, variable_shape(rank, 3)};
}

OipTensorSpec oip_output_spec(const OipModel& model, const OipDatatypes& datatypes) {
  const int rank = model.vae->latent_rank();
  if (model.role == EndpointRole::kEncode) {
    return {"latent_sample", DType::kFloat32, variable_shape(rank, model.vae->channels)};
  }
  if (datatypes.decoder_output == DType::kUInt8) {
    Shape shape(static_cast<std::size_t>(rank), -1);  // post-processed pixels, channels last
    shape.back() = 3;
    return {"sample", DType::kUInt8, shape};
  }
  return {"sample", datatypes.decoder_output, variable_shape(rank, 3)};
}

std::string oip_metadata_json(const OipModel& model, const OipDatatypes& datatypes) {
  const nlohmann::json metadata = {
      {"name", model.name},
      {"versions", {"1"}},
      {"platform", "rvae_reference"},
      {"inputs", {tensor_json(oip_input_spec(model, datatypes))}},
      {"outputs", {tensor_json(oip_output_spec(model, datatypes))}},
  };
  return metadata.dump();
}

std::string oip_datatype_name(DType dtype) {
  return std::string(internal::datatype_name(dtype));
}

std::optional<DType> oip_dtype_from_name(std::string_view name) {
  return internal::dtype_from_datatype(name);
}

std::optional<OipRoute> match_oip_route(std::string_view path) {
  OipRoute route;
  if (path == "/v2/health/ready") {
    route.kind = OipRoute::Kind::kServerReady;
    return route;
  }
  if (path == "/v2/health/live") {
    route.kind = OipRoute::Kind::kServerLive;
    return route;
  }
  constexpr std::string_view kModels = "/v2/models/";
  if (path.substr(0, kModels.size()) != kModels) return std::nullopt;
  std::string_view rest = path.substr(kModels.size());
  const std::size_t slash = rest.find('/');
  route.model = std::string(rest.substr(0, slash));
  if (route.model.empty()) return std::nullopt;
  rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  constexpr std::string_view kVersions = "/versions/";
  if (rest.substr(0, kVersions.size()) == kVersions) {
    rest.remove_prefix(kVersions.size());
    const std::size_t end = rest.find('/');
    const std::string_view version = rest.substr(0, end);
    if (!all_digits(version)) return std::nullopt;
    route.version = std::string(version);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  }
  if (rest.empty()) {
    route.kind = OipRoute::Kind::kMetadata;
  } else if (rest == "/ready") {
    route.kind = OipRoute::Kind::kModelReady;
  } else if (rest == "/infer") {
    route.kind = OipRoute::Kind::kInfer;
  } else {
    return std::nullopt;
  }
  return route;
}

std::string unknown_model_message(const std::string& model,
                                  const std::optional<std::string>& version) {
  if (version)
    return "Request for unknown model: '" + model + "' version " + *version + " is not found";
  return "Request for unknown model: '" + model + "' is not found";
}

std::string unavailable_model_message(const std::string& model) {
  return "Request for unknown model: '" + model + "' has no available versions";
}

}  // namespace rvae::reference
