#include <cfloat>
#include <cstring>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "open_inference_test_util.hpp"
#include "support/result_matchers.hpp"

namespace rvae::protocol::oip {
namespace {

using test::binary_reply;
using test::BinaryOutput;
using test::bytes_of;
using test::json_data_reply;
using test::json_reply;
using test::raw_binary_reply;
using test::to_bytes;
using ::testing::AllOf;
using ::testing::HasSubstr;
using testing_support::IsError;
using testing_support::IsOk;

std::vector<float> floats_of(const Tensor& t) {
  std::vector<float> out(t.numel());
  std::memcpy(out.data(), t.data(), t.size_bytes());
  return out;
}
std::vector<std::uint16_t> halves_of(const Tensor& t) {
  std::vector<std::uint16_t> out(t.numel());
  std::memcpy(out.data(), t.data(), t.size_bytes());
  return out;
}

const InferExpectation kFloat{"sample", DType::kFloat32, {1, 3, 2, 2}};

// ---- The binary form.

TEST(OipInferReplyBinary, TakesTheOutputWhereItLies) {
  std::vector<float> values(12);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<float>(i) * 0.25f - 1;
  http::HttpResponse response = binary_reply({{"sample", "FP32", {1, 3, 2, 2}, bytes_of(values)}});
  const std::uint8_t* body = response.body.data();
  auto tensor = parse_infer_reply(std::move(response), kFloat);
  ASSERT_THAT(tensor, IsOk());
  EXPECT_EQ(tensor->shape(), (Shape{1, 3, 2, 2}));
  EXPECT_EQ(tensor->dtype(), DType::kFloat32);
  EXPECT_EQ(floats_of(*tensor), values);
  // The body's own buffer, its bytes moved to the front: no second allocation.
  EXPECT_EQ(tensor->data(), body);
}

// A receiver that kept the JSON header apart hands over the bytes after it: they become the
// tensor without being moved, and every check holds as for the whole reply.
http::HttpResponse split(http::HttpResponse whole, Bytes& header) {
  const std::size_t length = std::stoul(*whole.header("Inference-Header-Content-Length"));
  header.assign(whole.body.begin(), whole.body.begin() + static_cast<std::ptrdiff_t>(length));
  whole.body.erase(whole.body.begin(), whole.body.begin() + static_cast<std::ptrdiff_t>(length));
  return whole;
}

TEST(OipInferReplyBinary, ASplitReplyGivesItsBytesWithoutMovingThem) {
  std::vector<float> values(12);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<float>(i) * 0.5f - 2;
  Bytes header;
  http::HttpResponse response =
      split(binary_reply({{"sample", "FP32", {1, 3, 2, 2}, bytes_of(values)}}), header);
  const std::uint8_t* body = response.body.data();
  auto tensor = parse_infer_reply(std::move(response), std::move(header), kFloat);
  ASSERT_THAT(tensor, IsOk());
  EXPECT_EQ(floats_of(*tensor), values);
  EXPECT_EQ(tensor->data(), body);

  // The second output of two: found by name after the first's bytes.
  const std::vector<float> other(4, 7.0f);
  http::HttpResponse two = split(binary_reply({{"other", "FP32", {1, 1, 2, 2}, bytes_of(other)},
                                               {"sample", "FP32", {1, 3, 2, 2}, bytes_of(values)}}),
                                 header);
  auto second = parse_infer_reply(std::move(two), std::move(header), kFloat);
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(floats_of(*second), values);

  // A header that is not the length the reply declares, and bytes that do not add up.
  http::HttpResponse short_header =
      split(binary_reply({{"sample", "FP32", {1, 3, 2, 2}, bytes_of(values)}}), header);
  header.pop_back();
  EXPECT_THAT(parse_infer_reply(std::move(short_header), std::move(header), kFloat),
              IsError(ErrorCode::kDataLoss, HasSubstr("received as its header")));
  http::HttpResponse short_body =
      split(binary_reply({{"sample", "FP32", {1, 3, 2, 2}, bytes_of(values)}}), header);
  short_body.body.pop_back();
  EXPECT_THAT(parse_infer_reply(std::move(short_body), std::move(header), kFloat),
              IsError(ErrorCode::kDataLoss));
}

TEST(OipInferReplyBinary, FindsTheOutputByNameAndSkipsOthersBySize) {
  const std::vector<float> values = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  for (bool ours_first : {false, true}) {
    std::vector<BinaryOutput> outputs = {
        {"mean", "FP32", {1, 5}, test::to_bytes("0123456789abcdefghij")},
        {"sample", "FP32", {1, 3, 2, 2}, bytes_of(values)},
        {"z", "UINT8", {3}, Bytes{7, 8, 9}}};
    if (ours_first) std::swap(outputs[0], outputs[1]);
    auto tensor = parse_infer_reply(binary_reply(outputs), kFloat);
    ASSERT_THAT(tensor, IsOk());
    EXPECT_EQ(floats_of(*tensor), values);
  }
}

TEST(OipInferReplyBinary, EveryDatatype) {
  const std::vector<std::uint16_t> halves = {0x3C00, 0xC000, 0x3800, 0x0001};
  for (const auto& [dtype, name] :
       {std::pair{DType::kFloat16, "FP16"}, std::pair{DType::kBFloat16, "BF16"}}) {
    auto tensor = parse_infer_reply(binary_reply({{"sample", name, {1, 4}, bytes_of(halves)}}),
                                    {"sample", dtype, {1, 4}});
    ASSERT_THAT(tensor, IsOk());
    EXPECT_EQ(tensor->dtype(), dtype);
    EXPECT_EQ(halves_of(*tensor), halves);
  }
  const Bytes levels = {0, 1, 127, 128, 254, 255};
  auto tensor = parse_infer_reply(binary_reply({{"sample", "UINT8", {1, 1, 2, 3}, levels}}),
                                  {"sample", DType::kUInt8, {1, -1, -1, 3}});
  ASSERT_THAT(tensor, IsOk());
  EXPECT_EQ(tensor->shape(), (Shape{1, 1, 2, 3}));
  EXPECT_EQ(Bytes(tensor->data(), tensor->data() + 6), levels);
}

TEST(OipInferReplyBinary, HeaderLengthRefusals) {
  const std::string header =
      R"({"outputs":[{"name":"sample","datatype":"FP32","shape":[1,3,2,2],"parameters":{"binary_data_size":48}}]})";
  const Bytes data(48, 0);
  EXPECT_THAT(parse_infer_reply(raw_binary_reply(header, data), kFloat), IsOk());
  EXPECT_THAT(
      parse_infer_reply(raw_binary_reply(header, data, " " + std::to_string(header.size()) + " "),
                        kFloat),
      IsOk());
  struct Case {
    std::string length;
    ErrorCode code;
    const char* message;
  };
  for (const Case& c : {
           Case{std::to_string(header.size() + 49), ErrorCode::kDataLoss, "past its"},
           Case{std::to_string(header.size() + 1), ErrorCode::kDataLoss, "NUL byte"},
           Case{std::to_string(header.size() - 1), ErrorCode::kDataLoss, "not valid JSON"},
           Case{"0", ErrorCode::kDataLoss, "no JSON header"},
           Case{"", ErrorCode::kDataLoss, "empty"},
           Case{"12a", ErrorCode::kDataLoss, "not a number"},
           Case{"-5", ErrorCode::kDataLoss, "not a number"},
           Case{"0x10", ErrorCode::kDataLoss, "not a number"},
           Case{"1e2", ErrorCode::kDataLoss, "not a number"},
           Case{"+100", ErrorCode::kDataLoss, "not a number"},
           Case{"99999999999999999999999999", ErrorCode::kResourceExhausted, "out of range"},
           Case{"2000000", ErrorCode::kResourceExhausted, "above the limit"},
       }) {
    SCOPED_TRACE(c.length);
    EXPECT_THAT(parse_infer_reply(raw_binary_reply(header, data, c.length), kFloat),
                IsError(c.code, HasSubstr(c.message)));
  }
  InferReplyLimits limits;
  limits.max_json_header_bytes = header.size() - 1;
  EXPECT_THAT(parse_infer_reply(raw_binary_reply(header, data), kFloat, limits),
              IsError(ErrorCode::kResourceExhausted, HasSubstr("limit")));
}

TEST(OipInferReplyBinary, SizesThatDisagree) {
  const auto reply_with = [](const std::string& outputs, std::size_t tail) {
    return raw_binary_reply(R"({"outputs":[)" + outputs + "]}", Bytes(tail, 0));
  };
  const std::string sample =
      R"({"name":"sample","datatype":"FP32","shape":[1,3,2,2],"parameters":{"binary_data_size":)";
  struct Case {
    std::string outputs;
    std::size_t tail;
    const char* message;
  };
  for (
      const Case& c : {
          Case{sample + "44}}", 44, "needs 48"},
          Case{sample + "52}}", 52, "needs 48"},
          Case{sample + "48}}", 47, "make"},
          Case{sample + "48}}", 49, "make"},
          Case{sample + "48}}", 0, "make"},
          Case{sample + "18446744073709551615}}", 48, "more bytes than"},
          Case{sample + "-48}}", 48, "non-negative integer"},
          Case{sample + "48.0}}", 48, "non-negative integer"},
          Case{sample + "\"48\"}}", 48, "non-negative integer"},
          Case{sample + "[48]}}", 48, "not a number"},
          Case{sample + "48,\"binary_data_size\":48}}", 48, "twice"},
          Case{
              R"({"name":"x","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}},)" +
                  sample + "48}}",
              48, "make"},
          Case{
              R"({"name":"x","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":18446744073709551615}},)" +
                  sample + "48}}",
              48, "more bytes than"},
          Case{sample + R"(48},"data":[1,2,3,4,5,6,7,8,9,10,11,12]})", 48, "both"},
      }) {
    SCOPED_TRACE(c.outputs);
    EXPECT_THAT(parse_infer_reply(reply_with(c.outputs, c.tail), kFloat),
                IsError(ErrorCode::kDataLoss, HasSubstr(c.message)));
  }
}

