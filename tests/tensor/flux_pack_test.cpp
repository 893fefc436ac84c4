#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "rvae/tensor.hpp"

namespace rvae {
namespace {

TensorView view_of(const std::vector<float>& values, Shape shape) {
  return TensorView{values.data(), values.size() * sizeof(float), std::move(shape),
                    DType::kFloat32};
}

// PROTOCOL.md §3 packing, written straight from its description: walk the permuted
// [B, h/2, w/2, C, 2, 2] tensor in row-major order and read [B, C, h, w] at (2i + di, 2j + dj).
std::vector<float> reference_pack(const std::vector<float>& in, int b_n, int c_n, int h, int w) {
  std::vector<float> out;
  for (int b = 0; b < b_n; ++b)
    for (int i = 0; i < h / 2; ++i)
      for (int j = 0; j < w / 2; ++j)
        for (int c = 0; c < c_n; ++c)
          for (int di = 0; di < 2; ++di)
            for (int dj = 0; dj < 2; ++dj)
              out.push_back(
                  in[static_cast<std::size_t>(((b * c_n + c) * h + 2 * i + di) * w + 2 * j + dj)]);
  return out;
}

TEST(FluxPackTest, SingleTwoByTwoBlockKeepsRowMajorOrder) {
  const std::vector<float> in = {1, 2, 3, 4};  // [1,1,2,2]: rows (1,2) and (3,4)
  Tensor packed = pack_latents(view_of(in, {1, 1, 2, 2})).value();
  EXPECT_EQ(packed.shape(), (Shape{1, 1, 4}));
  EXPECT_EQ(packed.to_floats(), (std::vector<float>{1, 2, 3, 4}));
}

TEST(FluxPackTest, HandComputedTwoChannelCase) {
  // in[c][y][x] = 100c + 10y + x, shape [1, 2, 2, 4]: two 2x2 patches (tokens) side by side.
  std::vector<float> in;
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 4; ++x)
        in.push_back(static_cast<float>(100 * c + 10 * y + x));
  Tensor packed = pack_latents(view_of(in, {1, 2, 2, 4})).value();
  EXPECT_EQ(packed.shape(), (Shape{1, 2, 8}));
  // Token j, feature 4c + 2di + dj = in[c][di][2j + dj].
  const std::vector<float> expected = {0, 1, 10, 11, 100, 101, 110, 111,
                                       2, 3, 12, 13, 102, 103, 112, 113};
  EXPECT_EQ(packed.to_floats(), expected);

  // Unpacking needs the pixel size: latent 2x4 is a 16x32 image.
  Tensor unpacked = unpack_latents(packed.view(), 16, 32).value();
  EXPECT_EQ(unpacked.shape(), (Shape{1, 2, 2, 4}));
  EXPECT_EQ(unpacked.to_floats(), in);
}

TEST(FluxPackTest, MatchesTheReferenceOnALargerBatch) {
  const int b = 2, c = 3, h = 4, w = 6;
  std::vector<float> in(static_cast<std::size_t>(b * c * h * w));
  for (std::size_t i = 0; i < in.size(); ++i)
    in[i] = static_cast<float>(i);
  Tensor packed = pack_latents(view_of(in, {b, c, h, w})).value();
  EXPECT_EQ(packed.shape(), (Shape{b, (h / 2) * (w / 2), 4 * c}));
  EXPECT_EQ(packed.to_floats(), reference_pack(in, b, c, h, w));
  Tensor unpacked = unpack_latents(packed.view(), 8 * h, 8 * w).value();
  EXPECT_EQ(unpacked.to_floats(), in);
}

TEST(FluxPackTest, RoundTripsEveryDTypeBitForBit) {
  const Shape shape = {1, 16, 8, 4};  // Flux: 16 channels; a 64x32 image.
  for (DType dtype : {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kUInt8}) {
    const std::size_t size = 16 * 8 * 4 * dtype_size(dtype);
    Bytes bytes(size);
    for (std::size_t i = 0; i < size; ++i)
      bytes[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
    const Tensor original = Tensor::from_bytes(shape, dtype, bytes).value();
    Tensor packed = pack_latents(original.view()).value();
    EXPECT_EQ(packed.dtype(), dtype);
    EXPECT_EQ(packed.shape(), (Shape{1, 8, 64}));
    Tensor unpacked = unpack_latents(packed.view(), 64, 32).value();
    EXPECT_EQ(unpacked.shape(), shape);
    ASSERT_EQ(unpacked.size_bytes(), size);
    EXPECT_EQ(std::memcmp(unpacked.data(), bytes.data(), size), 0) << dtype_name(dtype);
  }
}

TEST(FluxPackTest, PackErrors) {
  const std::vector<float> data(64);
  Result<Tensor> rank = pack_latents(view_of(data, {1, 4, 16}));
  ASSERT_FALSE(rank);
  EXPECT_EQ(rank.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(rank.error().message().find("[1,4,16]"), std::string::npos);

  Result<Tensor> odd_h = pack_latents(view_of(data, {1, 2, 1, 32}));
  ASSERT_FALSE(odd_h);
  EXPECT_NE(odd_h.error().message().find("even"), std::string::npos);
  Result<Tensor> odd_w = pack_latents(view_of(data, {1, 2, 32, 1}));
  ASSERT_FALSE(odd_w);
  EXPECT_EQ(odd_w.error().code(), ErrorCode::kInvalidArgument);

  Result<Tensor> invalid = pack_latents(TensorView{data.data(), 8, {1, 1, 2, 2}, DType::kFloat32});
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code(), ErrorCode::kInvalidArgument);
}

TEST(FluxPackTest, UnpackErrors) {
  const std::vector<float> data(2 * 4 * 8);  // packed [1, 8, 8]: 8 tokens of 2 channels
  const TensorView packed = view_of(data, {1, 8, 8});
  ASSERT_TRUE(unpack_latents(packed, 32, 64));  // 2 x 4 tokens: the valid baseline

  Result<Tensor> rank = unpack_latents(view_of(data, {1, 2, 4, 8}), 32, 64);
  ASSERT_FALSE(rank);
  EXPECT_EQ(rank.error().code(), ErrorCode::kInvalidArgument);

  for (auto [height, width] :
       {std::pair{0, 64}, std::pair{32, -16}, std::pair{24, 64}, std::pair{32, 72}}) {
    Result<Tensor> size = unpack_latents(packed, height, width);
    ASSERT_FALSE(size) << height << "x" << width;
    EXPECT_EQ(size.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(size.error().message().find("multiples of 16"), std::string::npos);
  }

  Result<Tensor> tokens = unpack_latents(packed, 64, 64);  // needs 16 tokens, has 8
  ASSERT_FALSE(tokens);
  EXPECT_NE(tokens.error().message().find("L = 16"), std::string::npos) << tokens.error().message();

  const std::vector<float> six(8 * 6);
  Result<Tensor> last = unpack_latents(view_of(six, {1, 8, 6}), 32, 64);
  ASSERT_FALSE(last);
  EXPECT_NE(last.error().message().find("divisible by 4"), std::string::npos);

  Result<Tensor> invalid =
      unpack_latents(TensorView{nullptr, 256, {1, 8, 8}, DType::kFloat32}, 32, 64);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace rvae
