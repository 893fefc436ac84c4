// Element-wise reading and writing of any dtype as float32, shared by convert, Tensor::to_floats
// and latent scaling so each dtype rule lives in one place.
#pragma once

#include <cstddef>

#include "rvae/tensor.hpp"

namespace rvae::internal {

/// Reads elements [first, first + count) of a `dtype` buffer into `out` as float32
/// (uint8 becomes 0..255).
void load_floats(const void* src, DType dtype, std::size_t first, std::size_t count,
                 float* out) noexcept;

/// Writes `count` float32 values as elements [first, first + count) of a `dtype` buffer. For
/// uint8 the values are rounded to nearest even and clamped to 0..255; NaN becomes 0.
void store_floats(const float* in, std::size_t count, DType dtype, void* dst,
                  std::size_t first) noexcept;

/// Elements per chunk when a conversion goes through a float32 scratch buffer on the stack.
inline constexpr std::size_t kFloatChunk = 1024;

}  // namespace rvae::internal
