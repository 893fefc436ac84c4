// The reference endpoint's models on the Open Inference Protocol (PROTOCOL.md §8): their names
// (`{preset}_decoder`, `{preset}_encoder`), their tensors and metadata, and the /v2 routes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rvae/tensor.hpp"
#include "rvae/testing/reference_endpoint.hpp"
#include "testing/stand_in_vae.hpp"

namespace rvae::reference {

/// One model of the /v2 routes: a stand-in VAE's decoder or encoder.
struct OipModel {
  std::string name;  ///< e.g. "sdxl_decoder"
  const StandInVae* vae = nullptr;
  EndpointRole role = EndpointRole::kDecode;
};

/// The model of that name; nullopt for an unknown name (or an encoder the VAE lacks).
std::optional<OipModel> find_oip_model(std::string_view name);

/// The datatypes the models name, a server setting (the input's may change at run time).
struct OipDatatypes {
  DType input = DType::kFloat16;
  DType decoder_output = DType::kFloat32;  ///< kFloat32, kFloat16 or kUInt8 (pixels, NHWC)
};

/// One tensor of the metadata: `shape` holds -1 for a variable dimension.
struct OipTensorSpec {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
};

/// The model's only input and only output.
OipTensorSpec oip_input_spec(const OipModel& model, const OipDatatypes& datatypes);
OipTensorSpec oip_output_spec(const OipModel& model, const OipDatatypes& datatypes);

/// The metadata reply, `{"name","versions":["1"],"platform","inputs":[...],"outputs":[...]}`.
std::string oip_metadata_json(const OipModel& model, const OipDatatypes& datatypes);

/// The wire name of a dtype: "FP32", "FP16", "BF16", "UINT8".
std::string oip_datatype_name(DType dtype);
/// The dtype of a wire name; nullopt for another name.
std::optional<DType> oip_dtype_from_name(std::string_view name);

/// A /v2 route: what it asks and of which model.
struct OipRoute {
  enum class Kind { kServerReady, kServerLive, kMetadata, kModelReady, kInfer };
  Kind kind = Kind::kServerReady;
  std::string model;
  std::optional<std::string> version;  ///< digits
};

/// The route of a path under /v2; nullopt for any other path there.
std::optional<OipRoute> match_oip_route(std::string_view path);

/// Triton's 404 text for a model (and version) it does not know.
std::string unknown_model_message(const std::string& model,
                                  const std::optional<std::string>& version);
/// Triton's 404 text for a model that is not loaded (yet).
std::string unavailable_model_message(const std::string& model);

}  // namespace rvae::reference