TEST(OipInferReplyBinary, OutputThatDisagreesWithTheRequest) {
  const Bytes data(48, 0);
  EXPECT_THAT(parse_infer_reply(binary_reply({{"image", "FP32", {1, 3, 2, 2}, data},
                                              {"mean", "FP32", {1, 3, 2, 2}, data}}),
                                kFloat),
              IsError(ErrorCode::kDataLoss,
                      AllOf(HasSubstr("no output named 'sample'"), HasSubstr("'image', 'mean'"))));
  EXPECT_THAT(parse_infer_reply(binary_reply({{"sample", "FP32", {1, 3, 2, 2}, data},
                                              {"sample", "FP32", {1, 3, 2, 2}, data}}),
                                kFloat),
              IsError(ErrorCode::kDataLoss, HasSubstr("twice")));
  EXPECT_THAT(parse_infer_reply(binary_reply({{"sample", "FP16", {1, 3, 2, 4}, data}}), kFloat),
              IsError(ErrorCode::kDataLoss, HasSubstr("'FP16', expected 'FP32'")));
  EXPECT_THAT(parse_infer_reply(binary_reply({{"sample", "INT32", {1, 3, 2, 2}, data}}), kFloat),
              IsError(ErrorCode::kDataLoss, HasSubstr("'INT32'")));
  EXPECT_THAT(parse_infer_reply(binary_reply({{"sample", "FP32", {1, 3, 4, 1}, data}}), kFloat),
              IsError(ErrorCode::kDataLoss, HasSubstr("[1,3,4,1], expected [1,3,2,2]")));
  EXPECT_THAT(parse_infer_reply(binary_reply({{"sample", "FP32", {3, 2, 2}, data}}), kFloat),
              IsError(ErrorCode::kDataLoss, HasSubstr("shape")));
  EXPECT_THAT(parse_infer_reply(binary_reply({{"sample", "FP32", {0, 3, 2, 2}, {}}}),
                                {"sample", DType::kFloat32, {-1, 3, 2, 2}}),
              IsError(ErrorCode::kDataLoss, HasSubstr("shape")));
}

