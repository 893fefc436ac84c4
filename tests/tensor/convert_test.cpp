#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "rvae/tensor.hpp"

namespace rvae {
namespace {

constexpr DType kAllDTypes[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kUInt8};

TensorView float_view(const std::vector<float>& values) {
  return TensorView{values.data(),
                    values.size() * sizeof(float),
                    {static_cast<std::int64_t>(values.size())},
                    DType::kFloat32};
}

TEST(ConvertTest, IntegersSurviveEveryPair) {
  // 0..255 are exact in all four dtypes (bfloat16 has 8 significant bits), so every conversion
  // of them must be lossless.
  std::vector<float> values(256);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<float>(i);
  for (DType from : kAllDTypes) {
    Tensor source = convert(float_view(values), from).value();
    EXPECT_EQ(source.to_floats(), values) << dtype_name(from);
    for (DType to : kAllDTypes) {
      Result<Tensor> out = convert(source.view(), to);
      ASSERT_TRUE(out) << dtype_name(from) << "->" << dtype_name(to);
      EXPECT_EQ(out->dtype(), to);
      EXPECT_EQ(out->shape(), (Shape{256}));
      EXPECT_EQ(out->size_bytes(), 256 * dtype_size(to));
      EXPECT_EQ(out->to_floats(), values) << dtype_name(from) << "->" << dtype_name(to);
    }
  }
}

TEST(ConvertTest, FloatToUInt8RoundsHalfToEvenAndClamps) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> values = {-1.0f,  0.0f,   0.49f,  0.5f,   1.5f, 2.5f, 2.51f,
                                     254.5f, 255.0f, 255.4f, 300.0f, nan,  inf,  -inf};
  const std::vector<std::uint8_t> expected = {0, 0, 0, 0, 2, 2, 3, 254, 255, 255, 255, 0, 255, 0};
  Result<Tensor> out = convert(float_view(values), DType::kUInt8);
  ASSERT_TRUE(out);
  ASSERT_EQ(out->size_bytes(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(out->data()[i], expected[i]) << "value " << values[i];
  }
}

TEST(ConvertTest, HalfToUInt8GoesThroughTheValue) {
  // float16 3.5 = 0x4300, -0.5 = 0xb800, 1000 = 0x63d0; bfloat16 2.5 = 0x4020.
  const std::vector<std::uint16_t> half = {0x4300, 0xb800, 0x63d0};
  Tensor out = convert(TensorView{half.data(), 6, {3}, DType::kFloat16}, DType::kUInt8).value();
  EXPECT_EQ(out.data()[0], 4);
  EXPECT_EQ(out.data()[1], 0);
  EXPECT_EQ(out.data()[2], 255);
  const std::vector<std::uint16_t> bhalf = {0x4020};
  out = convert(TensorView{bhalf.data(), 2, {1}, DType::kBFloat16}, DType::kUInt8).value();
  EXPECT_EQ(out.data()[0], 2);
}

TEST(ConvertTest, FloatToHalfBitsAreTheKnownPatterns) {
  const std::vector<float> values = {1.0f, -2.0f, 0.5f, 65504.0f, 1e6f};
  Tensor half = convert(float_view(values), DType::kFloat16).value();
  const std::uint16_t expected_half[] = {0x3c00, 0xc000, 0x3800, 0x7bff, 0x7c00};
  for (std::size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(half.data_as<std::uint16_t>()[i], expected_half[i]);
  Tensor bhalf = convert(float_view(values), DType::kBFloat16).value();
  // 65504 = 0x477fe000: remainder 0xe000 is past the tie, so it rounds up to 0x4780 (65536).
  // 1e6 = 0x49742400 -> upper half 0x4974, remainder 0x2400 below the tie.
  const std::uint16_t expected_bhalf[] = {0x3f80, 0xc000, 0x3f00, 0x4780, 0x4974};
  for (std::size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(bhalf.data_as<std::uint16_t>()[i], expected_bhalf[i]);
}

TEST(ConvertTest, HalfToBFloat16OverManyChunks) {
  // More elements than one scratch chunk; every float16 pattern that is finite.
  std::vector<std::uint16_t> half;
  for (std::uint32_t h = 0; h <= 0xffff; ++h) {
    if ((h & 0x7c00) != 0x7c00) half.push_back(static_cast<std::uint16_t>(h));
  }
  const TensorView view{
      half.data(), half.size() * 2, {static_cast<std::int64_t>(half.size())}, DType::kFloat16};
  Tensor bhalf = convert(view, DType::kBFloat16).value();
  Tensor back = convert(bhalf.view(), DType::kFloat16).value();
  for (std::size_t i = 0; i < half.size(); ++i) {
    const std::uint16_t b = bhalf.data_as<std::uint16_t>()[i];
    ASSERT_EQ(b, float32_to_bfloat16(float16_to_float32(half[i]))) << i;
    ASSERT_EQ(back.data_as<std::uint16_t>()[i], float32_to_float16(bfloat16_to_float32(b))) << i;
  }
}

TEST(ConvertTest, SameDTypeIsACopy) {
  const std::vector<std::uint16_t> data = {1, 2, 3, 0xffff};
  const TensorView view{data.data(), 8, {2, 2}, DType::kBFloat16};
  Tensor copy = convert(view, DType::kBFloat16).value();
  EXPECT_NE(static_cast<const void*>(copy.data()), static_cast<const void*>(data.data()));
  EXPECT_EQ(std::memcmp(copy.data(), data.data(), 8), 0);
  EXPECT_EQ(copy.shape(), (Shape{2, 2}));
}

TEST(ConvertTest, AcceptsMisalignedSources) {
  // A view may start at any byte, e.g. inside a larger reply body.
  const std::vector<float> floats = {1.5f, -3.0f, 200.0f};
  std::vector<std::uint8_t> buffer(1 + floats.size() * 4);
  std::memcpy(buffer.data() + 1, floats.data(), floats.size() * 4);
  const TensorView f32{buffer.data() + 1, 12, {3}, DType::kFloat32};
  for (DType to : kAllDTypes) {
    Tensor out = convert(f32, to).value();
    if (to == DType::kUInt8) {
      EXPECT_EQ(out.to_floats(), (std::vector<float>{2.0f, 0.0f, 200.0f}));
    } else {
      EXPECT_EQ(out.to_floats(), floats) << dtype_name(to);
    }
  }
  const std::uint16_t half[] = {0x3e00, 0xc200};  // 1.5, -3.0
  std::vector<std::uint8_t> odd(5);
  std::memcpy(odd.data() + 1, half, 4);
  const TensorView f16{odd.data() + 1, 4, {2}, DType::kFloat16};
  EXPECT_EQ(convert(f16, DType::kFloat32)->to_floats(), (std::vector<float>{1.5f, -3.0f}));
  EXPECT_EQ(convert(f16, DType::kBFloat16)->to_floats(), (std::vector<float>{1.5f, -3.0f}));
}

TEST(ConvertTest, RejectsAnInvalidView) {
  const std::vector<float> values = {1.0f, 2.0f};
  Result<Tensor> out = convert(TensorView{values.data(), 7, {2}, DType::kFloat32}, DType::kUInt8);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), ErrorCode::kInvalidArgument);
  Result<Tensor> null = convert(TensorView{nullptr, 8, {2}, DType::kFloat32}, DType::kFloat16);
  ASSERT_FALSE(null);
  EXPECT_EQ(null.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace rvae
