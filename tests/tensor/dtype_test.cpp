#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "rvae/tensor.hpp"

namespace rvae {
namespace {

TEST(DTypeTest, SizesMatchTheWireFormat) {
  EXPECT_EQ(dtype_size(DType::kFloat32), 4u);
  EXPECT_EQ(dtype_size(DType::kFloat16), 2u);
  EXPECT_EQ(dtype_size(DType::kBFloat16), 2u);
  EXPECT_EQ(dtype_size(DType::kUInt8), 1u);
}

TEST(DTypeTest, NamesRoundTrip) {
  EXPECT_EQ(dtype_name(DType::kFloat32), "float32");
  EXPECT_EQ(dtype_name(DType::kFloat16), "float16");
  EXPECT_EQ(dtype_name(DType::kBFloat16), "bfloat16");
  EXPECT_EQ(dtype_name(DType::kUInt8), "uint8");
  for (DType dtype : {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kUInt8}) {
    EXPECT_EQ(dtype_from_name(dtype_name(dtype)), dtype);
  }
}

TEST(DTypeTest, UnknownOrMisspelledNamesAreRejected) {
  for (const char* name :
       {"", "Float16", "fp16", "half", "float", "bf16", "float16 ", "uint16", "torch.float16"}) {
    EXPECT_FALSE(dtype_from_name(name).has_value()) << name;
  }
}

TEST(ShapeToStringTest, CompactJson) {
  EXPECT_EQ(shape_to_string({1, 4, 64, 64}), "[1,4,64,64]");
  EXPECT_EQ(shape_to_string({7}), "[7]");
  EXPECT_EQ(shape_to_string({}), "[]");
  EXPECT_EQ(shape_to_string({-1, 0}), "[-1,0]");
  EXPECT_EQ(shape_to_string({std::numeric_limits<std::int64_t>::max()}), "[9223372036854775807]");
}

TEST(CheckedByteSizeTest, MultipliesDimsAndElementSize) {
  EXPECT_EQ(checked_byte_size({1, 4, 64, 64}, DType::kFloat16).value(), 2u * 4 * 64 * 64);
  EXPECT_EQ(checked_byte_size({3}, DType::kFloat32).value(), 12u);
  EXPECT_EQ(checked_byte_size({1, 16, 2, 8, 8}, DType::kBFloat16).value(), 2u * 16 * 2 * 8 * 8);
  EXPECT_EQ(checked_byte_size({5, 7}, DType::kUInt8).value(), 35u);
}

TEST(CheckedByteSizeTest, RejectsNoDimsAndTooManyDims) {
  Result<std::size_t> none = checked_byte_size({}, DType::kFloat32);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(none.error().message().find("0 dimensions"), std::string::npos);

  Result<std::size_t> six = checked_byte_size({1, 1, 1, 1, 1, 1}, DType::kFloat32);
  ASSERT_FALSE(six);
  EXPECT_EQ(six.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(six.error().message().find("6 dimensions"), std::string::npos);
}

TEST(CheckedByteSizeTest, RejectsZeroAndNegativeDimsNamingThem) {
  Result<std::size_t> zero = checked_byte_size({1, 4, 0, 8}, DType::kFloat16);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(zero.error().message().find("dimension 2 is 0"), std::string::npos)
      << zero.error().message();

  Result<std::size_t> negative = checked_byte_size({-3}, DType::kUInt8);
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.error().message().find("dimension 0 is -3"), std::string::npos);
}

TEST(CheckedByteSizeTest, DetectsOverflow) {
  // 2^31 * 2^31 * 4 bytes = 2^64: one past SIZE_MAX on a 64-bit size_t.
  constexpr std::int64_t k2To31 = std::int64_t{1} << 31;
  Result<std::size_t> overflow = checked_byte_size({k2To31, k2To31}, DType::kFloat32);
  ASSERT_FALSE(overflow);
  EXPECT_EQ(overflow.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(overflow.error().message().find("overflow"), std::string::npos);
  // The largest dim alone overflows once multiplied by the element size.
  Result<std::size_t> big =
      checked_byte_size({std::numeric_limits<std::int64_t>::max(), 4}, DType::kUInt8);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message().find("overflow"), std::string::npos);
  // Just below the limit is fine: 2^31 * 2^31 * 2 bytes = 2^63.
  EXPECT_EQ(checked_byte_size({k2To31, k2To31}, DType::kFloat16).value(), std::size_t{1} << 63);
}

TEST(CheckedByteSizeTest, EnforcesMaxBytes) {
  EXPECT_EQ(checked_byte_size({2, 8}, DType::kFloat32, 64).value(), 64u);
  Result<std::size_t> over = checked_byte_size({2, 8}, DType::kFloat32, 63);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(over.error().message().find("64 bytes"), std::string::npos);
  EXPECT_NE(over.error().message().find("63"), std::string::npos);
}

TEST(CheckedByteSizeTest, RejectsAnUnknownDTypeValue) {
  Result<std::size_t> bad = checked_byte_size({2}, static_cast<DType>(42));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(dtype_size(static_cast<DType>(42)), 0u);
  EXPECT_EQ(dtype_name(static_cast<DType>(42)), "unknown");
}

}  // namespace
}  // namespace rvae