TEST(OipInferReplyBinary, BinaryOutputWithoutTheHeaderLength) {
  http::HttpResponse response = binary_reply({{"sample", "FP32", {1, 3, 2, 2}, Bytes(48, 0)}});
  response.headers.pop_back();
  EXPECT_THAT(parse_infer_reply(std::move(response), kFloat),
              IsError(ErrorCode::kDataLoss, HasSubstr("NUL byte")));
  // The header alone, with binary sizes but no bytes and no length: refused too.
  EXPECT_THAT(
      parse_infer_reply(
          json_reply(
              R"({"outputs":[{"name":"sample","datatype":"FP32","shape":[1,3,2,2],"parameters":{"binary_data_size":48}}]})"),
          kFloat),
      IsError(ErrorCode::kDataLoss, HasSubstr("no Inference-Header-Content-Length")));
}

// ---- Either form: the JSON itself.

TEST(OipInferReplyJson, HostileJson) {
  const std::string deep = std::string(40, '[') + std::string(40, ']');
  struct Case {
    std::string json;
    const char* message;
  };
  for (const Case& c : {
           Case{"", "not valid JSON"},
           Case{"[]", "array, not an object"},
           Case{"5", "not a JSON object"},
           Case{R"({"outputs":{}})", "not an array"},
           Case{R"({"outputs":5})", "not an array"},
           Case{R"({"outputs":[5]})", "not an object"},
           Case{R"({"outputs":[[]]})", "not an object"},
           Case{R"({"outputs":[],"outputs":[]})", "twice"},
           Case{R"({"outputs":[{"name":"sample","name":"sample"}]})", "twice"},
           Case{R"({"outputs":[{"name":5}]})", "not a string"},
           Case{R"({"outputs":[{"name":{}}]})", "not a string"},
           Case{R"({"outputs":[{"name":"sample","datatype":"FP32","shape":"1"}]})", "not an array"},
           Case{R"({"outputs":[{"name":"sample","datatype":"FP32","shape":[1,[2]]}]})",
                "non-integer"},
           Case{R"({"outputs":[{"name":"sample","datatype":"FP32","shape":[1.5]}]})",
                "non-integer"},
           Case{R"({"outputs":[{"name":"sample","datatype":"FP32","shape":[-1]}]})", "negative"},
           Case{R"({"outputs":[{"name":"sample","datatype":"FP32","shape":[1,1,1,1,1,1,1,1,1]}]})",
                "more than 8"},
           Case{R"({"outputs":[{"name":"sample","datatype":"FP32","shape":[1],"parameters":[]}]})",
                "not an object"},
           Case{R"({"outputs":[{"name":"sample","datatype":"FP32","shape":[1],"parameters":5}]})",
                "not an object"},
           Case{R"({"outputs":[{"name":"sample","datatype":"FP32","shape":[1],"data":{}}]})",
                "not an array"},
           Case{R"({"outputs":[{"name":"sample","datatype":"FP32","shape":[1],"data":5}]})",
                "not an array"},
           Case{R"({"x":)" + deep + R"(,"outputs":[]})", "nested deeper"},
           Case{R"({"outputs":[]} {})", "not valid JSON"},
           Case{"{\"outputs\":[{\"name\":\"\xc3\x28\"}]}", "not valid JSON"},
           Case{R"({"outputs":[]})", "no output named 'sample'; its outputs: none"},
           Case{R"({"model_name":"vae"})", "no `outputs`"},
       }) {
    SCOPED_TRACE(c.json);
    EXPECT_THAT(parse_infer_reply(json_reply(c.json), kFloat),
                IsError(ErrorCode::kDataLoss, HasSubstr(c.message)));
  }
  std::string many = R"({"outputs":[)";
  for (int i = 0; i < 4097; ++i)
    many += i ? ",{}" : "{}";
  EXPECT_THAT(parse_infer_reply(json_reply(many + "]}"), kFloat),
              IsError(ErrorCode::kDataLoss, HasSubstr("more than 4096 outputs")));
}

