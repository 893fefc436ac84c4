#include <cstdint>
#include <exception>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "core/try.hpp"
#include "protocol/protocol.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol {
namespace {

using internal::data_loss;

// The shape header is tiny ("[1,3,512,512]"); anything much longer is not a shape.
constexpr std::size_t kMaxShapeHeader = 256;

Result<Shape> parse_shape_header(const std::string& text) {
  const std::string quoted = "'" + internal::clean_text(text, 80) + "'";
  if (text.size() > kMaxShapeHeader) {
    return data_loss("tensor reply's shape header is too long (" + std::to_string(text.size()) +
                     " bytes)");
  }
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text, nullptr, false);
  } catch (const std::exception&) {
    doc = nlohmann::json(nlohmann::json::value_t::discarded);
  }
  if (doc.is_discarded()) {
    return data_loss("tensor reply's shape header " + quoted + " is not JSON");
  }
  if (!doc.is_array()) {
    return data_loss("tensor reply's shape header " + quoted + " is not a JSON array");
  }
  if (doc.empty() || doc.size() > kMaxDims) {
    return data_loss("tensor reply's shape header " + quoted + " must have 1 to " +
                     std::to_string(kMaxDims) + " dimensions");
  }
  Shape shape;
  for (const nlohmann::json& dim : doc) {
    // nlohmann keeps 3.0 as a float and 2^63 and above as unsigned: neither is a dimension.
    bool ok = false;
    if (dim.is_number_unsigned()) {
      const auto value = dim.get<std::uint64_t>();
      ok = value > 0 &&
           value <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
      if (ok) shape.push_back(static_cast<std::int64_t>(value));
    } else if (dim.is_number_integer()) {
      const auto value = dim.get<std::int64_t>();
      ok = value > 0;
      if (ok) shape.push_back(value);
    }
    if (!ok) {
      return data_loss("tensor reply's shape header " + quoted +
                       " must hold positive integers only");
    }
  }
  return shape;
}

}  // namespace

Result<TensorHeader> parse_tensor_header(const HttpResponse& response) {
  const std::string* shape_header = response.header("shape");
  if (shape_header == nullptr) {
    return data_loss("tensor reply has no shape header; the body is " +
                     internal::describe_body(response.body));
  }
  const std::string* dtype_header = response.header("dtype");
  if (dtype_header == nullptr) {
    return data_loss("tensor reply has no dtype header; the body is " +
                     internal::describe_body(response.body));
  }
  RVAE_ASSIGN_OR_RETURN(auto shape, parse_shape_header(*shape_header));
  const std::optional<DType> dtype = dtype_from_name(*dtype_header);
  if (!dtype) {
    return data_loss("tensor reply has unknown dtype '" + internal::clean_text(*dtype_header, 80) +
                     "'");
  }
  auto needed = checked_byte_size(shape, *dtype);
  if (!needed) {
    return data_loss("tensor reply's shape " + shape_to_string(shape) + " dtype " +
                     std::string(dtype_name(*dtype)) +
                     " is impossible: " + needed.error().message());
  }
  return TensorHeader{std::move(shape), *dtype, *needed};
}

Result<Tensor> parse_tensor_reply(HttpResponse&& response) {
  if (response.status != 200) return error_from_reply(response);
  RVAE_ASSIGN_OR_RETURN(TensorHeader header, parse_tensor_header(response));
  if (response.body.size() != header.bytes) {
    return data_loss("reply body is " + std::to_string(response.body.size()) + " bytes, shape " +
                     shape_to_string(header.shape) + " dtype " +
                     std::string(dtype_name(header.dtype)) + " needs " +
                     std::to_string(header.bytes) +
                     (response.body.size() < header.bytes ? " (cut short)" : " (extra bytes)"));
  }
  return Tensor::from_bytes(std::move(header.shape), header.dtype, std::move(response.body));
}

}  // namespace rvae::protocol
