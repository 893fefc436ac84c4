#include <cstdint>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol/protocol.hpp"
#include "protocol_test_util.hpp"

namespace rvae::protocol {
namespace {

using test::make_response;
using test::pattern_bytes;
using test::tensor_response;
using ::testing::HasSubstr;
using testing_support::IsError;

EncodeExpectation expect_of(std::int64_t batch, std::int64_t h, std::int64_t w) {
  EncodeExpectation expect;
  expect.batch = batch;
  expect.latent_height = h;
  expect.latent_width = w;
  return expect;
}

TEST(ParseEncodeReply, FloatLatentsOfAnyPlausibleChannelCount) {
  Bytes body = pattern_bytes(1 * 4 * 8 * 6 * 2);
  const std::uint8_t* original = body.data();
  auto latents = parse_encode_reply(tensor_response("[1,4,8,6]", "float16", std::move(body)),
                                    expect_of(1, 8, 6));
  ASSERT_TRUE(latents) << latents.error().what();
  EXPECT_EQ(latents->shape(), (Shape{1, 4, 8, 6}));
  EXPECT_EQ(latents->dtype(), DType::kFloat16);
  EXPECT_EQ(latents->data(), original);

  for (std::int64_t channels : {1, 16, 64}) {
    const std::string shape = "[2,";
    auto result = parse_encode_reply(
        tensor_response("[2," + std::to_string(channels) + ",2,3]", "float32",
                        pattern_bytes(static_cast<std::size_t>(2 * channels * 2 * 3 * 4))),
        expect_of(2, 2, 3));
    ASSERT_TRUE(result) << channels << ": " << result.error().what();
    EXPECT_EQ(result->shape()[1], channels);
  }
  auto bf16 = parse_encode_reply(tensor_response("[1,16,2,2]", "bfloat16", pattern_bytes(128)),
                                 expect_of(1, 2, 2));
  ASSERT_TRUE(bf16) << bf16.error().what();
  EXPECT_EQ(bf16->dtype(), DType::kBFloat16);
  // A video model (Wan 2.1) encodes an image as a one-frame video.
  auto one_frame = parse_encode_reply(
      tensor_response("[1,16,1,2,3]", "bfloat16", pattern_bytes(16 * 6 * 2)), expect_of(1, 2, 3));
  ASSERT_TRUE(one_frame) << one_frame.error().what();
  EXPECT_EQ(one_frame->shape(), (Shape{1, 16, 1, 2, 3}));
}

TEST(ParseEncodeReplyErrors, ShapeDisagreeingWithTheRequest) {
  const EncodeExpectation expect = expect_of(1, 8, 8);
  EXPECT_THAT(
      parse_encode_reply(tensor_response("[2,4,8,8]", "float16", pattern_bytes(1024)), expect),
      IsError(ErrorCode::kDataLoss,
              HasSubstr("shape [2,4,8,8] but the request expects [1,C,8,8]")));
  EXPECT_THAT(
      parse_encode_reply(tensor_response("[1,4,4,8]", "float16", pattern_bytes(256)), expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("shape [1,4,4,8]")));
  EXPECT_THAT(
      parse_encode_reply(tensor_response("[1,4,8,16]", "float16", pattern_bytes(1024)), expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("shape [1,4,8,16]")));
  // Of a video, only one frame can be an image's latent.
  EXPECT_THAT(
      parse_encode_reply(tensor_response("[1,4,2,8,8]", "float16", pattern_bytes(1024)), expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("shape [1,4,2,8,8]")));
  EXPECT_THAT(
      parse_encode_reply(tensor_response("[1,4,1,8,4]", "float16", pattern_bytes(256)), expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("shape [1,4,1,8,4]")));
  // Packed layout is never an encode reply.
  EXPECT_THAT(
      parse_encode_reply(tensor_response("[1,16,16]", "float16", pattern_bytes(512)), expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("shape [1,16,16]")));
  EXPECT_THAT(
      parse_encode_reply(tensor_response("[1,65,8,8]", "float16", pattern_bytes(65 * 128)), expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("65 channels; at most 64")));
}

TEST(ParseEncodeReplyErrors, WrongDtypeLengthOrStatus) {
  const EncodeExpectation expect = expect_of(1, 1, 1);
  EXPECT_THAT(parse_encode_reply(tensor_response("[1,4,1,1]", "uint8", pattern_bytes(4)), expect),
              IsError(ErrorCode::kDataLoss, HasSubstr("dtype uint8")));
  EXPECT_THAT(
      parse_encode_reply(tensor_response("[1,4,1,1]", "float32", pattern_bytes(15)), expect),
      IsError(ErrorCode::kDataLoss,
              HasSubstr("reply body is 15 bytes, shape [1,4,1,1] dtype float32 needs 16")));
  EXPECT_THAT(
      parse_encode_reply(tensor_response("[1,4,1,1]", "float32", pattern_bytes(17)), expect),
      IsError(ErrorCode::kDataLoss, HasSubstr("reply body is 17 bytes")));
  auto denied = parse_encode_reply(make_response(403, {}, test::to_bytes("Forbidden")), expect);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(denied.error().server_message(), "Forbidden");
}

}  // namespace
}  // namespace rvae::protocol
