// Reading a tensor body the way the service's toolkit does (PROTOCOL.md §2).
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "rvae/bytes.hpp"
#include "rvae/tensor.hpp"
#include "testing/inference.hpp"
#include "testing/inference_util.hpp"
#include "testing/query_params.hpp"

namespace rvae::reference {

Result<Tensor> parse_tensor_body(const QueryParams& params, std::string_view body,
                                 std::size_t max_bytes) {
  const QueryValue* dtype_value = params.find("dtype");
  if (dtype_value == nullptr) return bad_request("Expected `dtype` in query params.");
  std::optional<DType> dtype;
  if (!dtype_value->is_list() && dtype_value->items.front().kind == QueryScalar::Kind::kString) {
    dtype = dtype_from_name(dtype_value->items.front().text);
  }
  if (!dtype) {
    return bad_request("Supported `dtype`: ['float16', 'float32', 'bfloat16', 'uint8']. Got `" +
                       dtype_value->python_str() + "`.");
  }

  const QueryValue* shape_value = params.find("shape");
  if (shape_value == nullptr) return bad_request("Expected `shape` in query params.");
  Shape shape;
  for (const QueryScalar& item : shape_value->items) {
    if (item.kind != QueryScalar::Kind::kInt || item.int_overflow) {
      return bad_request("`shape` must be integers, got `" + shape_value->python_str() + "`.");
    }
    shape.push_back(item.int_value);
  }
  Result<std::size_t> size = checked_byte_size(shape, *dtype, max_bytes);
  if (!size) {
    return bad_request("Invalid `shape` " + shape_to_string(shape) + " for dtype " +
                       std::string(dtype_name(*dtype)) + ": " + size.error().message());
  }
  if (body.size() != *size) {
    return bad_request("Body has " + std::to_string(body.size()) + " bytes, but shape " +
                       shape_to_string(shape) + " of " + std::string(dtype_name(*dtype)) +
                       " needs " + std::to_string(*size) + " bytes.");
  }
  Bytes bytes(body.begin(), body.end());
  return Tensor::from_bytes(std::move(shape), *dtype, std::move(bytes));
}

}  // namespace rvae::reference
