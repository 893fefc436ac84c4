// float16 / bfloat16 conversions, checked against reference decoders written from the IEEE
// formats (ldexp of sign, exponent and mantissa), never against the implementation's own output.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "rvae/tensor.hpp"

namespace rvae {
namespace {

std::uint32_t bits_of(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

float float_of(std::uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// IEEE binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits.
double reference_half(std::uint16_t h) {
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  if (exponent == 0x1f) {
    return mantissa ? std::numeric_limits<double>::quiet_NaN()
                    : sign * std::numeric_limits<double>::infinity();
  }
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

// bfloat16 is the upper half of binary32: 8 exponent bits (bias 127), 7 mantissa bits.
double reference_bhalf(std::uint16_t b) {
  const double sign = (b & 0x8000) ? -1.0 : 1.0;
  const int exponent = (b >> 7) & 0xff;
  const int mantissa = b & 0x7f;
  if (exponent == 0xff) {
    return mantissa ? std::numeric_limits<double>::quiet_NaN()
                    : sign * std::numeric_limits<double>::infinity();
  }
  if (exponent == 0) return sign * std::ldexp(mantissa, -133);
  return sign * std::ldexp(128 + mantissa, exponent - 134);
}

// Checks that `got` is the correctly rounded (nearest, ties to even) encoding of finite `x`,
// given the decoder of the format, its largest finite magnitude pattern and the overflow
// threshold (the value halfway between that largest finite value and the next power of two).
template <typename Decode>
void expect_nearest_even(float x, std::uint16_t got, Decode decode, std::uint16_t max_finite,
                         double overflow) {
  const double v = std::fabs(static_cast<double>(x));
  const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  ASSERT_EQ(got & 0x8000, sign) << "sign of " << x;
  const std::uint16_t mag = got & 0x7fff;
  if (v >= overflow) {
    ASSERT_EQ(mag, 0x7fff & (max_finite + 1)) << "expected Inf for " << x;
    return;
  }
  ASSERT_LE(mag, max_finite) << x;
  const double d = std::fabs(v - decode(mag));
  if (mag > 0) {
    const double below = std::fabs(v - decode(static_cast<std::uint16_t>(mag - 1)));
    ASSERT_LE(d, below) << x;
    if (d == below) {
      ASSERT_EQ(mag % 2, 0) << "tie not to even for " << x;
    }
  }
  if (mag < max_finite) {
    const double above = std::fabs(v - decode(static_cast<std::uint16_t>(mag + 1)));
    ASSERT_LE(d, above) << x;
    if (d == above) {
      ASSERT_EQ(mag % 2, 0) << "tie not to even for " << x;
    }
  }
}

constexpr std::uint16_t kHalfMaxFinite = 0x7bff;   // 65504
const double kHalfOverflow = 65520.0;              // (65504 + 65536) / 2
constexpr std::uint16_t kBHalfMaxFinite = 0x7f7f;  // (2 - 2^-7) * 2^127
const double kBHalfOverflow = std::ldexp(1.0, 128) - std::ldexp(1.0, 119);

TEST(Float16Test, EveryPatternDecodesToTheIeeeValue) {
  for (std::uint32_t h = 0; h <= 0xffff; ++h) {
    const auto half = static_cast<std::uint16_t>(h);
    const float f = float16_to_float32(half);
    const double expected = reference_half(half);
    if (std::isnan(expected)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << h;
      // Payload and quiet bit move to the top of the float32 mantissa; the sign is kept.
      ASSERT_EQ(bits_of(f), ((h & 0x8000u) << 16) | 0x7f800000u | ((h & 0x3ffu) << 13))
          << std::hex << h;
    } else {
      ASSERT_EQ(static_cast<double>(f), expected) << std::hex << h;
      ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << h;
    }
  }
}

TEST(Float16Test, EveryPatternRoundTripsExactly) {
  for (std::uint32_t h = 0; h <= 0xffff; ++h) {
    const auto half = static_cast<std::uint16_t>(h);
    ASSERT_EQ(float32_to_float16(float16_to_float32(half)), half) << std::hex << h;
  }
}

TEST(Float16Test, HandBuiltRoundingCases) {
  EXPECT_EQ(float32_to_float16(1.0f), 0x3c00);
  // Float16 spacing at 1 is 2^-10; these sit at half a step (ties) or just past it.
  EXPECT_EQ(float32_to_float16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie -> even 1.0
  EXPECT_EQ(float32_to_float16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie -> 1 + 2^-9
  EXPECT_EQ(float32_to_float16(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3c01);
  EXPECT_EQ(float32_to_float16(1.0f + std::ldexp(1.0f, -11) - std::ldexp(1.0f, -20)), 0x3c00);
  EXPECT_EQ(float32_to_float16(-1.0f - 3 * std::ldexp(1.0f, -11)), 0xbc02);
  // Largest finite, the overflow threshold, and beyond.
  EXPECT_EQ(float32_to_float16(65504.0f), 0x7bff);
  EXPECT_EQ(float32_to_float16(65519.996f), 0x7bff);
  EXPECT_EQ(float32_to_float16(65520.0f), 0x7c00);
  EXPECT_EQ(float32_to_float16(-65520.0f), 0xfc00);
  EXPECT_EQ(float32_to_float16(1e10f), 0x7c00);
  EXPECT_EQ(float32_to_float16(std::numeric_limits<float>::max()), 0x7c00);
  // Subnormals: the smallest is 2^-24; 2^-25 is a tie between 0 and it and goes to 0.
  EXPECT_EQ(float32_to_float16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(float32_to_float16(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(float32_to_float16(-std::ldexp(1.0f, -25)), 0x8000);
  EXPECT_EQ(float32_to_float16(std::ldexp(1.0f, -25) + std::ldexp(1.0f, -40)), 0x0001);
  EXPECT_EQ(float32_to_float16(1.5f * std::ldexp(1.0f, -24)), 0x0002);     // tie -> even 2
  EXPECT_EQ(float32_to_float16(2.5f * std::ldexp(1.0f, -24)), 0x0002);     // tie -> even 2
  EXPECT_EQ(float32_to_float16(std::ldexp(1.0f, -14)), 0x0400);            // smallest normal
  EXPECT_EQ(float32_to_float16(1023.5f * std::ldexp(1.0f, -24)), 0x0400);  // tie -> even 1024
  EXPECT_EQ(float32_to_float16(1022.5f * std::ldexp(1.0f, -24)), 0x03fe);  // tie -> even 1022
  EXPECT_EQ(float32_to_float16(std::numeric_limits<float>::denorm_min()), 0x0000);
  // Zeros keep their sign.
  EXPECT_EQ(float32_to_float16(0.0f), 0x0000);
  EXPECT_EQ(float32_to_float16(-0.0f), 0x8000);
  EXPECT_TRUE(std::signbit(float16_to_float32(0x8000)));
  EXPECT_EQ(float16_to_float32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(float16_to_float32(0x7bff), 65504.0f);
}

TEST(Float16Test, InfinityAndNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(float32_to_float16(inf), 0x7c00);
  EXPECT_EQ(float32_to_float16(-inf), 0xfc00);
  EXPECT_EQ(float16_to_float32(0x7c00), inf);
  EXPECT_EQ(float16_to_float32(0xfc00), -inf);
  EXPECT_EQ(float32_to_float16(float_of(0x7fc00000u)), 0x7e00);  // canonical quiet NaN
  EXPECT_EQ(float32_to_float16(float_of(0xffc00000u)), 0xfe00);  // negative quiet NaN
  EXPECT_EQ(float32_to_float16(float_of(0x7f802000u)), 0x7c01);  // payload in kept bits
  // Payload only in the bits cut off: must not become Inf, so the quiet bit is set.
  EXPECT_EQ(float32_to_float16(float_of(0x7f800001u)), 0x7e00);
  EXPECT_EQ(float32_to_float16(float_of(0xff801fffu)), 0xfe00);
  EXPECT_TRUE(std::isnan(float16_to_float32(0x7e00)));
  EXPECT_TRUE(std::isnan(float16_to_float32(0x7c01)));
}

TEST(Float16Test, RoundsToNearestEvenOnRandomAndStructuredFloats) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<std::uint32_t> any_bits;
  std::uniform_real_distribution<float> in_range(-70000.0f, 70000.0f);
  std::uniform_real_distribution<float> tiny(-std::ldexp(1.0f, -13), std::ldexp(1.0f, -13));
  std::vector<float> values;
  for (int i = 0; i < 200000; ++i) {
    values.push_back(float_of(any_bits(rng)));
    values.push_back(in_range(rng));
    values.push_back(tiny(rng));
  }
  // Every float32 whose low 13 bits hold the interesting rounding patterns, across the whole
  // float16 range: exact halves, ties, and one ulp either side.
  for (std::uint32_t top = 0; top < 0x47800000u; top += 0x2000u * 7) {
    for (std::uint32_t low : {0x0u, 0x1u, 0xfffu, 0x1000u, 0x1001u, 0x1fffu}) {
      values.push_back(float_of(top | low));
    }
  }
  for (float x : values) {
    if (std::isnan(x)) continue;
    expect_nearest_even(x, float32_to_float16(x), reference_half, kHalfMaxFinite, kHalfOverflow);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(BFloat16Test, EveryPatternDecodesAndRoundTripsExactly) {
  for (std::uint32_t b = 0; b <= 0xffff; ++b) {
    const auto bhalf = static_cast<std::uint16_t>(b);
    const float f = bfloat16_to_float32(bhalf);
    ASSERT_EQ(bits_of(f), b << 16) << std::hex << b;
    const double expected = reference_bhalf(bhalf);
    if (std::isnan(expected)) {
      ASSERT_TRUE(std::isnan(f));
    } else {
      ASSERT_EQ(static_cast<double>(f), expected) << std::hex << b;
    }
    ASSERT_EQ(float32_to_bfloat16(f), bhalf) << std::hex << b;
  }
}

TEST(BFloat16Test, HandBuiltRoundingCases) {
  EXPECT_EQ(float32_to_bfloat16(1.0f), 0x3f80);
  // Bfloat16 spacing at 1 is 2^-7.
  EXPECT_EQ(float32_to_bfloat16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);      // tie -> even
  EXPECT_EQ(float32_to_bfloat16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);  // tie -> even
  EXPECT_EQ(float32_to_bfloat16(float_of(0x3f808001u)), 0x3f81);            // past the tie
  EXPECT_EQ(float32_to_bfloat16(float_of(0x3f807fffu)), 0x3f80);            // before it
  EXPECT_EQ(float32_to_bfloat16(float_of(0x7f7f7fffu)), 0x7f7f);  // stays the largest finite
  EXPECT_EQ(float32_to_bfloat16(float_of(0x7f7f8000u)), 0x7f80);  // tie at the top -> Inf
  EXPECT_EQ(float32_to_bfloat16(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(float32_to_bfloat16(-std::numeric_limits<float>::max()), 0xff80);
  EXPECT_EQ(float32_to_bfloat16(float_of(0x00000001u)), 0x0000);
  EXPECT_EQ(float32_to_bfloat16(float_of(0x00008000u)), 0x0000);  // tie -> even 0
  EXPECT_EQ(float32_to_bfloat16(float_of(0x00018000u)), 0x0002);  // tie -> even 2
  EXPECT_EQ(float32_to_bfloat16(-0.0f), 0x8000);
  EXPECT_EQ(float32_to_bfloat16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(float32_to_bfloat16(-std::numeric_limits<float>::infinity()), 0xff80);
}

TEST(BFloat16Test, NaNStaysNaN) {
  EXPECT_EQ(float32_to_bfloat16(float_of(0x7fc00000u)), 0x7fc0);
  EXPECT_EQ(float32_to_bfloat16(float_of(0xffc00000u)), 0xffc0);
  EXPECT_EQ(float32_to_bfloat16(float_of(0x7f810000u)), 0x7f81);  // signalling, kept
  // Rounding 0x7fffffff up would carry into the sign; NaN is truncated instead.
  EXPECT_EQ(float32_to_bfloat16(float_of(0x7fffffffu)), 0x7fff);
  // Payload only in the low half: the quiet bit keeps it a NaN rather than Inf.
  EXPECT_EQ(float32_to_bfloat16(float_of(0x7f800001u)), 0x7fc0);
  EXPECT_EQ(float32_to_bfloat16(float_of(0xff80ffffu)), 0xffc0);
}

TEST(BFloat16Test, RoundsToNearestEvenOnRandomFloats) {
  std::mt19937 rng(777);
  std::uniform_int_distribution<std::uint32_t> any_bits;
  for (int i = 0; i < 500000; ++i) {
    const float x = float_of(any_bits(rng));
    if (std::isnan(x)) {
      ASSERT_TRUE(std::isnan(bfloat16_to_float32(float32_to_bfloat16(x))));
      continue;
    }
    expect_nearest_even(x, float32_to_bfloat16(x), reference_bhalf, kBHalfMaxFinite,
                        kBHalfOverflow);
    if (HasFatalFailure()) return;
  }
}

// Bulk loops run on blocks plus a tail; odd lengths exercise both.
std::vector<float> interesting_floats(std::size_t n) {
  std::mt19937 rng(4242);
  std::uniform_int_distribution<std::uint32_t> any_bits;
  std::uniform_real_distribution<float> latent(-8.0f, 8.0f);
  std::vector<float> values = {0.0f,
                               -0.0f,
                               1.0f,
                               65504.0f,
                               65520.0f,
                               -65520.0f,
                               std::ldexp(1.0f, -25),
                               std::ldexp(1.0f, -24),
                               std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity(),
                               float_of(0x7fc00000u),
                               float_of(0x7f800001u),
                               float_of(0xff802000u),
                               std::numeric_limits<float>::max()};
  while (values.size() < n) {
    values.push_back(float_of(any_bits(rng)));
    values.push_back(latent(rng));
  }
  values.resize(n);
  return values;
}

TEST(BulkConversionTest, MatchesScalarBitForBit) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16},
                        std::size_t{17}, std::size_t{100003}}) {
    const std::vector<float> floats = interesting_floats(n);
    std::vector<std::uint16_t> half(n), bhalf(n);
    convert_float32_to_float16(floats.data(), half.data(), n);
    convert_float32_to_bfloat16(floats.data(), bhalf.data(), n);
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(half[i], float32_to_float16(floats[i])) << i;
      ASSERT_EQ(bhalf[i], float32_to_bfloat16(floats[i])) << i;
    }
    std::vector<float> from_half(n), from_bhalf(n);
    convert_float16_to_float32(half.data(), from_half.data(), n);
    convert_bfloat16_to_float32(bhalf.data(), from_bhalf.data(), n);
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(bits_of(from_half[i]), bits_of(float16_to_float32(half[i]))) << i;
      ASSERT_EQ(bits_of(from_bhalf[i]), bits_of(bfloat16_to_float32(bhalf[i]))) << i;
    }
  }
}

TEST(BulkConversionTest, AllSixteenBitPatternsMatchScalar) {
  std::vector<std::uint16_t> patterns(65536);
  for (std::size_t i = 0; i < patterns.size(); ++i)
    patterns[i] = static_cast<std::uint16_t>(i);
  std::vector<float> from_half(65536), from_bhalf(65536);
  convert_float16_to_float32(patterns.data(), from_half.data(), patterns.size());
  convert_bfloat16_to_float32(patterns.data(), from_bhalf.data(), patterns.size());
  std::vector<std::uint16_t> back_half(65536), back_bhalf(65536);
  convert_float32_to_float16(from_half.data(), back_half.data(), patterns.size());
  convert_float32_to_bfloat16(from_bhalf.data(), back_bhalf.data(), patterns.size());
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    ASSERT_EQ(bits_of(from_half[i]), bits_of(float16_to_float32(patterns[i]))) << i;
    ASSERT_EQ(bits_of(from_bhalf[i]), bits_of(bfloat16_to_float32(patterns[i]))) << i;
    ASSERT_EQ(back_half[i], patterns[i]) << i;
    ASSERT_EQ(back_bhalf[i], patterns[i]) << i;
  }
}

}  // namespace
}  // namespace rvae
