// What a streamed decode reply is checked with before its body is used: the layout expected from
// the request, a Hugging Face reply's headers against it, and where an Open Inference reply's
// output lies after its JSON header.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol/open_inference.hpp"
#include "protocol/protocol.hpp"
#include "support/result_matchers.hpp"

namespace rvae::protocol {
namespace {

using ::testing::HasSubstr;
using testing_support::IsError;
using testing_support::IsOk;

DecodeExpectation video(OutputType type) {
  DecodeExpectation expect;
  expect.type = type;
  expect.batch = 1;
  expect.frames = 17;
  expect.height = 32;
  expect.width = 40;
  return expect;
}

HttpResponse headers(const std::string& shape, const std::string& dtype, int status = 200) {
  HttpResponse response;
  response.status = status;
  response.headers = {{"shape", shape}, {"dtype", dtype}};
  return response;
}

TEST(StreamedReplyLayout, FollowsTheRequest) {
  Result<ReplyLayout> frames = decode_reply_layout(video(OutputType::kUInt8));
  ASSERT_THAT(frames, IsOk());
  EXPECT_EQ(frames->shape, (Shape{17, 32, 40, 3}));
  EXPECT_EQ(frames->dtype, DType::kUInt8);
  EXPECT_EQ(frames->frames, 17);
  EXPECT_EQ(frames->frame_bytes, 32u * 40 * 3);
  EXPECT_EQ(frames->bytes, 17u * 32 * 40 * 3);
  Result<ReplyLayout> floats = decode_reply_layout(video(OutputType::kFloatTensor));
  ASSERT_THAT(floats, IsOk());
  EXPECT_EQ(floats->shape, (Shape{1, 3, 17, 32, 40}));
  EXPECT_FALSE(floats->dtype.has_value()) << "the server's VAE picks it";
  EXPECT_EQ(floats->bytes, 17u * 32 * 40 * 3 * 4);
  Result<ReplyLayout> mp4 = decode_reply_layout(video(OutputType::kMp4));
  ASSERT_THAT(mp4, IsOk());
  EXPECT_TRUE(mp4->shape.empty());
  EXPECT_EQ(mp4->bytes, 0u);
  DecodeExpectation huge = video(OutputType::kFloatTensor);
  huge.batch = std::int64_t{1} << 50;
  EXPECT_THAT(decode_reply_layout(huge), IsError(ErrorCode::kInvalidArgument));
}

TEST(StreamedReplyHeaders, AgreeingHeadersGiveTheLayoutWithTheDtypeReceived) {
  Result<ReplyLayout> frames =
      check_streamed_decode_reply(headers("[17, 32, 40, 3]", "uint8"), video(OutputType::kUInt8));
  ASSERT_THAT(frames, IsOk());
  EXPECT_EQ(frames->bytes, 17u * 32 * 40 * 3);
  Result<ReplyLayout> floats = check_streamed_decode_reply(
      headers("[1, 3, 17, 32, 40]", "bfloat16"), video(OutputType::kFloatTensor));
  ASSERT_THAT(floats, IsOk());
  EXPECT_EQ(floats->dtype, DType::kBFloat16);
  EXPECT_EQ(floats->bytes, 17u * 32 * 40 * 3 * 2);
}

TEST(StreamedReplyHeaders, DisagreeingOrMissingHeadersAreDataLoss) {
  EXPECT_THAT(
      check_streamed_decode_reply(headers("[17, 32, 41, 3]", "uint8"), video(OutputType::kUInt8)),
      IsError(ErrorCode::kDataLoss, HasSubstr("but the request expects [17,32,40,3]")));
  EXPECT_THAT(
      check_streamed_decode_reply(headers("[17, 32, 40, 3]", "float16"), video(OutputType::kUInt8)),
      IsError(ErrorCode::kDataLoss, HasSubstr("uint8 pixels were asked for")));
  EXPECT_THAT(check_streamed_decode_reply(headers("[1, 3, 17, 32, 40]", "uint8"),
                                          video(OutputType::kFloatTensor)),
              IsError(ErrorCode::kDataLoss, HasSubstr("raw float decoder output")));
  HttpResponse none;
  none.status = 200;
  EXPECT_THAT(check_streamed_decode_reply(none, video(OutputType::kUInt8)),
              IsError(ErrorCode::kDataLoss, HasSubstr("no shape header")));
  EXPECT_THAT(check_streamed_decode_reply(headers("[1e30]", "uint8"), video(OutputType::kUInt8)),
              IsError(ErrorCode::kDataLoss));
}

TEST(StreamedReplyHeaders, LimitsAndStatusesApply) {
  ReplyLimits limits;
  limits.max_pixels = 100;
  EXPECT_THAT(check_streamed_decode_reply(headers("[17, 32, 40, 3]", "uint8"),
                                          video(OutputType::kUInt8), limits),
              IsError(ErrorCode::kResourceExhausted, HasSubstr("above the limit of 100")));
  // Any other status is an error as the held reply's would be.
  const HttpResponse partial = headers("[17, 32, 40, 3]", "uint8", 206);
  EXPECT_THAT(check_streamed_decode_reply(partial, video(OutputType::kUInt8)),
              IsError(error_from_reply(partial).code(), HasSubstr("HTTP 206")));
}

namespace oip_test {

using oip::BinaryOutputPlace;
using oip::InferExpectation;
using oip::locate_binary_output;

const InferExpectation kPixels{"sample", DType::kUInt8, {1, 17, 32, 40, 3}};

TEST(LocateBinaryOutput, FindsTheOutputAfterTheOthers) {
  const std::string json =
      R"({"outputs":[{"name":"extra","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}},)"
      R"({"name":"sample","datatype":"UINT8","shape":[1,17,32,40,3],"parameters":{"binary_data_size":65280}}]})";
  Result<std::optional<BinaryOutputPlace>> place = locate_binary_output(json, kPixels);
  ASSERT_THAT(place, IsOk());
  ASSERT_TRUE(place->has_value());
  EXPECT_EQ((*place)->offset, 8u);
  EXPECT_EQ((*place)->bytes, 65280u);
  EXPECT_EQ((*place)->binary_bytes, 65288u);
}

