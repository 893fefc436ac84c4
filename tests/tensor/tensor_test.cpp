#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "rvae/tensor.hpp"

namespace rvae {
namespace {

TEST(TensorViewTest, ValidateAcceptsMatchingSize) {
  std::vector<std::uint16_t> data(2 * 3 * 4);
  TensorView view{data.data(), data.size() * 2, {2, 3, 4}, DType::kFloat16};
  EXPECT_TRUE(view.validate());
  EXPECT_EQ(view.numel(), 24u);
}

TEST(TensorViewTest, ValidateRejectsWrongByteCount) {
  std::vector<float> data(6);
  TensorView view{data.data(), 20, {2, 3}, DType::kFloat32};
  Result<void> result = view.validate();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message().find("needs 24 bytes but got 20"), std::string::npos)
      << result.error().message();
}

TEST(TensorViewTest, ValidateRejectsBadShapeAndNullData) {
  std::vector<float> data(6);
  TensorView no_dims{data.data(), 24, {}, DType::kFloat32};
  ASSERT_FALSE(no_dims.validate());
  EXPECT_EQ(no_dims.validate().error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(no_dims.numel(), 0u);

  TensorView zero_dim{data.data(), 0, {0, 6}, DType::kFloat32};
  ASSERT_FALSE(zero_dim.validate());
  EXPECT_EQ(zero_dim.numel(), 0u);

  TensorView null{nullptr, 24, {6}, DType::kFloat32};
  Result<void> result = null.validate();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("null"), std::string::npos);
}

TEST(TensorViewTest, NumelIsZeroWhenTheProductOverflows) {
  TensorView view{nullptr, 0, {std::int64_t{1} << 40, std::int64_t{1} << 40}, DType::kUInt8};
  EXPECT_EQ(view.numel(), 0u);
}

TEST(TensorTest, DefaultIsEmpty) {
  Tensor tensor;
  EXPECT_TRUE(tensor.empty());
  EXPECT_TRUE(tensor.shape().empty());
  EXPECT_EQ(tensor.numel(), 0u);
  EXPECT_EQ(tensor.size_bytes(), 0u);
  EXPECT_TRUE(tensor.to_floats().empty());
}

TEST(TensorTest, FromBytesTakesTheBufferWithoutCopying) {
  Bytes bytes(2 * 4 * 2);
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::uint8_t>(i);
  const std::uint8_t* original = bytes.data();
  Result<Tensor> tensor = Tensor::from_bytes({2, 4}, DType::kBFloat16, std::move(bytes));
  ASSERT_TRUE(tensor);
  EXPECT_EQ(tensor->data(), original);
  EXPECT_EQ(tensor->numel(), 8u);
  EXPECT_EQ(tensor->dtype(), DType::kBFloat16);
  EXPECT_EQ(tensor->shape(), (Shape{2, 4}));
  EXPECT_EQ(tensor->data()[15], 15);
}

TEST(TensorTest, FromBytesRejectsWrongLengthAndBadShape) {
  Result<Tensor> short_buffer = Tensor::from_bytes({2, 4}, DType::kFloat32, Bytes(31));
  ASSERT_FALSE(short_buffer);
  EXPECT_EQ(short_buffer.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(short_buffer.error().message().find("needs 32 bytes but got 31"), std::string::npos);

  Result<Tensor> bad_shape = Tensor::from_bytes({2, -4}, DType::kFloat32, Bytes(32));
  ASSERT_FALSE(bad_shape);
  EXPECT_EQ(bad_shape.error().code(), ErrorCode::kInvalidArgument);
}

TEST(TensorTest, ReleaseBytesMovesTheBufferOut) {
  Bytes bytes(12, 7);
  const std::uint8_t* original = bytes.data();
  Tensor tensor = Tensor::from_bytes({3}, DType::kFloat32, std::move(bytes)).value();
  Bytes out = std::move(tensor).release_bytes();
  EXPECT_EQ(out.data(), original);
  EXPECT_EQ(out.size(), 12u);
  EXPECT_TRUE(tensor.empty());  // NOLINT(bugprone-use-after-move): the API defines this state.
  EXPECT_TRUE(tensor.shape().empty());
  EXPECT_EQ(tensor.numel(), 0u);
}

TEST(TensorTest, CopyOfCopiesTheBytes) {
  std::vector<std::uint8_t> data = {1, 2, 3, 4, 5, 6};
  TensorView view{data.data(), data.size(), {2, 3}, DType::kUInt8};
  Result<Tensor> copy = Tensor::copy_of(view);
  ASSERT_TRUE(copy);
  EXPECT_NE(copy->data(), data.data());
  data[0] = 99;  // The copy must not follow the caller's buffer.
  EXPECT_EQ(copy->data()[0], 1);
  EXPECT_EQ(copy->data()[5], 6);
  EXPECT_EQ(copy->shape(), (Shape{2, 3}));
  EXPECT_EQ(copy->dtype(), DType::kUInt8);
}

TEST(TensorTest, CopyOfRejectsAnInvalidView) {
  std::vector<std::uint8_t> data(6);
  Result<Tensor> copy = Tensor::copy_of(TensorView{data.data(), 5, {2, 3}, DType::kUInt8});
  ASSERT_FALSE(copy);
  EXPECT_EQ(copy.error().code(), ErrorCode::kInvalidArgument);
}

TEST(TensorTest, ZerosIsZeroFilled) {
  Result<Tensor> zeros = Tensor::zeros({2, 3, 5}, DType::kFloat16);
  ASSERT_TRUE(zeros);
  EXPECT_EQ(zeros->size_bytes(), 60u);
  for (std::size_t i = 0; i < zeros->size_bytes(); ++i)
    EXPECT_EQ(zeros->data()[i], 0);
  EXPECT_FALSE(zeros->empty());
}

TEST(TensorTest, ZerosRejectsBadShape) {
  Result<Tensor> zeros = Tensor::zeros({1, 2, 3, 4, 5, 6}, DType::kFloat16);
  ASSERT_FALSE(zeros);
  EXPECT_EQ(zeros.error().code(), ErrorCode::kInvalidArgument);
}

TEST(TensorTest, ZerosReportsAnImpossibleAllocationInsteadOfThrowing) {
  // 2^63 bytes: a legal size_t, but past std::vector's max_size(), so nothing is allocated.
  Result<Tensor> huge = Tensor::zeros({std::int64_t{1} << 62, 2}, DType::kUInt8);
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(huge.error().message().find("cannot allocate"), std::string::npos);
}

TEST(TensorTest, FromFloatsKeepsValuesAndChecksCount) {
  Result<Tensor> tensor = Tensor::from_floats({2, 2}, {1.0f, -2.5f, 3.25f, 0.0f});
  ASSERT_TRUE(tensor);
  EXPECT_EQ(tensor->dtype(), DType::kFloat32);
  EXPECT_EQ(tensor->data_as<float>()[1], -2.5f);
  EXPECT_EQ(tensor->to_floats(), (std::vector<float>{1.0f, -2.5f, 3.25f, 0.0f}));

  Result<Tensor> mismatch = Tensor::from_floats({2, 2}, {1.0f, 2.0f, 3.0f});
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(mismatch.error().message().find("4 elements but got 3"), std::string::npos);

  Result<Tensor> bad_shape = Tensor::from_floats({0}, {});
  ASSERT_FALSE(bad_shape);
  EXPECT_EQ(bad_shape.error().code(), ErrorCode::kInvalidArgument);
}

TEST(TensorTest, ViewDescribesTheTensor) {
  Tensor tensor = Tensor::from_floats({3}, {1.0f, 2.0f, 3.0f}).value();
  TensorView view = tensor.view();
  EXPECT_EQ(view.data, tensor.data());
  EXPECT_EQ(view.size_bytes, 12u);
  EXPECT_EQ(view.shape, (Shape{3}));
  EXPECT_EQ(view.dtype, DType::kFloat32);
  EXPECT_TRUE(view.validate());
}

TEST(TensorTest, ToFloatsDecodesEveryDType) {
  // float16: 1.0 = 0x3c00, -2.0 = 0xc000, 0.5 = 0x3800 (sign | exponent bias 15 | mantissa).
  Bytes half = {0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38};
  EXPECT_EQ(Tensor::from_bytes({3}, DType::kFloat16, half)->to_floats(),
            (std::vector<float>{1.0f, -2.0f, 0.5f}));
  // bfloat16: the upper halves of float32 1.0 (0x3f80), -2.0 (0xc000), 0.5 (0x3f00).
  Bytes bhalf = {0x80, 0x3f, 0x00, 0xc0, 0x00, 0x3f};
  EXPECT_EQ(Tensor::from_bytes({3}, DType::kBFloat16, bhalf)->to_floats(),
            (std::vector<float>{1.0f, -2.0f, 0.5f}));
  Bytes bytes = {0, 1, 128, 255};
  EXPECT_EQ(Tensor::from_bytes({2, 2}, DType::kUInt8, bytes)->to_floats(),
            (std::vector<float>{0.0f, 1.0f, 128.0f, 255.0f}));
}

}  // namespace
}  // namespace rvae
