// A model's metadata (GET /v2/models/{m}): parsed strictly and within bounds, then the tensors
// a call uses chosen from it.
#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "core/try.hpp"
#include "files/strict_json.hpp"
#include "protocol/open_inference.hpp"
#include "protocol/open_inference_internal.hpp"
#include "protocol/protocol_internal.hpp"
#include "tensor/datatype_names.hpp"

namespace rvae::protocol::oip {
namespace {

using internal::dims_text;
using internal::in_quotes;
using protocol::internal::data_loss;
using json = nlohmann::json;

constexpr std::size_t kMaxMetadataBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxMetadataDepth = 16;
constexpr std::size_t kMaxTensors = 64;
constexpr std::size_t kMaxRank = 8;
constexpr std::size_t kMaxNameBytes = 256;

Result<std::string> read_string(const json& object, const char* key, bool required,
                                std::string_view where) {
  const auto it = object.find(key);
  if (it == object.end() || (!required && it->is_null())) {
    if (!required) return std::string();
    return data_loss("model metadata " + std::string(where) + "has no `" + key + "`");
  }
  if (!it->is_string()) {
    return data_loss("model metadata " + std::string(where) + "has a `" + key +
                     "` that is not a string");
  }
  const auto& value = it->get_ref<const std::string&>();
  if (value.size() > kMaxNameBytes) {
    return data_loss("model metadata " + std::string(where) + "has a `" + key + "` longer than " +
                     std::to_string(kMaxNameBytes) + " bytes");
  }
  return value;
}

Result<TensorMetadata> read_tensor(const json& value, const char* side, std::size_t index) {
  const std::string where = std::string(side) + " " + std::to_string(index) + " ";
  if (!value.is_object()) return data_loss("model metadata " + where + "is not an object");
  TensorMetadata tensor;
  RVAE_ASSIGN_OR_RETURN(tensor.name, read_string(value, "name", true, where));
  if (tensor.name.empty()) return data_loss("model metadata " + where + "has an empty name");
  const std::string named = std::string(side) + " " + in_quotes(tensor.name) + " ";
  RVAE_ASSIGN_OR_RETURN(tensor.datatype, read_string(value, "datatype", true, named));
  const auto shape = value.find("shape");
  if (shape == value.end() || !shape->is_array()) {
    return data_loss("model metadata " + named + "has no `shape` array");
  }
  if (shape->size() > kMaxRank) {
    return data_loss("model metadata " + named + "has more than " + std::to_string(kMaxRank) +
                     " dimensions");
  }
  for (const json& dim : *shape) {
    // nlohmann keeps 2^63 and above as unsigned and 4.0 as a float: neither is a dimension.
    bool integer = false;
    std::int64_t d = 0;
    if (dim.is_number_unsigned()) {
      const auto u = dim.get<std::uint64_t>();
      integer = u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
      d = static_cast<std::int64_t>(u);
    } else if (dim.is_number_integer()) {
      integer = true;
      d = dim.get<std::int64_t>();
    }
    if (!integer) {
      return data_loss("model metadata " + named + "has a dimension that is not an integer");
    }
    if (d < -1) {
      return data_loss("model metadata " + named + "has the dimension " + std::to_string(d) +
                       " (only -1 or sizes >= 0)");
    }
    tensor.shape.push_back(d);
  }
  return tensor;
}

Result<std::vector<TensorMetadata>> read_tensors(const json& doc, const char* key,
                                                 const char* side) {
  const auto it = doc.find(key);
  if (it == doc.end()) return data_loss(std::string("model metadata has no `") + key + "`");
  if (!it->is_array()) {
    return data_loss(std::string("model metadata has `") + key + "` that is not an array");
  }
  if (it->size() > kMaxTensors) {
    return data_loss(std::string("model metadata has more than ") + std::to_string(kMaxTensors) +
                     " " + key);
  }
  std::vector<TensorMetadata> tensors;
  for (std::size_t i = 0; i < it->size(); ++i) {
    RVAE_ASSIGN_OR_RETURN(auto tensor, read_tensor((*it)[i], side, i));
    for (const TensorMetadata& other : tensors) {
      if (other.name == tensor.name) {
        return data_loss("model metadata has the " + std::string(side) + " " +
                         in_quotes(tensor.name) + " twice");
      }
    }
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

std::string tensor_list(const std::vector<TensorMetadata>& tensors) {
  std::string out;
  for (const TensorMetadata& t : tensors) {
    if (!out.empty()) out += ", ";
    out +=
        in_quotes(t.name) + " (" + internal::in_quotes(t.datatype) + " " + dims_text(t.shape) + ")";
  }
  return out.empty() ? "none" : out;
}

Result<const TensorMetadata*> choose(const std::vector<TensorMetadata>& tensors,
                                     std::string_view name, const ModelMetadata& metadata,
                                     const char* side) {
  const std::string model = in_quotes(metadata.name);
  if (name.empty()) {
    if (tensors.size() == 1) return &tensors.front();
    return Error(ErrorCode::kInvalidArgument,
                 "model " + model + " has " + std::to_string(tensors.size()) + " " + side +
                     "s; name the one to use: " + tensor_list(tensors));
  }
  for (const TensorMetadata& t : tensors) {
    if (t.name == name) return &t;
  }
  return Error(ErrorCode::kInvalidArgument, "model " + model + " has no " + side + " " +
                                                in_quotes(name) + "; its " + side +
                                                "s: " + tensor_list(tensors));
}

}  // namespace

bool operator==(const TensorMetadata& a, const TensorMetadata& b) {
  return a.name == b.name && a.datatype == b.datatype && a.shape == b.shape;
}

bool operator==(const ModelMetadata& a, const ModelMetadata& b) {
  return a.name == b.name && a.versions == b.versions && a.platform == b.platform &&
         a.inputs == b.inputs && a.outputs == b.outputs;
}

std::string_view datatype_name(DType dtype) noexcept {
  return rvae::internal::datatype_name(dtype);
}

std::optional<DType> dtype_from_datatype(std::string_view datatype) noexcept {
  return rvae::internal::dtype_from_datatype(datatype);
}

Result<ModelMetadata> parse_metadata_reply(http::HttpResponse&& response) {
  if (response.status != 200) return error_from_reply(response);
  const Bytes& body = response.body;
  if (body.size() > kMaxMetadataBytes) {
    return Error(ErrorCode::kResourceExhausted, "model metadata of " + std::to_string(body.size()) +
                                                    " bytes is above the limit of " +
                                                    std::to_string(kMaxMetadataBytes));
  }
  const std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
  // nlohmann ends its input at a NUL byte, which JSON text never holds.
  if (text.find('\0') != std::string_view::npos) {
    return data_loss("model metadata is not valid JSON (it holds a NUL byte); the reply is " +
                     protocol::internal::describe_body(body));
  }
  auto parsed = rvae::internal::parse_json_strict(text, "model metadata", kMaxMetadataDepth);
  if (!parsed) {
    // Malformed metadata is the server's fault (or the URL's: not such a server at all).
    const Error& e = parsed.error();
    if (e.code() != ErrorCode::kInvalidArgument) return std::move(parsed).error();
    return Error(ErrorCode::kDataLoss,
                 e.message() + "; the reply is " + protocol::internal::describe_body(body));
  }
  const json& doc = *parsed;
  if (!doc.is_object()) {
    return data_loss("model metadata is not a JSON object; the reply is " +
                     protocol::internal::describe_body(body));
  }
  ModelMetadata metadata;
  RVAE_ASSIGN_OR_RETURN(metadata.name, read_string(doc, "name", true, ""));
  RVAE_ASSIGN_OR_RETURN(metadata.platform, read_string(doc, "platform", false, ""));
  if (const auto versions = doc.find("versions"); versions != doc.end() && !versions->is_null()) {
    if (!versions->is_array() || versions->size() > kMaxTensors) {
      return data_loss("model metadata has `versions` that is not a short array");
    }
    for (const json& v : *versions) {
      if (!v.is_string() || v.get_ref<const std::string&>().size() > kMaxNameBytes) {
        return data_loss("model metadata has a version that is not a short string");
      }
      metadata.versions.push_back(v.get<std::string>());
    }
  }
  RVAE_ASSIGN_OR_RETURN(metadata.inputs, read_tensors(doc, "inputs", "input"));
  RVAE_ASSIGN_OR_RETURN(metadata.outputs, read_tensors(doc, "outputs", "output"));
  return metadata;
}

Result<TensorChoice> choose_tensors(const ModelMetadata& metadata, std::string_view input_name,
                                    std::string_view output_name) {
  TensorChoice choice;
  RVAE_ASSIGN_OR_RETURN(choice.input, choose(metadata.inputs, input_name, metadata, "input"));
  RVAE_ASSIGN_OR_RETURN(choice.output, choose(metadata.outputs, output_name, metadata, "output"));
  return choice;
}

}  // namespace rvae::protocol::oip