TEST(LocateBinaryOutput, JsonDataIsNotStreamable) {
  const std::string json =
      R"({"outputs":[{"name":"sample","datatype":"UINT8","shape":[1,1,1,1,3],"data":[1,2,3]}]})";
  const InferExpectation one{"sample", DType::kUInt8, {1, 1, 1, 1, 3}};
  Result<std::optional<BinaryOutputPlace>> place = locate_binary_output(json, one);
  ASSERT_THAT(place, IsOk());
  EXPECT_FALSE(place->has_value());
}

TEST(LocateBinaryOutput, ABadHeaderIsRefused) {
  EXPECT_THAT(locate_binary_output("{", kPixels), IsError(ErrorCode::kDataLoss));
  EXPECT_THAT(
      locate_binary_output(
          R"({"outputs":[{"name":"sample","datatype":"UINT8","shape":[1,17,32,40,3],"parameters":{"binary_data_size":5}}]})",
          kPixels),
      IsError(ErrorCode::kDataLoss, HasSubstr("needs 65280")));
  EXPECT_THAT(
      locate_binary_output(
          R"({"outputs":[{"name":"sample","datatype":"FP16","shape":[1,17,32,40,3],"parameters":{"binary_data_size":130560}}]})",
          kPixels),
      IsError(ErrorCode::kDataLoss, HasSubstr("expected 'UINT8'")));
  EXPECT_THAT(
      locate_binary_output(
          R"({"outputs":[{"name":"a","datatype":"UINT8","shape":[1],"parameters":{"binary_data_size":18446744073709551615}},)"
          R"({"name":"sample","datatype":"UINT8","shape":[1,17,32,40,3],"parameters":{"binary_data_size":65280}}]})",
          kPixels),
      IsError(ErrorCode::kDataLoss));
  EXPECT_THAT(locate_binary_output(R"({"error":"out of memory"})", kPixels),
              IsError(ErrorCode::kDataLoss, HasSubstr("an error, not a result")));
}

}  // namespace oip_test
}  // namespace
}  // namespace rvae::protocol
