// Small helpers shared by the decode and encode handlers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "rvae/error.hpp"
#include "rvae/tensor.hpp"

namespace rvae::testing {

/// Every handler failure becomes HTTP 400 with this message.
inline Error bad_request(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

/// Writes element `index` of a float16/bfloat16/float32 buffer (little-endian host).
inline void store_float(DType dtype, std::uint8_t* base, std::size_t index, float value) noexcept {
  if (dtype == DType::kFloat32) {
    std::memcpy(base + index * 4, &value, 4);
    return;
  }
  const std::uint16_t bits =
      dtype == DType::kFloat16 ? float32_to_float16(value) : float32_to_bfloat16(value);
  std::memcpy(base + index * 2, &bits, 2);
}

}  // namespace rvae::testing