TEST(OipInferReplyJson, ErrorWithStatus200) {
  auto reply = parse_infer_reply(json_reply(R"({"error":"model is unloading"})"), kFloat);
  ASSERT_THAT(reply, IsError(ErrorCode::kDataLoss, HasSubstr("is an error")));
  EXPECT_EQ(reply.error().server_message(), "model is unloading");
}

// ---- The JSON form's data.

TEST(OipInferReplyJsonData, Fp32FlatAndNested) {
  const std::vector<float> expected = {0.1f, -1.0f, 0.0f, 1e-30f, 3.0f, -0.0f,
                                       0.5f, 0.25f, 1.0f, -0.75f, 2.0f, 0.3f};
  for (const char* data : {"[0.1,-1,0,1e-30,3,-0.0,0.5,0.25,1.0,-0.75,2e0,0.3]",
                           "[[[[0.1,-1],[0,1e-30]],[[3,-0.0],[0.5,0.25]],[[1.0,-0.75],[2e0,0.3]]]]",
                           " [ 0.1 , -1, 0 ,1e-30,3 ,-0.0,0.5,0.25,1.0,-0.75,[2e0],[[0.3]]] "}) {
    SCOPED_TRACE(data);
    auto tensor = parse_infer_reply(json_data_reply("sample", "FP32", {1, 3, 2, 2}, data), kFloat);
    ASSERT_THAT(tensor, IsOk());
    EXPECT_EQ(tensor->shape(), (Shape{1, 3, 2, 2}));
    const std::vector<float> got = floats_of(*tensor);
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(std::memcmp(&got[i], &expected[i], 4), 0) << i;
    }
  }
}

