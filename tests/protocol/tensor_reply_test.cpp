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

TEST(ParseTensorReply, TakesTheBodyWithoutCopying) {
  Bytes body = pattern_bytes(1 * 3 * 2 * 2 * 2);
  const Bytes expected = body;
  const std::uint8_t* original = body.data();
  auto tensor = parse_tensor_reply(tensor_response("[1,3,2,2]", "float16", std::move(body)));
  ASSERT_TRUE(tensor) << tensor.error().what();
  EXPECT_EQ(tensor->shape(), (Shape{1, 3, 2, 2}));
  EXPECT_EQ(tensor->dtype(), DType::kFloat16);
  EXPECT_EQ(tensor->data(), original);
  EXPECT_EQ(Bytes(tensor->data(), tensor->data() + tensor->size_bytes()), expected);
}

TEST(ParseTensorReply, AcceptsEveryDtypeSpacesAndAnyHeaderCase) {
  struct Case {
    const char* name;
    DType dtype;
    std::size_t element_size;
  };
  for (const Case& c : {Case{"float32", DType::kFloat32, 4}, Case{"float16", DType::kFloat16, 2},
                        Case{"bfloat16", DType::kBFloat16, 2}, Case{"uint8", DType::kUInt8, 1}}) {
    auto tensor = parse_tensor_reply(make_response(
        200, {{"Content-Type", "tensor/binary"}, {"Shape", " [ 2 , 5 ] "}, {"DTYPE", c.name}},
        pattern_bytes(10 * c.element_size)));
    ASSERT_TRUE(tensor) << c.name << ": " << tensor.error().what();
    EXPECT_EQ(tensor->shape(), (Shape{2, 5}));
    EXPECT_EQ(tensor->dtype(), c.dtype);
  }
  auto five_dims = parse_tensor_reply(tensor_response("[1,3,2,1,2]", "uint8", pattern_bytes(12)));
  ASSERT_TRUE(five_dims) << five_dims.error().what();
  EXPECT_EQ(five_dims->shape(), (Shape{1, 3, 2, 1, 2}));
}

TEST(ParseTensorReplyErrors, NonOkStatusIsTheServerError) {
  auto result =
      parse_tensor_reply(make_response(503, {{"Content-Type", "application/json"}},
                                       test::to_bytes(R"({"error": "503 Service Unavailable"})")));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(result.error().http_status(), 503);
  EXPECT_TRUE(result.error().retryable());
  EXPECT_EQ(result.error().server_message(), "503 Service Unavailable");
}

TEST(ParseTensorReplyErrors, MissingHeaders) {
  EXPECT_THAT(parse_tensor_reply(make_response(200, {{"dtype", "uint8"}}, pattern_bytes(4))),
              IsError(ErrorCode::kDataLoss, HasSubstr("no shape header")));
  EXPECT_THAT(parse_tensor_reply(make_response(200, {{"shape", "[4]"}}, pattern_bytes(4))),
              IsError(ErrorCode::kDataLoss, HasSubstr("no dtype header")));
  // A JSON body instead of a tensor (e.g. Accept was not honoured) is described.
  EXPECT_THAT(parse_tensor_reply(make_response(200, {}, test::to_bytes(R"({"x": [1, 2]})"))),
              IsError(ErrorCode::kDataLoss, HasSubstr(R"(JSON body: {"x":[1,2]})")));
}

