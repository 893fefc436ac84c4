#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "open_inference_test_util.hpp"
#include "support/result_matchers.hpp"

namespace rvae::protocol::oip {
namespace {

using ::testing::HasSubstr;
using testing_support::IsError;
using testing_support::IsOk;

TEST(OipInferRequest, BinaryFormAsTritonclientWritesIt) {
  const std::vector<std::uint16_t> halves(1 * 4 * 2 * 3, 0x3C00);
  const TensorView latents{halves.data(), halves.size() * 2, {1, 4, 2, 3}, DType::kFloat16};
  auto request = build_infer_request("latent_sample", latents, "sample");
  ASSERT_THAT(request, IsOk());
  EXPECT_EQ(request->method, "POST");
  EXPECT_EQ(test::request_parts(*request).header,
            R"({"inputs":[{"name":"latent_sample","shape":[1,4,2,3],"datatype":"FP16",)"
            R"("parameters":{"binary_data_size":48}}],)"
            R"("outputs":[{"name":"sample","parameters":{"binary_data":true}}]})");
  const auto parts = test::request_parts(*request);
  ASSERT_NE(request->header("Inference-Header-Content-Length"), nullptr);
  EXPECT_EQ(*request->header("Inference-Header-Content-Length"),
            std::to_string(parts.header.size()));
  ASSERT_NE(request->header("Content-Type"), nullptr);
  EXPECT_EQ(*request->header("Content-Type"), "application/octet-stream");
  // The tensor is borrowed, not copied.
  EXPECT_EQ(parts.tensor.data, reinterpret_cast<const std::uint8_t*>(halves.data()));
  EXPECT_EQ(parts.tensor.size, 48u);
  EXPECT_EQ(request->body.size(), parts.header.size() + 48);

  // The header parses back to what Triton reads.
  const auto doc = nlohmann::json::parse(parts.header);
  EXPECT_EQ(doc["inputs"][0]["datatype"], "FP16");
  EXPECT_EQ(doc["inputs"][0]["parameters"]["binary_data_size"], 48);
  EXPECT_EQ(doc["outputs"][0]["parameters"]["binary_data"], true);
  EXPECT_FALSE(doc.contains("parameters"));
}

TEST(OipInferRequest, EachDatatypeAndNamesEscaped) {
  const std::vector<float> floats(2 * 3 * 8 * 8, 0.5f);
  for (const auto& [dtype, name] :
       {std::pair{DType::kFloat32, "FP32"}, std::pair{DType::kBFloat16, "BF16"},
        std::pair{DType::kUInt8, "UINT8"}}) {
    const std::size_t bytes = floats.size() * dtype_size(dtype);
    const TensorView view{floats.data(), bytes, {2, 3, 8, 8}, dtype};
    auto request = build_infer_request("in \"x\"", view, "out\\y");
    ASSERT_THAT(request, IsOk());
    const auto doc = nlohmann::json::parse(test::request_parts(*request).header);
    EXPECT_EQ(doc["inputs"][0]["datatype"], name);
    EXPECT_EQ(doc["inputs"][0]["name"], "in \"x\"");
    EXPECT_EQ(doc["outputs"][0]["name"], "out\\y");
    EXPECT_EQ(doc["inputs"][0]["shape"], nlohmann::json::array({2, 3, 8, 8}));
    EXPECT_EQ(doc["inputs"][0]["parameters"]["binary_data_size"], bytes);
  }
}

TEST(OipInferRequest, RefusesBadTensorsAndNames) {
  const std::vector<float> floats(16, 0.0f);
  EXPECT_THAT(
      build_infer_request("x", TensorView{floats.data(), 60, {1, 16}, DType::kFloat32}, "y"),
      IsError(ErrorCode::kInvalidArgument, HasSubstr("input tensor")));
  const TensorView ok{floats.data(), 64, {1, 16}, DType::kFloat32};
  EXPECT_THAT(build_infer_request("", ok, "y"), IsError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(build_infer_request("x", ok, ""), IsError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(build_infer_request("\xff", ok, "y"), IsError(ErrorCode::kInvalidArgument));
}

TEST(OipMetadataMismatch, TritonsDatatypeAndShapeMessages) {
  using test::json_reply;
  EXPECT_TRUE(is_metadata_mismatch(json_reply(
      R"({"error":"inference input 'latent_sample' data-type is 'FP32', but model 'vae' expects 'FP16'"})",
      400)));
  EXPECT_TRUE(is_metadata_mismatch(json_reply(
      R"({"error":"unexpected shape for input 'latent_sample' for model 'vae'. Expected [-1,16,-1,-1], got [1,4,64,64]"})",
      400)));
  EXPECT_TRUE(is_metadata_mismatch(
      json_reply(R"({"error":"unexpected inference input 'x' for model 'vae'"})", 400)));
  EXPECT_TRUE(is_metadata_mismatch(
      json_reply(R"({"error":"unexpected inference output 'sample' for model 'vae'"})", 400)));
  EXPECT_FALSE(is_metadata_mismatch(
      json_reply(R"({"error":"inference input 'x' data-type is 'FP32'"})", 404)));
  EXPECT_FALSE(is_metadata_mismatch(json_reply(R"({"error":"out of memory"})", 400)));
  EXPECT_FALSE(is_metadata_mismatch(json_reply("", 400)));
}

TEST(OipErrorStatuses, MappedAsSection8Says) {
  using test::json_reply;
  struct Case {
    int status;
    ErrorCode code;
    bool retryable;
  };
  for (const Case& c :
       {Case{400, ErrorCode::kInvalidArgument, false}, Case{404, ErrorCode::kNotFound, false},
        Case{405, ErrorCode::kInvalidArgument, false}, Case{500, ErrorCode::kInternal, false},
        Case{501, ErrorCode::kUnavailable, false}, Case{503, ErrorCode::kUnavailable, true}}) {
    SCOPED_TRACE(c.status);
    const InferExpectation expect{"sample", DType::kFloat32, {1}};
    auto reply =
        parse_infer_reply(json_reply(R"({"error":"the server's words"})", c.status), expect);
    ASSERT_THAT(reply, IsError(c.code));
    EXPECT_EQ(reply.error().retryable(), c.retryable);
    EXPECT_EQ(reply.error().http_status(), c.status);
    EXPECT_EQ(reply.error().server_message(), "the server's words");
  }
}

}  // namespace
}  // namespace rvae::protocol::oip