TEST(OipInferReplyJsonData, Fp16Bf16AndUint8) {
  // FP16: 1, -2, 0.5, 65504 (largest), 65519 (rounds to 65504), 2^-24 (smallest subnormal).
  auto half = parse_infer_reply(
      json_data_reply("sample", "FP16", {6}, "[1,-2,0.5,65504,65519,5.960464477539063e-8]"),
      {"sample", DType::kFloat16, {6}});
  ASSERT_THAT(half, IsOk());
  EXPECT_EQ(halves_of(*half),
            (std::vector<std::uint16_t>{0x3C00, 0xC000, 0x3800, 0x7BFF, 0x7BFF, 0x0001}));
  // BF16: 1, 1 + 2^-8 (tie, to even: 1), 1 + 3 * 2^-8 (tie, to even: 1 + 2^-6), -2, 3e38.
  auto bf =
      parse_infer_reply(json_data_reply("sample", "BF16", {5}, "[1,1.00390625,1.01171875,-2,3e38]"),
                        {"sample", DType::kBFloat16, {5}});
  ASSERT_THAT(bf, IsOk());
  EXPECT_EQ(halves_of(*bf), (std::vector<std::uint16_t>{0x3F80, 0x3F80, 0x3F82, 0xC000, 0x7F62}));
  auto levels =
      parse_infer_reply(json_data_reply("sample", "UINT8", {1, 2, 3}, "[[0,1,2],[253,254,255]]"),
                        {"sample", DType::kUInt8, {1, 2, 3}});
  ASSERT_THAT(levels, IsOk());
  EXPECT_EQ(Bytes(levels->data(), levels->data() + 6), (Bytes{0, 1, 2, 253, 254, 255}));
}

TEST(OipInferReplyJsonData, ValuesOutOfRangeOrNotNumbers) {
  struct Case {
    const char* datatype;
    DType dtype;
    const char* data;
    const char* message;
  };
  for (const Case& c : {
           Case{"FP32", DType::kFloat32, "[1e39,0]", "out of range for FP32"},
           Case{"FP32", DType::kFloat32, "[-1e39,0]", "out of range for FP32"},
           Case{"FP32", DType::kFloat32, "[1e400,0]", "overflow"},
           Case{"FP32", DType::kFloat32, "[NaN,0]", "not valid JSON"},
           Case{"FP32", DType::kFloat32, "[nan,0]", "not valid JSON"},
           Case{"FP32", DType::kFloat32, "[Infinity,0]", "not valid JSON"},
           Case{"FP32", DType::kFloat32, "[-Infinity,0]", "not valid JSON"},
           Case{"FP32", DType::kFloat32, "[inf,0]", "not valid JSON"},
           Case{"FP32", DType::kFloat32, "[\"1\",0]", "not a number"},
           Case{"FP32", DType::kFloat32, "[null,0]", "not a number"},
           Case{"FP32", DType::kFloat32, "[true,0]", "not a number"},
           Case{"FP32", DType::kFloat32, "[{},0]", "an object"},
           Case{"FP32", DType::kFloat32, "[1]", "holds 1 values"},
           Case{"FP32", DType::kFloat32, "[1,2,3]", "more values than the 2"},
           Case{"FP32", DType::kFloat32, "[1,[2]]]", "not valid JSON"},
           Case{"FP32", DType::kFloat32, "[[[[[[[[[1]]]]]]]],2]", "nested deeper than 8"},
           Case{"FP16", DType::kFloat16, "[65520,0]", "out of range for FP16"},
           Case{"FP16", DType::kFloat16, "[-1e6,0]", "out of range for FP16"},
           Case{"BF16", DType::kBFloat16, "[3.4e38,0]", "out of range for BF16"},
           Case{"UINT8", DType::kUInt8, "[256,0]", "outside 0..255"},
           Case{"UINT8", DType::kUInt8, "[-1,0]", "outside 0..255"},
           Case{"UINT8", DType::kUInt8, "[18446744073709551615,0]", "outside 0..255"},
           Case{"UINT8", DType::kUInt8, "[1.5,0]", "not an integer"},
           Case{"UINT8", DType::kUInt8, "[3.0,0]", "not an integer"},
       }) {
    SCOPED_TRACE(c.data);
    EXPECT_THAT(parse_infer_reply(json_data_reply("sample", c.datatype, {2}, c.data),
                                  {"sample", c.dtype, {2}}),
                IsError(ErrorCode::kDataLoss, HasSubstr(c.message)));
  }
  // FLT_MAX as a shortest float printer writes it (just above FLT_MAX as a double) is FLT_MAX.
  auto max =
      parse_infer_reply(json_data_reply("sample", "FP32", {2}, "[3.4028235e38,-3.4028235e38]"),
                        {"sample", DType::kFloat32, {2}});
  ASSERT_THAT(max, IsOk());
  EXPECT_EQ(floats_of(*max), (std::vector<float>{FLT_MAX, -FLT_MAX}));
}