TEST(ParseTensorReplyErrors, MalformedShapeHeaders) {
  struct Case {
    const char* header;
    const char* message;
  };
  for (const Case& c : {
           Case{"1,3,2,2", "is not JSON"}, Case{"[1,3,2,2", "is not JSON"}, Case{"", "is not JSON"},
           Case{"{\"shape\": [4]}", "is not a JSON array"}, Case{"4", "is not a JSON array"},
           Case{"[]", "must have 1 to 5 dimensions"},
           Case{"[1,1,1,1,1,4]", "must have 1 to 5 dimensions"},
           Case{"[1,-4]", "positive integers only"}, Case{"[1,0,4]", "positive integers only"},
           Case{"[1.5,4]", "positive integers only"}, Case{"[4.0]", "positive integers only"},
           Case{"[\"4\"]", "positive integers only"}, Case{"[[4]]", "positive integers only"},
           Case{"[true]", "positive integers only"}, Case{"[null]", "positive integers only"},
           Case{"[9223372036854775808]", "positive integers only"},   // 2^63
           Case{"[18446744073709551616]", "positive integers only"},  // 2^64, parsed as a float
       }) {
    SCOPED_TRACE(c.header);
    EXPECT_THAT(parse_tensor_reply(tensor_response(c.header, "uint8", pattern_bytes(4))),
                IsError(ErrorCode::kDataLoss, HasSubstr(c.message)));
  }
  EXPECT_THAT(parse_tensor_reply(tensor_response("[1,2", "uint8", pattern_bytes(4))),
              IsError(ErrorCode::kDataLoss, HasSubstr("shape header '[1,2' is not JSON")));
  EXPECT_THAT(parse_tensor_reply(tensor_response("[" + std::string(300, '1') + "]", "uint8", {})),
              IsError(ErrorCode::kDataLoss, HasSubstr("shape header is too long")));
}

TEST(ParseTensorReplyErrors, UnknownDtype) {
  EXPECT_THAT(parse_tensor_reply(tensor_response("[4]", "float64", pattern_bytes(32))),
              IsError(ErrorCode::kDataLoss, HasSubstr("unknown dtype 'float64'")));
  // Exact spelling, as the server compares it.
  EXPECT_THAT(parse_tensor_reply(tensor_response("[4]", "Float16", pattern_bytes(8))),
              IsError(ErrorCode::kDataLoss, HasSubstr("unknown dtype 'Float16'")));
  EXPECT_THAT(parse_tensor_reply(tensor_response("[4]", "int8\n", pattern_bytes(4))),
              IsError(ErrorCode::kDataLoss, HasSubstr("unknown dtype 'int8'")));
}

TEST(ParseTensorReplyErrors, AbsurdShapeDoesNotOverflowOrAllocate) {
  EXPECT_THAT(
      parse_tensor_reply(tensor_response("[4294967296,4294967296,3]", "uint8", pattern_bytes(12))),
      IsError(ErrorCode::kDataLoss,
              HasSubstr("[4294967296,4294967296,3] dtype uint8 is impossible")));
  EXPECT_THAT(parse_tensor_reply(tensor_response("[9223372036854775807,2]", "float32", {})),
              IsError(ErrorCode::kDataLoss, HasSubstr("is impossible")));
  // Large but representable: a plain length mismatch.
  EXPECT_THAT(
      parse_tensor_reply(tensor_response("[1099511627776]", "uint8", pattern_bytes(3))),
      IsError(ErrorCode::kDataLoss,
              HasSubstr(
                  "reply body is 3 bytes, shape [1099511627776] dtype uint8 needs 1099511627776")));
}

TEST(ParseTensorReplyErrors, BodyLengthMustMatchExactly) {
  // [1,3,2,2] float16 = 12 elements * 2 bytes = 24.
  EXPECT_THAT(
      parse_tensor_reply(tensor_response("[1,3,2,2]", "float16", pattern_bytes(23))),
      IsError(
          ErrorCode::kDataLoss,
          HasSubstr("reply body is 23 bytes, shape [1,3,2,2] dtype float16 needs 24 (cut short)")));
  EXPECT_THAT(
      parse_tensor_reply(tensor_response("[1,3,2,2]", "float16", pattern_bytes(25))),
      IsError(ErrorCode::kDataLoss,
              HasSubstr(
                  "reply body is 25 bytes, shape [1,3,2,2] dtype float16 needs 24 (extra bytes)")));
  EXPECT_THAT(parse_tensor_reply(tensor_response("[1,3,2,2]", "float16", {})),
              IsError(ErrorCode::kDataLoss, HasSubstr("reply body is 0 bytes")));
}

}  // namespace
}  // namespace rvae::protocol
