// The single-element accessors (tiling and the reference endpoint use them per sample), against
// bit patterns read off the IEEE formats, as convert_test.cpp checks the bulk ones.
#include "tensor/float_io.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <vector>

namespace rvae::internal {
namespace {

std::uint16_t half_at(const std::vector<std::uint8_t>& bytes, std::size_t index) {
  std::uint16_t bits;
  std::memcpy(&bits, bytes.data() + index * 2, 2);
  return bits;
}

TEST(StoreFloat, WritesTheKnownBitPatternsAtTheIndex) {
  std::vector<std::uint8_t> bytes(8, 0);
  store_float(DType::kFloat16, bytes.data(), 1, 1.0f);
  store_float(DType::kFloat16, bytes.data(), 2, -2.0f);
  EXPECT_EQ(half_at(bytes, 0), 0u);
  EXPECT_EQ(half_at(bytes, 1), 0x3c00u);
  EXPECT_EQ(half_at(bytes, 2), 0xc000u);
  store_float(DType::kBFloat16, bytes.data(), 3, 0.5f);
  EXPECT_EQ(half_at(bytes, 3), 0x3f00u);
  store_float(DType::kFloat32, bytes.data(), 1, 1.0f);  // 0x3f800000, little-endian
  EXPECT_EQ(bytes[4], 0x00);
  EXPECT_EQ(bytes[7], 0x3f);
  EXPECT_EQ(bytes[6], 0x80);
}

TEST(StoreFloat, UInt8RoundsHalfToEvenAndClampsAsTheBulkStoreDoes) {
  const float values[] = {
      -1.0f, 0.5f, 1.5f, 2.5f, 254.5f, 300.0f, std::numeric_limits<float>::quiet_NaN()};
  const std::uint8_t expected[] = {0, 0, 2, 2, 254, 255, 0};
  std::vector<std::uint8_t> bytes(std::size(values), 77);
  for (std::size_t i = 0; i < std::size(values); ++i)
    store_float(DType::kUInt8, bytes.data(), i, values[i]);
  for (std::size_t i = 0; i < std::size(values); ++i)
    EXPECT_EQ(bytes[i], expected[i]) << "value " << values[i];
}

TEST(LoadFloat, ReadsEveryDType) {
  const std::uint16_t halves[] = {0x0000, 0x3800, 0xc000};  // float16 0, 0.5, -2
  EXPECT_EQ(load_float(DType::kFloat16, reinterpret_cast<const std::uint8_t*>(halves), 1), 0.5f);
  EXPECT_EQ(load_float(DType::kFloat16, reinterpret_cast<const std::uint8_t*>(halves), 2), -2.0f);
  const std::uint16_t bhalves[] = {0x3f80, 0x4020};  // bfloat16 1, 2.5
  EXPECT_EQ(load_float(DType::kBFloat16, reinterpret_cast<const std::uint8_t*>(bhalves), 1), 2.5f);
  const float floats[] = {3.25f, -7.0f};
  EXPECT_EQ(load_float(DType::kFloat32, reinterpret_cast<const std::uint8_t*>(floats), 1), -7.0f);
  const std::uint8_t levels[] = {0, 200};
  EXPECT_EQ(load_float(DType::kUInt8, levels, 1), 200.0f);
}

}  // namespace
}  // namespace rvae::internal
