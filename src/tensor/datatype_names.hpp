// The Open Inference Protocol's names of the dtypes rvae holds (KServe v2 datatypes, PROTOCOL.md
// §8): one spelling for the client's protocol layer and the reference endpoint. Header-only, so
// the reference endpoint can use it.
#pragma once

#include <optional>
#include <string_view>

#include "rvae/tensor.hpp"

namespace rvae::internal {

/// "FP32", "FP16", "BF16", "UINT8".
constexpr std::string_view datatype_name(DType dtype) noexcept {
  switch (dtype) {
    case DType::kFloat32:
      return "FP32";
    case DType::kFloat16:
      return "FP16";
    case DType::kBFloat16:
      return "BF16";
    case DType::kUInt8:
      return "UINT8";
  }
  return "FP32";
}

/// The dtype of a datatype name; nullopt for one rvae cannot hold (e.g. "INT64", "FP64").
constexpr std::optional<DType> dtype_from_datatype(std::string_view datatype) noexcept {
  for (DType dtype : {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kUInt8}) {
    if (datatype == datatype_name(dtype)) return dtype;
  }
  return std::nullopt;
}

}  // namespace rvae::internal
