// Reading an inference request. nlohmann's SAX parser is iterative, so the depth bound below is
// the only recursion there is; the DOM it builds holds everything but `data`, bounded in nodes
// and string bytes, so a hostile body cannot make it grow past a few times its header.
#include "testing/oip_request.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/try.hpp"
#include "testing/inference_util.hpp"

namespace rvae::reference {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxDepth = 32;
constexpr std::size_t kMaxNodes = std::size_t{1} << 16;

// Builds the DOM of the request except `inputs[i].data`, whose numbers go to `data_arrays`; the
// input object holds the array's index under "data" instead.
class RequestSax : public nlohmann::json_sax<Json> {
 public:
  RequestSax(std::size_t max_string_bytes, std::size_t max_elements)
      : max_string_bytes_(max_string_bytes), max_elements_(max_elements) {}

  Json root;
  std::vector<std::vector<float>> data_arrays;
  std::string error;

  bool null() override { return value(Json()); }
  bool boolean(bool v) override { return value(Json(v)); }
  bool number_integer(number_integer_t v) override {
    return data_depth_ > 0 ? number(static_cast<double>(v)) : value(Json(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    return data_depth_ > 0 ? number(static_cast<double>(v)) : value(Json(v));
  }
  bool number_float(number_float_t v, const string_t&) override {
    if (data_depth_ > 0) return number(v);
    if (!std::isfinite(v)) return fail("numbers must be finite");
    return value(Json(v));
  }
  bool string(string_t& v) override {
    string_bytes_ += v.size();
    if (string_bytes_ > max_string_bytes_) return fail("the request's strings are too long");
    return value(Json(std::move(v)));
  }
  bool binary(binary_t&) override { return fail("binary values are not JSON"); }
  bool start_object(std::size_t) override {
    if (data_depth_ > 0) return fail(data_type_error());
    return open(Json::object());
  }
  bool key(string_t& k) override {
    string_bytes_ += k.size();
    if (string_bytes_ > max_string_bytes_) return fail("the request's strings are too long");
    key_ = std::move(k);
    // "data" inside an input opens a data array: its numbers skip the DOM.
    expect_data_ = !stack_.empty() && stack_.back().role == Role::kInput && key_ == "data";
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    if (data_depth_ > 0) {
      if (++data_depth_ + stack_.size() > kMaxDepth) return fail(depth_error());
      return true;
    }
    if (expect_data_) {
      expect_data_ = false;
      data_arrays.emplace_back();
      if (place(Json(data_arrays.size() - 1)) == nullptr) {
        return fail("the request has too many JSON values");
      }
      data_depth_ = 1;
      return true;
    }
    return open(Json::array());
  }
  bool end_array() override {
    if (data_depth_ > 0) {
      --data_depth_;
      return true;
    }
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    if (error.empty()) error = std::string("malformed JSON: ") + e.what();
    return false;
  }

 private:
  enum class Role { kOther, kRoot, kInputs, kInput };
  struct Frame {
    Json* container;
    Role role;
  };

  bool fail(std::string message) {
    if (error.empty()) error = std::move(message);
    return false;
  }
  static std::string data_type_error() { return "an input's 'data' must hold only numbers"; }
  static std::string depth_error() {
    return "the request nests deeper than " + std::to_string(kMaxDepth) + " levels";
  }

  // Adds a value where the parser is (root, array element or object member); returns it.
  Json* place(Json&& v) {
    if (++nodes_ > kMaxNodes) return nullptr;
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    Json& parent = *stack_.back().container;
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    Json& member = parent[key_];
    member = std::move(v);
    return &member;
  }

  bool value(Json&& v) {
    if (data_depth_ > 0) return fail(data_type_error());
    if (expect_data_) return fail("an input's 'data' must be an array");
    return place(std::move(v)) != nullptr || fail("the request has too many JSON values");
  }

  bool open(Json&& container) {
    if (expect_data_) return fail("an input's 'data' must be an array");
    if (stack_.size() + 1 > kMaxDepth) return fail(depth_error());
    Role role = Role::kOther;
    if (stack_.empty()) {
      role = Role::kRoot;
    } else if (stack_.back().role == Role::kRoot && key_ == "inputs" && container.is_array()) {
      role = Role::kInputs;
    } else if (stack_.back().role == Role::kInputs && container.is_object()) {
      role = Role::kInput;
    }
    Json* placed = place(std::move(container));
    if (placed == nullptr) return fail("the request has too many JSON values");
    stack_.push_back({placed, role});
    return true;
  }

  // A number of a `data` array: float32 is its buffer, so it must be finite there.
  bool number(double v) {
    if (!std::isfinite(v) || std::fabs(v) > std::numeric_limits<float>::max()) {
      return fail("an input's 'data' holds a number outside the range of FP32");
    }
    std::vector<float>& target = data_arrays.back();
    if (++elements_ > max_elements_) return fail("the request's 'data' has too many elements");
    target.push_back(static_cast<float>(v));
    return true;
  }

  std::vector<Frame> stack_;
  std::string key_;
  bool expect_data_ = false;
  std::size_t data_depth_ = 0;
  std::size_t nodes_ = 0;
  std::size_t string_bytes_ = 0;
  std::size_t elements_ = 0;
  const std::size_t max_string_bytes_;
  const std::size_t max_elements_;
};

Result<std::string> string_field(const Json& object, const char* key, const char* where) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    return bad_request(std::string(where) + " needs a string '" + key + "'");
  }
  return it->get<std::string>();
}

Result<void> check_parameters(const Json& parameters, const char* where) {
  if (!parameters.is_object())
    return bad_request(std::string(where) + "'parameters' must be an object");
  return {};
}

Result<OipInput> read_input(const Json& object, std::vector<std::vector<float>>& data_arrays) {
  if (!object.is_object()) return bad_request("each of 'inputs' must be an object");
  OipInput input;
  RVAE_ASSIGN_OR_RETURN(input.name, string_field(object, "name", "an input"));
  RVAE_ASSIGN_OR_RETURN(input.datatype, string_field(object, "datatype", "an input"));
  const auto shape = object.find("shape");
  if (shape == object.end() || !shape->is_array()) {
    return bad_request("input '" + input.name + "' needs a 'shape' array");
  }
  for (const Json& dim : *shape) {
    if (!dim.is_number_integer() || dim.get<std::int64_t>() < 0) {
      return bad_request("input '" + input.name +
                         "' has a 'shape' that is not non-negative "
                         "integers");
    }
    input.shape.push_back(dim.get<std::int64_t>());
  }
  if (const auto parameters = object.find("parameters"); parameters != object.end()) {
    RVAE_TRY(check_parameters(*parameters, "an input's "));
    if (const auto size = parameters->find("binary_data_size"); size != parameters->end()) {
      if (!size->is_number_unsigned()) {
        return bad_request("input '" + input.name +
                           "': 'binary_data_size' must be a "
                           "non-negative integer");
      }
      input.binary_data_size = size->get<std::uint64_t>();
    }
  }
  if (const auto data = object.find("data"); data != object.end()) {
    input.has_data = true;
    input.data = std::move(data_arrays[data->get<std::size_t>()]);
  }
  if (input.has_data && input.binary_data_size) {
    return bad_request("input '" + input.name + "' has both 'data' and 'binary_data_size'");
  }
  if (!input.has_data && !input.binary_data_size) {
    return bad_request("input '" + input.name + "' has neither 'data' nor 'binary_data_size'");
  }
  return input;
}

Result<OipRequestedOutput> read_output(const Json& object) {
  if (!object.is_object()) return bad_request("each of 'outputs' must be an object");
  OipRequestedOutput output;
  RVAE_ASSIGN_OR_RETURN(output.name, string_field(object, "name", "an output"));
  if (const auto parameters = object.find("parameters"); parameters != object.end()) {
    RVAE_TRY(check_parameters(*parameters, "an output's "));
    if (const auto binary = parameters->find("binary_data"); binary != parameters->end()) {
      if (!binary->is_boolean()) {
        return bad_request("output '" + output.name + "': 'binary_data' must be true or false");
      }
      output.binary_data = binary->get<bool>();
    }
  }
  return output;
}

Result<OipInferRequest> read_request(RequestSax& sax) {
  const Json& root = sax.root;
  if (!root.is_object()) return bad_request("the inference request must be a JSON object");
  OipInferRequest request;
  if (const auto id = root.find("id"); id != root.end()) {
    if (!id->is_string()) return bad_request("'id' must be a string");
    if (!id->get_ref<const std::string&>().empty()) request.id = id->get<std::string>();
  }
  if (const auto parameters = root.find("parameters"); parameters != root.end()) {
    RVAE_TRY(check_parameters(*parameters, "the request's "));
    for (const auto& item : parameters->items()) {
      // Triton reserves these for itself and refuses them from clients.
      if (item.key().rfind("triton_", 0) == 0) {
        return bad_request("parameter '" + item.key() +
                           "' is reserved for Triton usage and should not be specified.");
      }
    }
    if (const auto binary = parameters->find("binary_data_output"); binary != parameters->end()) {
      if (!binary->is_boolean()) return bad_request("'binary_data_output' must be true or false");
      request.binary_data_output = binary->get<bool>();
    }
  }
  const auto inputs = root.find("inputs");
  if (inputs == root.end() || !inputs->is_array()) {
    return bad_request("the inference request needs an 'inputs' array");
  }
  for (const Json& input : *inputs) {
    RVAE_ASSIGN_OR_RETURN(OipInput parsed, read_input(input, sax.data_arrays));
    request.inputs.push_back(std::move(parsed));
  }
  if (const auto outputs = root.find("outputs"); outputs != root.end()) {
    if (!outputs->is_array()) return bad_request("'outputs' must be an array");
    request.outputs.emplace();
    for (const Json& output : *outputs) {
      RVAE_ASSIGN_OR_RETURN(OipRequestedOutput parsed, read_output(output));
      request.outputs->push_back(std::move(parsed));
    }
  }
  return request;
}

}  // namespace