TEST(OipInferReplyJsonData, OtherOutputsAndParameters) {
  // Another output's data is not read (its contents do not matter); ours is found by name.
  const std::string json =
      R"({"outputs":[{"name":"other","datatype":"BYTES","shape":[2],"data":["a",{"b":null}]},)"
      R"({"data":[[1,2],[3,4]],"shape":[2,2],"datatype":"FP32","name":"sample",)"
      R"("parameters":{"content_type":"np"}}]})";
  auto tensor = parse_infer_reply(json_reply(json), {"sample", DType::kFloat32, {2, 2}});
  ASSERT_THAT(tensor, IsOk());
  EXPECT_EQ(floats_of(*tensor), (std::vector<float>{1, 2, 3, 4}));
  // parameters: null is no parameters.
  EXPECT_THAT(
      parse_infer_reply(
          json_reply(
              R"({"outputs":[{"name":"sample","datatype":"FP32","shape":[1],"parameters":null,"data":[1]}]})"),
          {"sample", DType::kFloat32, {1}}),
      IsOk());
  // Parameters without a binary size and no data: nothing to read.
  EXPECT_THAT(
      parse_infer_reply(
          json_reply(
              R"({"outputs":[{"name":"sample","datatype":"FP32","shape":[1],"parameters":{"binary_data":true}}]})"),
          {"sample", DType::kFloat32, {1}}),
      IsError(ErrorCode::kDataLoss, HasSubstr("parameters without a binary_data_size")));
  EXPECT_THAT(parse_infer_reply(
                  json_reply(R"({"outputs":[{"name":"sample","datatype":"FP32","shape":[1]}]})"),
                  {"sample", DType::kFloat32, {1}}),
              IsError(ErrorCode::kDataLoss, HasSubstr("no data")));
  // The JSON header of a binary reply may carry our output as JSON data.
  const std::string header =
      R"({"outputs":[{"name":"x","datatype":"UINT8","shape":[2],"parameters":{"binary_data_size":2}},)"
      R"({"name":"sample","datatype":"FP32","shape":[2],"data":[5,6]}]})";
  tensor =
      parse_infer_reply(raw_binary_reply(header, Bytes{1, 2}), {"sample", DType::kFloat32, {2}});
  ASSERT_THAT(tensor, IsOk());
  EXPECT_EQ(floats_of(*tensor), (std::vector<float>{5, 6}));
}

TEST(OipInferReplyJsonData, BoundsBeforeAllocating) {
  // A shape claiming far more elements than the text could hold is refused before its buffer.
  EXPECT_THAT(parse_infer_reply(json_data_reply("sample", "FP32", {1000000, 1000000}, "[1]"),
                                {"sample", DType::kFloat32, {-1, -1}}),
              IsError(ErrorCode::kDataLoss, HasSubstr("claims")));
  EXPECT_THAT(parse_infer_reply(json_data_reply("sample", "FP32", {4611686018427387904, 4}, "[1]"),
                                {"sample", DType::kFloat32, {-1, -1}}),
              IsError(ErrorCode::kDataLoss, HasSubstr("impossible")));
  InferReplyLimits limits;
  const http::HttpResponse reply = json_data_reply("sample", "FP32", {2}, "[1,2]");
  limits.max_json_reply_bytes = reply.body.size() - 1;
  http::HttpResponse copy = reply;
  EXPECT_THAT(parse_infer_reply(std::move(copy), {"sample", DType::kFloat32, {2}}, limits),
              IsError(ErrorCode::kResourceExhausted, HasSubstr("limit")));
  limits.max_json_reply_bytes = reply.body.size();
  copy = reply;
  EXPECT_THAT(parse_infer_reply(std::move(copy), {"sample", DType::kFloat32, {2}}, limits), IsOk());
}

}  // namespace
}  // namespace rvae::protocol::oip
