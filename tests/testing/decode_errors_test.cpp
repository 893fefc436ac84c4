// Every decode request the service refuses: HTTP 400, application/json, {"error": "..."}, with the
// service's exact texts for dtype and shape.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reference_test_support.hpp"
#include "testing/inference.hpp"
#include "testing/stand_in_vae.hpp"

namespace rvae::testing_test {
namespace {

class DecodeErrorTest : public EndpointTest {
 protected:
  // POSTs to /sd15/decode/ and returns the error text of a 400 JSON reply.
  std::string refused(const std::string& query, const std::string& body,
                      const std::string& content_type = "tensor/binary",
                      const std::string& accept = "tensor/binary",
                      const std::string& model = "sd15") {
    auto res = post("/" + model + "/decode/?" + query, body, content_type, accept);
    if (!res) return "<no reply>";
    EXPECT_EQ(res->status, 400) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    return error_text(res->body);
  }

  const std::string body_ = to_body(make_latents(4 * 4, 1));  // [1,4,2,2] float32
  const std::string common_ = "image_format=jpg&output_type=pt&partial_postprocess=True";
};

TEST_F(DecodeErrorTest, ExactServiceTextsForDtypeAndShape) {
  EXPECT_EQ(refused(common_ + "&shape=1&shape=4&shape=2&shape=2", body_),
            "Expected `dtype` in query params.");
  EXPECT_EQ(refused(common_ + "&shape=1&shape=4&shape=2&shape=2&dtype=float64", body_),
            "Supported `dtype`: ['float16', 'float32', 'bfloat16', 'uint8']. Got `float64`.");
  EXPECT_EQ(refused(common_ + "&shape=1&shape=4&shape=2&shape=2&dtype=Float32", body_),
            "Supported `dtype`: ['float16', 'float32', 'bfloat16', 'uint8']. Got `Float32`.");
  EXPECT_EQ(refused(common_ + "&dtype=float32&dtype=float16&shape=1", body_),
            "Supported `dtype`: ['float16', 'float32', 'bfloat16', 'uint8']. Got `['float32', "
            "'float16']`.");
  EXPECT_EQ(refused(common_ + "&dtype=float32", body_), "Expected `shape` in query params.");
}

TEST_F(DecodeErrorTest, OneElementShapeArrivesAsABareIntAndIsRefusedCleanly) {
  EXPECT_EQ(refused(common_ + "&shape=16&dtype=float32", to_body(make_latents(16, 1))),
            "Decode needs 3-D packed, 4-D image or 5-D video latents; got [16].");
}

TEST_F(DecodeErrorTest, BadShapeValues) {
  EXPECT_EQ(refused(common_ + "&shape=1&shape=four&dtype=float32", body_),
            "`shape` must be integers, got `[1, 'four']`.");
  EXPECT_NE(refused(common_ + "&shape=1&shape=4&shape=0&shape=2&dtype=float32", body_)
                .find("Invalid `shape` [1,4,0,2]"),
            std::string::npos);
  EXPECT_NE(refused(common_ + "&shape=1&shape=1&shape=1&shape=1&shape=1&shape=1&dtype=float32",
                    to_body(make_latents(1, 1)))
                .find("Invalid `shape`"),
            std::string::npos);
  EXPECT_EQ(refused(common_ + "&shape=1&shape=4&shape=2&shape=3&dtype=float32", body_),
            "Body has 64 bytes, but shape [1,4,2,3] of float32 needs 96 bytes.");
  EXPECT_EQ(refused(common_ + "&shape=1&shape=5&shape=2&shape=2&dtype=float32",
                    to_body(make_latents(20, 1))),
            "sd15 latents have 4 channels; got shape [1,5,2,2].");
  EXPECT_EQ(refused(common_ + "&shape=1&shape=4&shape=1&shape=2&shape=2&dtype=float32",
                    to_body(make_latents(16, 1))),
            "sd15 decodes 4-D latents [B, C, h, w] (or 3-D packed); got [1,4,1,2,2].");
  EXPECT_EQ(
      refused(common_ + "&shape=1&shape=16&shape=2&shape=2&dtype=float32",
              to_body(make_latents(64, 1)), "tensor/binary", "tensor/binary", "hunyuan-video"),
      "hunyuan-video decodes 5-D latents [B, C, T, h, w]; got [1,16,2,2].");
  EXPECT_EQ(
      refused(common_ + "&shape=1&shape=1&shape=64&dtype=float32", to_body(make_latents(64, 1)),
              "tensor/binary", "tensor/binary", "hunyuan-video"),
      "hunyuan-video decodes 5-D latents [B, C, T, h, w]; got [1,1,64].");
}

TEST_F(DecodeErrorTest, PackedLatentsNeedHeightAndWidth) {
  const std::string packed = to_body(make_latents(64, 1));  // [1,1,64]: 16 px square
  const std::string q = common_ + "&shape=1&shape=1&shape=64&dtype=float32";
  EXPECT_EQ(refused(q, packed, "tensor/binary", "tensor/binary", "flux"),
            "Packed (3-D) latents [1,1,64] need `height` and `width` query parameters.");
  EXPECT_EQ(refused(q + "&height=16", packed, "tensor/binary", "tensor/binary", "flux"),
            "Packed (3-D) latents [1,1,64] need `height` and `width` query parameters.");
  EXPECT_NE(refused(q + "&height=32&width=16", packed, "tensor/binary", "tensor/binary", "flux")
                .find("Cannot unpack latents:"),
            std::string::npos);
  EXPECT_EQ(refused(q + "&height=-16&width=16", packed, "tensor/binary", "tensor/binary", "flux"),
            "Query parameter `height` must be a non-negative integer, got `-16`.");
  // 64 / 4 = 16 channels is right for flux but not for sdxl.
  EXPECT_EQ(refused(q + "&height=16&width=16", packed, "tensor/binary", "tensor/binary", "sdxl"),
            "sdxl latents have 4 channels; got shape [1,16,2,2].");
}

TEST_F(DecodeErrorTest, ContentTypeIsMatchedExactly) {
  const std::string q = common_ + "&shape=1&shape=4&shape=2&shape=2&dtype=float32";
  EXPECT_EQ(refused(q, body_, "tensor/binary; charset=x"),
            "Content-Type `tensor/binary; charset=x` is not supported for decode; send exactly "
            "`tensor/binary` (or the legacy `tensor/base64`).");
  EXPECT_EQ(refused(q, body_, "Tensor/Binary"),
            "Content-Type `Tensor/Binary` is not supported for decode; send exactly "
            "`tensor/binary` (or the legacy `tensor/base64`).");
  EXPECT_EQ(refused(q, body_, "application/octet-stream"),
            "Content-Type `application/octet-stream` is not supported for decode; send exactly "
            "`tensor/binary` (or the legacy `tensor/base64`).");
}

TEST_F(DecodeErrorTest, AcceptIsMatchedExactly) {
  const std::string q = common_ + "&shape=1&shape=4&shape=2&shape=2&dtype=float32";
  const std::string json_text =
      "` asks for a JSON reply, which decode does not produce; send Accept: image/jpeg or "
      "image/png (output_type=pil) or tensor/binary (output_type=pt).";
  EXPECT_EQ(refused(q, body_, "tensor/binary", "*/*"), "Accept `*/*" + json_text);
  EXPECT_EQ(refused(q, body_, "tensor/binary", "application/json"),
            "Accept `application/json" + json_text);
  EXPECT_EQ(refused(q, body_, "tensor/binary", "text/plain"),
            "Accept `text/plain` is for output_type=mp4, got `pt`.");
  EXPECT_EQ(refused(q, body_, "tensor/binary", "image/png"),
            "Accept `image/png` needs output_type=pil, got `pt`.");
  EXPECT_EQ(refused(q, body_, "tensor/binary", "tensor/binary, */*"),
            "Accept `tensor/binary, */*` is not supported; send image/jpeg, image/png, "
            "tensor/binary or tensor/base64.");
}

TEST_F(DecodeErrorTest, OutputOptions) {
  const std::string shape = "&shape=1&shape=4&shape=2&shape=2&dtype=float32";
#if defined(RVAE_HAVE_FFMPEG) && RVAE_HAVE_FFMPEG
  EXPECT_EQ(refused("output_type=mp4&partial_postprocess=False" + shape, body_, "tensor/binary",
                    "text/plain"),
            "output_type=mp4 returns a video: it needs a video model; sd15 decodes images.");
#else
  EXPECT_EQ(refused("output_type=mp4&partial_postprocess=False" + shape, body_, "tensor/binary",
                    "text/plain"),
            "MP4 output needs FFmpeg, not built in to this reference endpoint; use "
            "output_type=pt.");
#endif
  EXPECT_EQ(refused("output_type=np" + shape, body_),
            "Unsupported `output_type` `np`; expected pil, pt or mp4.");
  EXPECT_EQ(
      refused("output_type=pil&image_format=webp" + shape, body_, "tensor/binary", "image/png"),
      "Unsupported `image_format` `webp`; expected jpg or png.");
  EXPECT_EQ(refused("output_type=pt&partial_postprocess=yes" + shape, body_),
            "Query parameter `partial_postprocess` must be True or False, got `yes`.");
  EXPECT_EQ(refused("output_type=1" + shape, body_),
            "Query parameter `output_type` must be a single string, got `1`.");
  // A PIL reply is one image.
  EXPECT_EQ(refused("output_type=pil&image_format=png&shape=2&shape=4&shape=1&shape=1&dtype="
                    "float32",
                    to_body(make_latents(8, 1)), "tensor/binary", "image/png"),
            "output_type=pil returns one image: it needs image latents with batch 1.");
}

TEST_F(DecodeErrorTest, ScalingParameters) {
  const std::string q = common_ + "&shape=1&shape=4&shape=2&shape=2&dtype=float32";
  EXPECT_EQ(refused(q + "&scaling_factor=abc", body_),
            "Query parameter `scaling_factor` must be a finite number, got `abc`.");
  EXPECT_EQ(refused(q + "&scaling_factor=0", body_), "`scaling_factor` must not be zero.");
  EXPECT_EQ(refused(q + "&scaling_factor=0.0", body_), "`scaling_factor` must not be zero.");
  EXPECT_EQ(refused(q + "&shift_factor=nan", body_),
            "Query parameter `shift_factor` must be a finite number, got `nan`.");
  EXPECT_EQ(refused(q + "&do_scaling=1", body_),
            "Query parameter `do_scaling` must be True or False, got `1`.");
  EXPECT_EQ(refused(q + "&width=x&height=8", body_),
            "Query parameter `width` must be a non-negative integer, got `x`.");
}

// Cases an HTTP client library cannot send (it always adds an Accept header), checked on the
// handler itself.
TEST(DecodeHandler, MissingHeaders) {
  const rvae::reference::StandInVae* vae = rvae::reference::find_stand_in_vae("sd15");
  ASSERT_NE(vae, nullptr);
  const std::string body = to_body(make_latents(16, 1));
  rvae::reference::InferenceRequest request;
  request.raw_query =
      "output_type=pt&partial_postprocess=True&shape=1&shape=4&shape=2&shape=2&dtype=float32";
  request.body = body;
  request.accept = "tensor/binary";
  rvae::Result<rvae::reference::InferenceReply> no_type =
      rvae::reference::run_decode(*vae, request, {});
  ASSERT_FALSE(no_type);
  EXPECT_EQ(no_type.error().message(),
            "Decode needs `Content-Type: tensor/binary`; the request has none.");
  request.content_type = "tensor/binary";
  request.accept.reset();
  rvae::Result<rvae::reference::InferenceReply> no_accept =
      rvae::reference::run_decode(*vae, request, {});
  ASSERT_FALSE(no_accept);
  EXPECT_NE(no_accept.error().message().find("asks for a JSON reply"), std::string::npos);
  request.accept = "tensor/binary";
  rvae::Result<rvae::reference::InferenceReply> ok = rvae::reference::run_decode(*vae, request, {});
  ASSERT_TRUE(ok) << ok.error().what();
  EXPECT_EQ(ok->shape, (rvae::Shape{1, 16, 16, 3}));
  EXPECT_EQ(ok->body.size(), 16u * 16 * 3);
}

}  // namespace
}  // namespace rvae::testing_test
