#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "rvae/tensor.hpp"

namespace rvae {
namespace {

TensorView view_of(const std::vector<float>& values, Shape shape) {
  return TensorView{values.data(), values.size() * sizeof(float), std::move(shape),
                    DType::kFloat32};
}

TEST(LatentScalingTest, UnscaleAndScaleFloat32WithExactFactors) {
  const std::vector<float> x = {1.0f, -2.0f, 0.5f, 0.0f};
  // Powers of two keep every step exact: x / 0.5 + 0.25 and (x - 0.25) * 0.5.
  Tensor unscaled = unscale_latents(view_of(x, {1, 1, 2, 2}), 0.5, 0.25).value();
  EXPECT_EQ(unscaled.dtype(), DType::kFloat32);
  EXPECT_EQ(unscaled.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(unscaled.to_floats(), (std::vector<float>{2.25f, -3.75f, 1.25f, 0.25f}));
  Tensor scaled = scale_latents(view_of(x, {1, 1, 2, 2}), 0.5, 0.25).value();
  EXPECT_EQ(scaled.to_floats(), (std::vector<float>{0.375f, -1.125f, 0.125f, -0.125f}));
  // Default shift is 0.
  EXPECT_EQ(unscale_latents(view_of(x, {4}), 2.0)->to_floats(),
            (std::vector<float>{0.5f, -1.0f, 0.25f, 0.0f}));
}

TEST(LatentScalingTest, SdFactorsOverManyChunksMatchTheFormula) {
  std::vector<float> x(3001);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i) * 0.01f - 15.0f;
  const double scaling = 0.3611, shift = 0.1159;  // the Flux factors
  Tensor unscaled = unscale_latents(view_of(x, {1, 1, 3001}), scaling, shift).value();
  Tensor scaled = scale_latents(view_of(x, {1, 1, 3001}), scaling, shift).value();
  const auto s = static_cast<float>(scaling);
  const auto t = static_cast<float>(shift);
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(unscaled.data_as<float>()[i], x[i] / s + t) << i;
    ASSERT_EQ(scaled.data_as<float>()[i], (x[i] - t) * s) << i;
  }
}

TEST(LatentScalingTest, HalfInputsStayHalfAndRoundToNearest) {
  // float16 1.0, -2.0, 3.0, 0.1 (0x2e66); bfloat16 same values.
  const std::vector<std::uint16_t> half = {0x3c00, 0xc000, 0x4200, 0x2e66};
  const std::vector<std::uint16_t> bhalf = {0x3f80, 0xc000, 0x4040, 0x3dcd};
  const double scaling = 0.18215;
  const auto s = static_cast<float>(scaling);
  Tensor h = unscale_latents(TensorView{half.data(), 8, {4}, DType::kFloat16}, scaling).value();
  Tensor b = unscale_latents(TensorView{bhalf.data(), 8, {4}, DType::kBFloat16}, scaling).value();
  EXPECT_EQ(h.dtype(), DType::kFloat16);
  EXPECT_EQ(b.dtype(), DType::kBFloat16);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(h.data_as<std::uint16_t>()[i], float32_to_float16(float16_to_float32(half[i]) / s));
    EXPECT_EQ(b.data_as<std::uint16_t>()[i],
              float32_to_bfloat16(bfloat16_to_float32(bhalf[i]) / s));
  }
  // 1 / 0.18215 = 5.4899..., float16 spacing there is 2^-8: nearest is 1405 * 2^-8 = 5.48828125.
  EXPECT_EQ(float16_to_float32(h.data_as<std::uint16_t>()[0]), 5.48828125f);
}

TEST(LatentScalingTest, ScaleThenUnscaleIsCloseToIdentity) {
  std::vector<float> x = {0.3f, -1.7f, 2.9f, -0.01f};
  Tensor half = convert(view_of(x, {4}), DType::kFloat16).value();
  Tensor there = scale_latents(half.view(), 0.13025, 0.1).value();
  Tensor back = unscale_latents(there.view(), 0.13025, 0.1).value();
  const std::vector<float> result = back.to_floats();
  const std::vector<float> original = half.to_floats();
  for (std::size_t i = 0; i < x.size(); ++i)
    EXPECT_NEAR(result[i], original[i], 0.01) << i;
}

TEST(LatentScalingTest, RejectsUInt8) {
  const std::vector<std::uint8_t> bytes = {1, 2};
  const TensorView view{bytes.data(), 2, {2}, DType::kUInt8};
  for (const Result<Tensor>& result : {unscale_latents(view, 1.0), scale_latents(view, 1.0)}) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(result.error().message().find("uint8"), std::string::npos);
  }
}

TEST(LatentScalingTest, RejectsUnusableFactors) {
  const std::vector<float> x = {1.0f};
  const TensorView view = view_of(x, {1});
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (double scaling : {0.0, -0.0, nan, inf, -inf, 1e-50, 1e300}) {
    for (const Result<Tensor>& result :
         {unscale_latents(view, scaling), scale_latents(view, scaling)}) {
      ASSERT_FALSE(result) << scaling;
      EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(result.error().message().find("scaling_factor"), std::string::npos);
    }
  }
  for (double shift : {nan, inf, -inf, 1e300}) {
    for (const Result<Tensor>& result :
         {unscale_latents(view, 1.0, shift), scale_latents(view, 1.0, shift)}) {
      ASSERT_FALSE(result) << shift;
      EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(result.error().message().find("shift_factor"), std::string::npos);
    }
  }
}

TEST(LatentScalingTest, RejectsAnInvalidView) {
  const std::vector<float> x = {1.0f, 2.0f};
  const TensorView bad{x.data(), 4, {2}, DType::kFloat32};
  ASSERT_FALSE(unscale_latents(bad, 1.0));
  EXPECT_EQ(unscale_latents(bad, 1.0).error().code(), ErrorCode::kInvalidArgument);
  ASSERT_FALSE(scale_latents(bad, 1.0));
  EXPECT_EQ(scale_latents(bad, 1.0).error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace rvae
