// DType names and sizes, and the overflow-safe shape arithmetic every tensor buffer relies on.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "rvae/error.hpp"
#include "rvae/tensor.hpp"

namespace rvae {

std::size_t dtype_size(DType dtype) noexcept {
  switch (dtype) {
    case DType::kFloat32:
      return 4;
    case DType::kFloat16:
    case DType::kBFloat16:
      return 2;
    case DType::kUInt8:
      return 1;
  }
  return 0;  // Unreachable for valid enumerators; 0 makes every size check fail.
}

std::string_view dtype_name(DType dtype) noexcept {
  switch (dtype) {
    case DType::kFloat32:
      return "float32";
    case DType::kFloat16:
      return "float16";
    case DType::kBFloat16:
      return "bfloat16";
    case DType::kUInt8:
      return "uint8";
  }
  return "unknown";
}

std::optional<DType> dtype_from_name(std::string_view name) noexcept {
  for (DType dtype : {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kUInt8}) {
    if (name == dtype_name(dtype)) return dtype;
  }
  return std::nullopt;
}

std::string shape_to_string(const Shape& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(shape[i]);
  }
  out += ']';
  return out;
}

Result<std::size_t> checked_byte_size(const Shape& shape, DType dtype, std::size_t max_bytes) {
  if (shape.empty() || shape.size() > kMaxDims) {
    return Error(ErrorCode::kInvalidArgument,
                 "tensor shape " + shape_to_string(shape) + " has " + std::to_string(shape.size()) +
                     " dimensions; expected 1 to " + std::to_string(kMaxDims));
  }
  const std::size_t element_size = dtype_size(dtype);
  if (element_size == 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "unknown dtype value " + std::to_string(static_cast<int>(dtype)));
  }
  constexpr std::size_t kSizeMax = std::numeric_limits<std::size_t>::max();
  std::size_t bytes = element_size;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const std::int64_t dim = shape[i];
    if (dim <= 0) {
      return Error(ErrorCode::kInvalidArgument, "tensor shape " + shape_to_string(shape) +
                                                    ": dimension " + std::to_string(i) + " is " +
                                                    std::to_string(dim) + "; must be positive");
    }
    // int64 > 0 always fits in uint64; guard 32-bit size_t separately.
    const auto udim = static_cast<std::uint64_t>(dim);
    if (udim > kSizeMax || bytes > kSizeMax / static_cast<std::size_t>(udim)) {
      return Error(ErrorCode::kInvalidArgument, "tensor shape " + shape_to_string(shape) + " of " +
                                                    std::string(dtype_name(dtype)) +
                                                    " overflows the byte count at dimension " +
                                                    std::to_string(i));
    }
    bytes *= static_cast<std::size_t>(udim);
  }
  if (bytes > max_bytes) {
    return Error(ErrorCode::kResourceExhausted,
                 "tensor shape " + shape_to_string(shape) + " of " +
                     std::string(dtype_name(dtype)) + " needs " + std::to_string(bytes) +
                     " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  return bytes;
}

}  // namespace rvae
