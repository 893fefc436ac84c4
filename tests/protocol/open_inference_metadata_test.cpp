#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "open_inference_test_util.hpp"
#include "support/result_matchers.hpp"

namespace rvae::protocol::oip {
namespace {

using test::json_reply;
using test::tensor;
using ::testing::AllOf;
using ::testing::HasSubstr;
using testing_support::IsError;
using testing_support::IsOk;

Result<ModelMetadata> parse(const std::string& json, int status = 200) {
  return parse_metadata_reply(json_reply(json, status));
}

std::string tensors_json(int count) {
  std::string out = "[";
  for (int i = 0; i < count; ++i) {
    out += (i ? "," : "") + std::string(R"({"name":"t)") + std::to_string(i) +
           R"(","datatype":"FP16","shape":[-1,4,-1,-1]})";
  }
  return out + "]";
}

TEST(OipMetadata, ParsesTritonMetadata) {
  const auto m = parse(R"({"name":"sdxl_decoder","versions":["1","2"],"platform":"onnxruntime_onnx",
    "inputs":[{"name":"latent_sample","datatype":"FP16","shape":[-1,4,-1,-1]}],
    "outputs":[{"name":"sample","datatype":"FP32","shape":[-1,3,-1,-1]}],"extra":{"x":[1]}})");
  ASSERT_THAT(m, IsOk());
  ModelMetadata expected;
  expected.name = "sdxl_decoder";
  expected.versions = {"1", "2"};
  expected.platform = "onnxruntime_onnx";
  expected.inputs = {tensor("latent_sample", "FP16", {-1, 4, -1, -1})};
  expected.outputs = {tensor("sample", "FP32", {-1, 3, -1, -1})};
  EXPECT_EQ(*m, expected);
}

TEST(OipMetadata, OptionalFieldsMayBeAbsentOrNull) {
  const auto m = parse(R"({"name":"m","platform":null,"versions":null,
    "inputs":[{"name":"x","datatype":"FP32","shape":[],"parameters":{"content_type":"np"}}],
    "outputs":[]})");
  ASSERT_THAT(m, IsOk());
  EXPECT_TRUE(m->versions.empty());
  EXPECT_EQ(m->platform, "");
  EXPECT_TRUE(m->inputs[0].shape.empty());
  EXPECT_TRUE(m->outputs.empty());
}

TEST(OipMetadata, Bounds) {
  // 64 tensors per side, rank 8, names of 256 bytes: accepted; one more: refused.
  EXPECT_THAT(parse(R"({"name":"m","inputs":)" + tensors_json(64) + R"(,"outputs":[]})"), IsOk());
  EXPECT_THAT(parse(R"({"name":"m","inputs":)" + tensors_json(65) + R"(,"outputs":[]})"),
              IsError(ErrorCode::kDataLoss, HasSubstr("more than 64")));
  EXPECT_THAT(parse(R"({"name":"m","inputs":[],"outputs":[{"name":"o","datatype":"FP32",
    "shape":[1,2,3,4,5,6,7,8]}]})"),
              IsOk());
  EXPECT_THAT(parse(R"({"name":"m","inputs":[],"outputs":[{"name":"o","datatype":"FP32",
    "shape":[1,2,3,4,5,6,7,8,9]}]})"),
              IsError(ErrorCode::kDataLoss, HasSubstr("more than 8 dimensions")));
  EXPECT_THAT(parse(R"({"name":")" + std::string(256, 'n') + R"(","inputs":[],"outputs":[]})"),
              IsOk());
  EXPECT_THAT(parse(R"({"name":")" + std::string(257, 'n') + R"(","inputs":[],"outputs":[]})"),
              IsError(ErrorCode::kDataLoss, HasSubstr("longer than 256")));
  EXPECT_THAT(parse(R"({"name":"m","inputs":[{"name":")" + std::string(257, 'n') +
                    R"(","datatype":"FP32","shape":[1]}],"outputs":[]})"),
              IsError(ErrorCode::kDataLoss, HasSubstr("longer than 256")));
  // Depth 16 passes, 17 does not.
  const std::string deep15 = std::string(14, '[') + std::string(14, ']');
  EXPECT_THAT(parse(R"({"name":"m","x":)" + deep15 + R"(,"inputs":[],"outputs":[]})"), IsOk());
  const std::string deep16 = std::string(16, '[') + std::string(16, ']');
  EXPECT_THAT(parse(R"({"name":"m","x":)" + deep16 + R"(,"inputs":[],"outputs":[]})"),
              IsError(ErrorCode::kDataLoss, HasSubstr("nested deeper")));
  // The body: at most 1 MiB.
  std::string big =
      R"({"name":"m","pad":")" + std::string(1 << 20, 'x') + R"(","inputs":[],"outputs":[]})";
  EXPECT_THAT(parse(big), IsError(ErrorCode::kResourceExhausted, HasSubstr("limit")));
}

