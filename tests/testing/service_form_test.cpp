// Behaviour third-party clients rely on: float replies in the VAE's own dtype (PROTOCOL.md §3,
// last table), on decode and encode, whatever the request's dtype; and the legacy
// `tensor/base64` form (a JSON body {"inputs": "<base64>"}, and the JSON reply for
// `Accept: tensor/base64`) that one ComfyUI node still sends by default.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reference_test_support.hpp"
#include "rvae/presets.hpp"
#include "rvae/tensor.hpp"
#include "testing/tensor_base64.hpp"

namespace rvae::testing_test {
namespace {

using rvae::reference::base64_decode;
using rvae::reference::base64_encode;

class ServiceFormTest : public EndpointTest {};

TEST_F(ServiceFormTest, FloatRepliesComeInTheVaeDtype) {
  struct Case {
    const char* model;
    const char* vae_dtype;
  };
  for (const Case c :
       {Case{"sd15", "float16"}, Case{"sdxl", "float16"}, Case{"flux", "bfloat16"}}) {
    SCOPED_TRACE(c.model);
    const int channels = table(c.model).channels;
    const std::vector<float> latents = make_latents(static_cast<std::size_t>(channels) * 4, 7);
    for (const char* dtype : {"float32", "float16", "bfloat16"}) {
      SCOPED_TRACE(dtype);
      rvae::Result<rvae::Tensor> typed =
          rvae::convert(view_of(latents, {1, channels, 2, 2}), *rvae::dtype_from_name(dtype));
      ASSERT_TRUE(typed);
      auto res =
          post("/" + std::string(c.model) +
                   "/decode/?output_type=pt&partial_postprocess=False&shape=1&shape=" +
                   std::to_string(channels) + "&shape=2&shape=2&dtype=" + dtype,
               std::string(reinterpret_cast<const char*>(typed->data()), typed->size_bytes()),
               "tensor/binary", "tensor/binary");
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 200) << res->body;
      EXPECT_EQ(res->get_header_value("dtype"), c.vae_dtype);
      EXPECT_EQ(res->body.size(), 3u * 16 * 16 * 2);
    }
    // Encode: from a PNG and from float32 pixels alike.
    rvae::Image image;
    image.width = 16;
    image.height = 8;
    image.channels = 3;
    image.pixels.assign(16 * 8 * 3, 90);
    rvae::Result<rvae::Bytes> png = rvae::encode_png(image);
    ASSERT_TRUE(png);
    const RawReply from_png = raw_post(endpoint_->port(), "/" + std::string(c.model) + "/encode/",
                                       std::string(png->begin(), png->end()), {"Accept: */*"});
    ASSERT_EQ(from_png.status, 200) << from_png.body;
    EXPECT_EQ(raw_header(from_png.head, "dtype"), c.vae_dtype);
    EXPECT_EQ(from_png.body.size(), static_cast<std::size_t>(channels) * 2 * 2);
    const std::vector<float> pixels(3 * 8 * 16, 0.25f);
    auto from_f32 =
        post("/" + std::string(c.model) + "/encode/?shape=1&shape=3&shape=8&shape=16&dtype=float32",
             to_body(pixels), "tensor/binary", "tensor/binary");
    ASSERT_TRUE(from_f32);
    ASSERT_EQ(from_f32->status, 200) << from_f32->body;
    EXPECT_EQ(from_f32->get_header_value("dtype"), c.vae_dtype);
    EXPECT_EQ(from_f32->body.size(), static_cast<std::size_t>(channels) * 2 * 2);
  }
}

TEST(TensorBase64, EncodesAndDecodesRfc4648) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\x00\xfe", 3)), "/wD+");
  for (const char* text : {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYmFy", "/wD+"})
    EXPECT_EQ(base64_encode(*base64_decode(text)), text);
  EXPECT_FALSE(base64_decode("Zm9"));       // length
  EXPECT_FALSE(base64_decode("Zm9*"));      // alphabet
  EXPECT_FALSE(base64_decode("Z==="));      // padding
  EXPECT_FALSE(base64_decode("Zg==Zg=="));  // padding only at the end
}

TEST_F(ServiceFormTest, LegacyBase64DecodeRequestAndReply) {
  const std::vector<float> latents = make_latents(16, 4);
  const std::string q =
      "/sd15/decode/?output_type=pt&partial_postprocess=True&shape=1&shape=4&shape=2&shape=2&"
      "dtype=float32";
  auto binary = post(q, to_body(latents), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(binary);
  ASSERT_EQ(binary->status, 200);
  const std::string wrapped = "{\"inputs\": \"" + base64_encode(to_body(latents)) + "\"}";

  // A base64 request with a binary reply: the same bytes.
  auto binary_reply = post(q, wrapped, "tensor/base64", "tensor/binary");
  ASSERT_TRUE(binary_reply);
  ASSERT_EQ(binary_reply->status, 200) << binary_reply->body;
  EXPECT_EQ(binary_reply->body, binary->body);
  EXPECT_EQ(binary_reply->get_header_value("shape"), "[1,16,16,3]");

  // Accept: tensor/base64: the JSON reply the toolkit fork sends.
  auto json_reply = post(q, wrapped, "tensor/base64", "tensor/base64");
  ASSERT_TRUE(json_reply);
  ASSERT_EQ(json_reply->status, 200) << json_reply->body;
  EXPECT_EQ(json_reply->get_header_value("Content-Type"), "tensor/base64");
  const nlohmann::json parsed = nlohmann::json::parse(json_reply->body, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << json_reply->body;
  ASSERT_TRUE(parsed["inputs"].is_string());
  EXPECT_EQ(base64_decode(parsed["inputs"].get<std::string>()).value_or("<bad>"), binary->body);
  EXPECT_EQ(parsed["parameters"]["shape"], nlohmann::json::array({1, 16, 16, 3}));
  EXPECT_EQ(parsed["parameters"]["dtype"], "uint8");

  // Float replies too, in the VAE's dtype.
  auto floats = post(
      "/flux/decode/?output_type=pt&partial_postprocess=False&shape=1&shape=16&shape=1&shape=1&"
      "dtype=float32",
      "{\"inputs\": \"" + base64_encode(to_body(make_latents(16, 2))) + "\"}", "tensor/base64",
      "tensor/base64");
  ASSERT_TRUE(floats);
  ASSERT_EQ(floats->status, 200) << floats->body;
  const nlohmann::json f = nlohmann::json::parse(floats->body, nullptr, false);
  ASSERT_TRUE(f.is_object());
  EXPECT_EQ(f["parameters"]["dtype"], "bfloat16");
  EXPECT_EQ(f["parameters"]["shape"], nlohmann::json::array({1, 3, 8, 8}));
  EXPECT_EQ(base64_decode(f["inputs"].get<std::string>()).value_or("").size(), 3u * 8 * 8 * 2);
}

TEST_F(ServiceFormTest, LegacyBase64EncodeRequestAndReply) {
  const std::vector<float> pixels(3 * 8 * 8, -0.5f);
  const std::string q = "/sdxl/encode/?shape=1&shape=3&shape=8&shape=8&dtype=float32";
  auto binary = post(q, to_body(pixels), "tensor/binary", "tensor/binary");
  ASSERT_TRUE(binary);
  ASSERT_EQ(binary->status, 200);
  auto json_reply = post(q, "{\"inputs\": \"" + base64_encode(to_body(pixels)) + "\"}",
                         "tensor/base64", "tensor/base64");
  ASSERT_TRUE(json_reply);
  ASSERT_EQ(json_reply->status, 200) << json_reply->body;
  const nlohmann::json parsed = nlohmann::json::parse(json_reply->body, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << json_reply->body;
  EXPECT_EQ(base64_decode(parsed["inputs"].get<std::string>()).value_or("<bad>"), binary->body);
  EXPECT_EQ(parsed["parameters"]["shape"], nlohmann::json::array({1, 4, 1, 1}));
  EXPECT_EQ(parsed["parameters"]["dtype"], "float16");
}

TEST_F(ServiceFormTest, MalformedBase64BodiesGetClearErrors) {
  const std::string q =
      "/sd15/decode/?output_type=pt&partial_postprocess=True&shape=1&shape=4&shape=1&shape=1&"
      "dtype=float32";
  auto refused = [&](const std::string& body) {
    auto res = post(q, body, "tensor/base64", "tensor/binary");
    EXPECT_TRUE(res);
    if (!res) return std::string();
    EXPECT_EQ(res->status, 400);
    return error_text(res->body);
  };
  EXPECT_EQ(refused("not json"),
            "A `tensor/base64` body must be a JSON object {\\\"inputs\\\": \\\"<base64>\\\"}.");
  EXPECT_EQ(refused("{\"inputs\": 3}"),
            "A `tensor/base64` body needs `inputs`: the tensor's bytes as a base64 string.");
  EXPECT_EQ(refused("{\"inputs\": \"@@@@\"}"),
            "`inputs` of the `tensor/base64` body is not valid base64.");
  // Valid base64 of the wrong length: the usual tensor error.
  EXPECT_EQ(refused("{\"inputs\": \"" + base64_encode("abc") + "\"}"),
            "Body has 3 bytes, but shape [1,4,1,1] of float32 needs 16 bytes.");
}

}  // namespace
}  // namespace rvae::testing_test
