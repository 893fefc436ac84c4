// float16 / bfloat16 <-> float32, bit-exact and branch-free.
//
// Every conversion is one inline function of integer ops and mask selects (see select()), so the
// bulk loops auto-vectorise with plain SSE2 and the scalar API and the bulk API share one
// definition of the rounding rules.
//
// NaN rule: the payload bits that fit are kept, sign and quiet/signalling bit included, so every
// 16-bit pattern survives a round trip through float32 unchanged. A float32 NaN whose payload
// lives only in the bits that are cut off gets the quiet bit set, so it stays a NaN instead of
// turning into Inf.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "rvae/tensor.hpp"

namespace rvae {
namespace {

inline std::uint32_t float_bits(float value) noexcept {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

inline float bits_float(std::uint32_t bits) noexcept {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// `condition ? a : b` as mask arithmetic: GCC at -O2 sometimes turns a plain ?: back into a
// branch, which stops vectorisation; all-ones/all-zeros masks never do.
inline std::uint32_t select(bool condition, std::uint32_t a, std::uint32_t b) noexcept {
  const std::uint32_t mask = 0u - static_cast<std::uint32_t>(condition);
  return (a & mask) | (b & ~mask);
}

// float16 -> float32 (after F. Giesen's half_to_float): move exponent and mantissa into place and
// rebias; Inf/NaN get the rest of the exponent range; subnormals are renormalised by an exact
// float subtraction whose operands are both normal, so flush-to-zero modes cannot break it.
inline float half_to_float(std::uint16_t half) noexcept {
  constexpr std::uint32_t kShiftedExp = 0x7c00u << 13;  // float16 exponent field, in place.
  const std::uint32_t h = half;
  const std::uint32_t moved = (h & 0x7fffu) << 13;
  const std::uint32_t exp = moved & kShiftedExp;
  const std::uint32_t normal = moved + ((127u - 15u) << 23);
  const std::uint32_t inf_nan = normal + ((128u - 16u) << 23);
  // normal + 2^23 is 2^-14 * (1 + mantissa/1024); subtracting 2^-14 leaves mantissa * 2^-24.
  const float subnormal = bits_float(normal + (1u << 23)) - bits_float(113u << 23);
  std::uint32_t out = select(exp == kShiftedExp, inf_nan, normal);
  out = select(exp == 0, float_bits(subnormal), out);
  return bits_float(out | ((h & 0x8000u) << 16));
}

// float32 -> float16, round to nearest even (after F. Giesen's float_to_half_fast3_rtne). The
// magnitude picks one of three results computed unconditionally: normal (integer rounding with
// the carry running into the exponent, which also overflows to Inf), subnormal (a float add whose
// hardware rounding is exactly float16's subnormal spacing, in the current FP rounding mode, i.e.
// nearest-even unless the caller changed it) or Inf/NaN. Denormals-are-zero mode cannot break it:
// float32 denormals round to float16 zero anyway.
// The result is in the low 16 bits; see narrow_all() for why it is returned as 32 bits.
inline std::uint32_t float_to_half(float value) noexcept {
  const std::uint32_t bits = float_bits(value);
  const std::uint32_t sign = (bits >> 16) & 0x8000u;
  // Signed compares vectorise on plain SSE2; the magnitude always fits in int32.
  const auto magnitude = static_cast<std::int32_t>(bits & 0x7fffffffu);
  const auto umag = static_cast<std::uint32_t>(magnitude);

  const std::uint32_t mantissa_odd = (umag >> 13) & 1u;
  const std::uint32_t normal =
      (umag + (static_cast<std::uint32_t>(15 - 127) << 23) + 0xfffu + mantissa_odd) >> 13;

  constexpr std::uint32_t kDenormMagic = ((127u - 15u) + (23u - 10u) + 1u) << 23;  // 0.5f
  const std::uint32_t subnormal =
      float_bits(bits_float(umag) + bits_float(kDenormMagic)) - kDenormMagic;

  const std::uint32_t payload = (umag >> 13) & 0x3ffu;
  const std::uint32_t nan = 0x7c00u | payload | select(payload == 0, 0x200u, 0u);
  const std::uint32_t inf_nan = select(magnitude > 0x7f800000, nan, 0x7c00u);

  constexpr std::int32_t kMinNormal = 113 << 23;        // 2^-14, float16's smallest normal.
  constexpr std::int32_t kOverflow = (127 + 16) << 23;  // 2^16: Inf for any rounding.
  std::uint32_t out = select(magnitude < kMinNormal, subnormal, normal);
  out = select(magnitude >= kOverflow, inf_nan, out);
  return out | sign;
}

inline float bhalf_to_float(std::uint16_t bhalf) noexcept {
  return bits_float(static_cast<std::uint32_t>(bhalf) << 16);
}

// float32 -> bfloat16: round to nearest even on the upper half; NaN is truncated instead (rounding
// could carry into the exponent), keeping it a NaN as described at the top.
inline std::uint32_t float_to_bhalf(float value) noexcept {
  const std::uint32_t bits = float_bits(value);
  const std::uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  const std::uint32_t upper = bits >> 16;
  const std::uint32_t nan = upper | select((upper & 0x7fu) == 0, 0x40u, 0u);
  const auto magnitude = static_cast<std::int32_t>(bits & 0x7fffffffu);
  return select(magnitude > 0x7f800000, nan, rounded);
}

// GCC -O2 (the "very cheap" cost model) vectorises only loops with no scalar remainder and no
// runtime alias checks, so the body runs on fixed-size blocks through restrict pointers and the
// tail (< kBlock elements) runs separately.
constexpr std::size_t kBlock = 16;

template <float (*kConvert)(std::uint16_t)>
inline void widen_all(const std::uint16_t* __restrict src, float* __restrict dst,
                      std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    for (std::size_t j = 0; j < kBlock; ++j)
      dst[i + j] = kConvert(src[i + j]);
  }
  for (; i < n; ++i)
    dst[i] = kConvert(src[i]);
}

// Narrowing in the same loop as the arithmetic makes GCC demote the selects to 16-bit lanes and
// shuffle every mask down, which costs ~1.5-2x in instructions; computing a block in 32-bit lanes
// first and narrowing it in a second loop leaves one pack per vector.
template <std::uint32_t (*kConvert)(float)>
inline void narrow_all(const float* __restrict src, std::uint16_t* __restrict dst,
                       std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    std::uint32_t wide[kBlock];
    for (std::size_t j = 0; j < kBlock; ++j)
      wide[j] = kConvert(src[i + j]);
    for (std::size_t j = 0; j < kBlock; ++j)
      dst[i + j] = static_cast<std::uint16_t>(wide[j]);
  }
  for (; i < n; ++i)
    dst[i] = static_cast<std::uint16_t>(kConvert(src[i]));
}

}  // namespace

float float16_to_float32(std::uint16_t bits) noexcept {
  return half_to_float(bits);
}
std::uint16_t float32_to_float16(float value) noexcept {
  return static_cast<std::uint16_t>(float_to_half(value));
}
float bfloat16_to_float32(std::uint16_t bits) noexcept {
  return bhalf_to_float(bits);
}
std::uint16_t float32_to_bfloat16(float value) noexcept {
  return static_cast<std::uint16_t>(float_to_bhalf(value));
}

void convert_float16_to_float32(const std::uint16_t* src, float* dst, std::size_t n) noexcept {
  widen_all<half_to_float>(src, dst, n);
}
void convert_float32_to_float16(const float* src, std::uint16_t* dst, std::size_t n) noexcept {
  narrow_all<float_to_half>(src, dst, n);
}
void convert_bfloat16_to_float32(const std::uint16_t* src, float* dst, std::size_t n) noexcept {
  widen_all<bhalf_to_float>(src, dst, n);
}
void convert_float32_to_bfloat16(const float* src, std::uint16_t* dst, std::size_t n) noexcept {
  narrow_all<float_to_bhalf>(src, dst, n);
}

}  // namespace rvae