TEST(OipMetadata, HostileOrWrongReplies) {
  struct Case {
    const char* json;
    const char* message;
  };
  for (
      const Case& c : {
          Case{"", "not valid JSON"},
          Case{"<html>nope</html>", "HTML"},
          Case{"[1,2]", "not a JSON object"},
          Case{R"({"inputs":[],"outputs":[]})", "no `name`"},
          Case{R"({"name":5,"inputs":[],"outputs":[]})", "not a string"},
          Case{R"({"name":"m","outputs":[]})", "no `inputs`"},
          Case{R"({"name":"m","inputs":{},"outputs":[]})", "not an array"},
          Case{R"({"name":"m","inputs":[5],"outputs":[]})", "not an object"},
          Case{R"({"name":"m","inputs":[{"datatype":"FP32","shape":[1]}],"outputs":[]})",
               "no `name`"},
          Case{R"({"name":"m","inputs":[{"name":"","datatype":"FP32","shape":[1]}],"outputs":[]})",
               "empty name"},
          Case{R"({"name":"m","inputs":[{"name":"x","shape":[1]}],"outputs":[]})", "no `datatype`"},
          Case{R"({"name":"m","inputs":[{"name":"x","datatype":"FP32"}],"outputs":[]})",
               "no `shape`"},
          Case{
              R"({"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[1.5]}],"outputs":[]})",
              "not an integer"},
          Case{
              R"({"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[4.0]}],"outputs":[]})",
              "not an integer"},
          Case{
              R"({"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[-2]}],"outputs":[]})",
              "-2"},
          Case{
              R"({"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[18446744073709551615]}],"outputs":[]})",
              "not an integer"},
          Case{
              R"({"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":["1"]}],"outputs":[]})",
              "not an integer"},
          Case{
              R"({"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[1]},{"name":"x","datatype":"FP32","shape":[1]}],"outputs":[]})",
              "twice"},
          Case{R"({"name":"m","name":"n","inputs":[],"outputs":[]})", "twice"},
          Case{R"({"name":"m","versions":"1","inputs":[],"outputs":[]})", "versions"},
          Case{R"({"name":"m","versions":[1],"inputs":[],"outputs":[]})", "version"},
          Case{R"({"name":"m","inputs":[],"outputs":[]} x)", "not valid JSON"},
          Case{"{\"name\":\"\xff\",\"inputs\":[],\"outputs\":[]}", "not valid JSON"},
      }) {
    SCOPED_TRACE(c.json);
    EXPECT_THAT(parse(c.json), IsError(ErrorCode::kDataLoss, HasSubstr(c.message)));
  }
}

TEST(OipMetadata, NulByteEndsNothing) {
  // nlohmann would stop at the NUL and call the rest valid.
  std::string json = R"({"name":"m","inputs":[],"outputs":[]})";
  json += '\0';
  json += "garbage";
  EXPECT_THAT(parse(json), IsError(ErrorCode::kDataLoss, HasSubstr("NUL byte")));
}

TEST(OipMetadata, ErrorStatusesGiveTheServersError) {
  const auto m = parse(R"({"error":"Request for unknown model: 'vae' is not found"})", 404);
  EXPECT_THAT(m, IsError(ErrorCode::kNotFound));
  EXPECT_EQ(m.error().http_status(), 404);
  EXPECT_THAT(m.error().server_message(), HasSubstr("unknown model"));
  EXPECT_THAT(parse(R"({"error":"unavailable"})", 503), IsError(ErrorCode::kUnavailable));
  EXPECT_TRUE(parse(R"({"error":"unavailable"})", 503).error().retryable());
}

TEST(OipMetadata, Datatypes) {
  EXPECT_EQ(datatype_name(DType::kFloat32), "FP32");
  EXPECT_EQ(datatype_name(DType::kFloat16), "FP16");
  EXPECT_EQ(datatype_name(DType::kBFloat16), "BF16");
  EXPECT_EQ(datatype_name(DType::kUInt8), "UINT8");
  EXPECT_EQ(dtype_from_datatype("FP32"), DType::kFloat32);
  EXPECT_EQ(dtype_from_datatype("FP16"), DType::kFloat16);
  EXPECT_EQ(dtype_from_datatype("BF16"), DType::kBFloat16);
  EXPECT_EQ(dtype_from_datatype("UINT8"), DType::kUInt8);
  for (const char* other : {"INT64", "FP64", "BOOL", "BYTES", "fp32", "float32", ""}) {
    EXPECT_EQ(dtype_from_datatype(other), std::nullopt) << other;
  }
}

TEST(OipChooseTensors, OnlyTensorsOrByName) {
  ModelMetadata m = test::vae_model(tensor("latent_sample", "FP16", {-1, 4, -1, -1}),
                                    tensor("sample", "FP32", {-1, 3, -1, -1}));
  auto choice = choose_tensors(m, "", "");
  ASSERT_THAT(choice, IsOk());
  EXPECT_EQ(choice->input, &m.inputs[0]);
  EXPECT_EQ(choice->output, &m.outputs[0]);
  EXPECT_THAT(choose_tensors(m, "latent_sample", "sample"), IsOk());
  EXPECT_THAT(choose_tensors(m, "latents", ""),
              IsError(ErrorCode::kInvalidArgument,
                      AllOf(HasSubstr("no input 'latents'"), HasSubstr("'latent_sample'"))));
  EXPECT_THAT(choose_tensors(m, "", "image"),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("no output 'image'")));

  m.outputs.push_back(tensor("mean", "FP32", {-1, 4}));
  EXPECT_THAT(choose_tensors(m, "", ""),
              IsError(ErrorCode::kInvalidArgument,
                      AllOf(HasSubstr("2 outputs"), HasSubstr("'sample'"), HasSubstr("'mean'"))));
  choice = choose_tensors(m, "", "mean");
  ASSERT_THAT(choice, IsOk());
  EXPECT_EQ(choice->output, &m.outputs[1]);
  m.outputs.clear();
  EXPECT_THAT(choose_tensors(m, "", ""),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("0 outputs")));
}

}  // namespace
}  // namespace rvae::protocol::oip
