// Element-wise reading and writing of any dtype as float32, shared by convert, Tensor::to_floats
// and latent scaling so each dtype rule lives in one place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "rvae/tensor.hpp"

namespace rvae::internal {

/// float32 to a uint8 level: clamped to 0..255, rounded half to even; NaN becomes 0.
inline std::uint8_t float_to_uint8(float value) noexcept {
  // Round half to even by the 2^23 trick: exact for 0..255 after clamping, and branch-free. The
  // comparisons are written so NaN fails the first one and becomes 0.
  float clamped = value > 0.0f ? value : 0.0f;
  clamped = clamped < 255.0f ? clamped : 255.0f;
  constexpr float kMagic = 8388608.0f;  // 2^23: adding it leaves no fraction bits.
  const float rounded = (clamped + kMagic) - kMagic;
  return static_cast<std::uint8_t>(rounded);
}

// One element at a time, for loops that gather or scatter (planar to interleaved). Inline and
// built on public functions only, so rvae::testing, which sees only a shared librvae's public
// symbols, can use them too.

/// Element `index` of a `dtype` buffer (little-endian host) as float32; uint8 gives 0..255.
inline float load_float(DType dtype, const std::uint8_t* base, std::size_t index) noexcept {
  switch (dtype) {
    case DType::kFloat32: {
      float value;
      std::memcpy(&value, base + index * 4, 4);
      return value;
    }
    case DType::kFloat16:
    case DType::kBFloat16: {
      std::uint16_t bits;
      std::memcpy(&bits, base + index * 2, 2);
      return dtype == DType::kFloat16 ? float16_to_float32(bits) : bfloat16_to_float32(bits);
    }
    case DType::kUInt8:
      return static_cast<float>(base[index]);
  }
  return 0.0f;
}

/// Writes `value` as element `index` of a `dtype` buffer, by store_floats' rules.
inline void store_float(DType dtype, std::uint8_t* base, std::size_t index, float value) noexcept {
  switch (dtype) {
    case DType::kFloat32:
      std::memcpy(base + index * 4, &value, 4);
      return;
    case DType::kFloat16:
    case DType::kBFloat16: {
      const std::uint16_t bits =
          dtype == DType::kFloat16 ? float32_to_float16(value) : float32_to_bfloat16(value);
      std::memcpy(base + index * 2, &bits, 2);
      return;
    }
    case DType::kUInt8:
      base[index] = float_to_uint8(value);
      return;
  }
}

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
