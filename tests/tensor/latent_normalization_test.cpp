// denormalize_latents / normalize_latents against PROTOCOL.md §9's formulas, written out here:
// raw = z / s + shift; raw[c] = z[c] * std[c] / s + mean[c]; and their inverses.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rvae/tensor.hpp"
#include "support/result_matchers.hpp"
#include "tensor/latent_normalization.hpp"

namespace rvae {
namespace {

using ::testing::HasSubstr;
using testing_support::IsError;

TensorView view_of(const std::vector<float>& values, Shape shape) {
  return TensorView{values.data(), values.size() * sizeof(float), std::move(shape),
                    DType::kFloat32};
}

std::vector<float> ramp(std::size_t n) {
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i)
    x[i] = static_cast<float>(i % 97) * 0.05f - 2.0f;
  return x;
}

LatentNormalization three_channels() {
  LatentNormalization norm;
  norm.mean = {-0.7571, 0.1075, 1.5508};
  norm.std = {2.8184, 1.2196, 3.2687};
  return norm;
}

TEST(LatentNormalizationTest, PerChannelDenormalizeMatchesTheFormulaOnVideoLatents) {
  // [B=2, C=3, T=2, h=30, w=20]: 1200 elements per channel run, more than one chunk.
  const Shape shape{2, 3, 2, 30, 20};
  const std::size_t inner = 2 * 30 * 20;
  const std::vector<float> z = ramp(2 * 3 * inner);
  LatentNormalization norm = three_channels();
  norm.scaling_factor = 0.5;
  Tensor raw = denormalize_latents(view_of(z, shape), norm, DType::kFloat32).value();
  ASSERT_EQ(raw.shape(), shape);
  ASSERT_EQ(raw.dtype(), DType::kFloat32);
  for (std::size_t i = 0; i < z.size(); ++i) {
    const std::size_t c = (i / inner) % 3;
    const double expected = static_cast<double>(z[i]) * norm.std[c] / 0.5 + norm.mean[c];
    ASSERT_NEAR(raw.data_as<float>()[i], expected, 1e-5 * (1 + std::fabs(expected))) << i;
  }
}

TEST(LatentNormalizationTest, IntoAGivenBufferWritesEveryByteOfIt) {
  const Shape shape{1, 3, 4, 5};
  const std::vector<float> z = ramp(60);
  const LatentNormalization norm = three_channels();
  const Tensor fresh = denormalize_latents(view_of(z, shape), norm, DType::kFloat16).value();
  // A recycled buffer: larger than needed and full of old bytes.
  Bytes storage(500, 0xAB);
  const std::uint8_t* given = storage.data();
  Result<Tensor> into = internal::denormalize_latents_into(view_of(z, shape), norm, DType::kFloat16,
                                                           std::move(storage));
  ASSERT_TRUE(into.has_value());
  EXPECT_EQ(into->data(), given);
  EXPECT_EQ(into->shape(), shape);
  ASSERT_EQ(into->size_bytes(), fresh.size_bytes());
  EXPECT_EQ(std::memcmp(into->data(), fresh.data(), fresh.size_bytes()), 0);
  // The same checks as the allocating form.
  EXPECT_THAT(internal::denormalize_latents_into(view_of(z, {1, 60}), norm, DType::kFloat16, {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("unpack")));
}

TEST(LatentNormalizationTest, PerChannelNormalizeInvertsAndMatchesTheFormula) {
  const Shape shape{1, 3, 4, 5};
  const std::vector<float> raw = ramp(60);
  const LatentNormalization norm = three_channels();
  Tensor z = normalize_latents(view_of(raw, shape), norm, DType::kFloat32).value();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const std::size_t c = i / 20;
    const double expected = (static_cast<double>(raw[i]) - norm.mean[c]) * 1.0 / norm.std[c];
    ASSERT_NEAR(z.data_as<float>()[i], expected, 1e-5) << i;
  }
  Tensor back = denormalize_latents(z.view(), norm, DType::kFloat32).value();
  for (std::size_t i = 0; i < raw.size(); ++i)
    ASSERT_NEAR(back.data_as<float>()[i], raw[i], 1e-5) << i;
}

TEST(LatentNormalizationTest, ScalarFormWorksOnAnyRankLikeUnscale) {
  const std::vector<float> z = {1.0f, -2.0f, 0.5f, 0.0f};
  LatentNormalization norm;
  norm.scaling_factor = 0.5;
  norm.shift_factor = 0.25;
  // Powers of two keep every step exact: z / 0.5 + 0.25 and (z - 0.25) * 0.5.
  for (const Shape& shape : {Shape{4}, Shape{1, 2, 2}, Shape{1, 1, 2, 2}}) {
    EXPECT_EQ(denormalize_latents(view_of(z, shape), norm, DType::kFloat32)->to_floats(),
              (std::vector<float>{2.25f, -3.75f, 1.25f, 0.25f}));
    EXPECT_EQ(normalize_latents(view_of(z, shape), norm, DType::kFloat32)->to_floats(),
              (std::vector<float>{0.375f, -1.125f, 0.125f, -0.125f}));
  }
}

TEST(LatentNormalizationTest, OutputDtypeIsTheOneAskedFor) {
  // bfloat16 in (1.0, -2.0), per channel with std 2 and mean 1: raw = 3, -3.
  const std::vector<std::uint16_t> bf = {0x3f80, 0xc000};
  LatentNormalization norm;
  norm.mean = {1.0, 1.0};
  norm.std = {2.0, 2.0};
  const TensorView z{bf.data(), 4, {1, 2, 1, 1}, DType::kBFloat16};
  Tensor as_bf = denormalize_latents(z, norm, DType::kBFloat16).value();
  EXPECT_EQ(as_bf.dtype(), DType::kBFloat16);
  EXPECT_EQ(as_bf.data_as<std::uint16_t>()[0], 0x4040);  // 3.0
  EXPECT_EQ(as_bf.data_as<std::uint16_t>()[1], 0xc040);  // -3.0
  Tensor as_half = denormalize_latents(z, norm, DType::kFloat16).value();
  EXPECT_EQ(as_half.dtype(), DType::kFloat16);
  EXPECT_EQ(as_half.data_as<std::uint16_t>()[0], 0x4200);  // 3.0
  Tensor as_float = normalize_latents(z, norm, DType::kFloat32).value();
  EXPECT_EQ(as_float.to_floats(), (std::vector<float>{0.0f, -1.5f}));
}

TEST(LatentNormalizationTest, RefusesUint8InputOrOutput) {
  const std::vector<std::uint8_t> bytes = {1, 2, 3, 4};
  const TensorView u8{bytes.data(), 4, {1, 1, 2, 2}, DType::kUInt8};
  EXPECT_THAT(denormalize_latents(u8, {}, DType::kFloat32),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("uint8")));
  const std::vector<float> z = ramp(4);
  EXPECT_THAT(normalize_latents(view_of(z, {1, 1, 2, 2}), {}, DType::kUInt8),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("uint8")));
}