Result<OipInferRequest> parse_oip_request(std::string_view body,
                                          std::optional<std::uint64_t> header_length,
                                          const OipParseLimits& limits) {
  std::string_view json = body;
  std::string_view binary;
  if (header_length) {
    if (*header_length == 0) {
      return bad_request(
          "raw binary requests (Inference-Header-Content-Length: 0) are not "
          "supported: a VAE's input has more than one variable dimension");
    }
    if (*header_length > limits.max_json_header_bytes) {
      return bad_request("Inference-Header-Content-Length " + std::to_string(*header_length) +
                         " exceeds the limit of " + std::to_string(limits.max_json_header_bytes) +
                         " bytes");
    }
    if (*header_length > body.size()) {
      return bad_request("Inference-Header-Content-Length " + std::to_string(*header_length) +
                         " is larger than the body of " + std::to_string(body.size()) + " bytes");
    }
    json = body.substr(0, static_cast<std::size_t>(*header_length));
    binary = body.substr(static_cast<std::size_t>(*header_length));
  } else if (body.size() > limits.max_json_body_bytes) {
    return bad_request("a JSON inference request of " + std::to_string(body.size()) +
                       " bytes exceeds the limit of " + std::to_string(limits.max_json_body_bytes) +
                       " bytes; send the inputs as binary data");
  }
  // A number takes at least two bytes with its separator, so this bounds `data` by the body.
  RequestSax sax(limits.max_json_header_bytes, json.size() / 2 + 1);
  if (!Json::sax_parse(json.begin(), json.end(), &sax)) {
    return bad_request("failed to parse the request JSON: " +
                       (sax.error.empty() ? std::string("malformed JSON") : sax.error));
  }
  RVAE_ASSIGN_OR_RETURN(OipInferRequest request, read_request(sax));
  std::size_t offset = 0;
  for (OipInput& input : request.inputs) {
    if (!input.binary_data_size) continue;
    if (*input.binary_data_size > binary.size() - offset) {
      return bad_request("input '" + input.name + "' names " +
                         std::to_string(*input.binary_data_size) + " bytes of binary data, but " +
                         std::to_string(binary.size() - offset) + " are left in the body");
    }
    input.bytes = binary.substr(offset, static_cast<std::size_t>(*input.binary_data_size));
    offset += input.bytes.size();
  }
  if (offset != binary.size()) {
    return bad_request("unexpected additional input data: the body holds " +
                       std::to_string(binary.size() - offset) +
                       " bytes more than the inputs' binary_data_size add up to");
  }
  return request;
}

}  // namespace rvae::reference