TEST(LatentNormalizationTest, RefusesPerChannelOnPackedOrShortLatents) {
  const std::vector<float> z = ramp(12);
  const LatentNormalization norm = three_channels();
  EXPECT_THAT(denormalize_latents(view_of(z, {1, 4, 3}), norm, DType::kFloat32),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("unpack packed latents first")));
  EXPECT_THAT(normalize_latents(view_of(z, {12}), norm, DType::kFloat32),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("[B,C,h,w]")));
}

TEST(LatentNormalizationTest, RefusesAChannelCountOtherThanTheStatistics) {
  const std::vector<float> z = ramp(16);
  EXPECT_THAT(
      denormalize_latents(view_of(z, {1, 4, 2, 2}), three_channels(), DType::kFloat32),
      IsError(ErrorCode::kInvalidArgument, HasSubstr("4 channels but the statistics have 3")));
}

TEST(LatentNormalizationTest, RefusesInconsistentStatistics) {
  const std::vector<float> z = ramp(12);
  const TensorView v = view_of(z, {1, 3, 2, 2});
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();

  LatentNormalization sizes = three_channels();
  sizes.std.pop_back();
  EXPECT_THAT(denormalize_latents(v, sizes, DType::kFloat32),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("3 means and 2 stds")));

  LatentNormalization shifted = three_channels();
  shifted.shift_factor = 0.1;
  EXPECT_THAT(denormalize_latents(v, shifted, DType::kFloat32),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("shift_factor cannot be combined")));

  for (double bad : {0.0, inf, nan, 1e-50}) {
    LatentNormalization std_bad = three_channels();
    std_bad.std[1] = bad;
    EXPECT_THAT(normalize_latents(v, std_bad, DType::kFloat32),
                IsError(ErrorCode::kInvalidArgument, HasSubstr("latent std 1")))
        << bad;
  }
  for (double bad : {inf, nan, 1e300}) {
    LatentNormalization mean_bad = three_channels();
    mean_bad.mean[2] = bad;
    EXPECT_THAT(denormalize_latents(v, mean_bad, DType::kFloat32),
                IsError(ErrorCode::kInvalidArgument, HasSubstr("latent mean 2")))
        << bad;
  }
}

TEST(LatentNormalizationTest, RefusesBadScalarFactors) {
  const std::vector<float> z = ramp(4);
  const TensorView v = view_of(z, {4});
  for (double bad : {0.0, std::numeric_limits<double>::infinity(), 1e-50}) {
    LatentNormalization norm;
    norm.scaling_factor = bad;
    EXPECT_THAT(denormalize_latents(v, norm, DType::kFloat32),
                IsError(ErrorCode::kInvalidArgument, HasSubstr("scaling_factor")))
        << bad;
  }
  LatentNormalization shift;
  shift.shift_factor = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THAT(normalize_latents(v, shift, DType::kFloat32),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("shift_factor")));
}

TEST(LatentNormalizationTest, RefusesAnInvalidView) {
  const std::vector<float> z = ramp(4);
  const TensorView short_view{z.data(), 8, {1, 1, 2, 2}, DType::kFloat32};
  EXPECT_THAT(denormalize_latents(short_view, {}, DType::kFloat32),
              IsError(ErrorCode::kInvalidArgument));
}

}  // namespace
}  // namespace rvae
