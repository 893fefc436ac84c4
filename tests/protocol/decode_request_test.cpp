#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol/protocol.hpp"
#include "protocol_test_util.hpp"

namespace rvae::protocol {
namespace {

using test::decode_request_for;
using test::header_lines;
using ::testing::HasSubstr;
using testing_support::IsError;

constexpr const char* kSdDecode =
    "https://q1bj3bpq6kzilnsu.us-east-1.aws.endpoints.huggingface.cloud/";
constexpr const char* kFluxDecode =
    "https://whhx50ex1aryqvw6.us-east-1.aws.endpoints.huggingface.cloud/";
constexpr const char* kHunyuanDecode =
    "https://o7ywnmrahorts457.us-east-1.aws.endpoints.huggingface.cloud/";

std::size_t element_size(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return 4;
    case DType::kFloat16:
    case DType::kBFloat16:
      return 2;
    case DType::kUInt8:
      return 1;
  }
  return 0;
}

// Owns latent bytes and hands out a view of them.
struct Latents {
  Latents(Shape s, DType t) : shape(std::move(s)), dtype(t) {
    std::size_t n = element_size(dtype);
    for (std::int64_t d : shape)
      n *= static_cast<std::size_t>(d);
    bytes = test::pattern_bytes(n);
  }
  TensorView view() const { return TensorView{bytes.data(), bytes.size(), shape, dtype}; }
  Shape shape;
  DType dtype;
  Bytes bytes;
};

void expect_borrows(const HttpRequest& http, const Latents& latents) {
  EXPECT_EQ(http.method, "POST");
  // One piece, pointing at the caller's latents: sent without a copy.
  ASSERT_EQ(http.body.pieces().size(), 1u);
  EXPECT_EQ(test::only_piece(http).data, latents.bytes.data());
  EXPECT_EQ(test::only_piece(http).size, latents.bytes.size());
  EXPECT_EQ(http.body.size(), latents.bytes.size());
}

TEST(BuildDecodeRequest, SdJpegImageWithScalingFactor) {
  const Latents latents({1, 4, 64, 64}, DType::kFloat16);
  DecodeOptions options;
  options.scaling_factor = 0.18215;
  auto request = decode_request_for(kSdDecode, latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url,
            "https://q1bj3bpq6kzilnsu.us-east-1.aws.endpoints.huggingface.cloud/"
            "?image_format=jpg&output_type=pil&partial_postprocess=False"
            "&shape=1&shape=4&shape=64&shape=64&dtype=float16&scaling_factor=0.18215");
  EXPECT_EQ(header_lines(request->http.headers),
            "Content-Type: tensor/binary\nAccept: image/jpeg\n");
  expect_borrows(request->http, latents);
  EXPECT_EQ(request->expect.type, OutputType::kImage);
  EXPECT_EQ(request->expect.image_format, ImageFormat::kJpeg);
  EXPECT_EQ(request->expect.batch, 1);
  EXPECT_EQ(request->expect.height, 512);
  EXPECT_EQ(request->expect.width, 512);
  EXPECT_EQ(request->expect.frames, 0);
}

TEST(BuildDecodeRequest, PngImageOfNonSquareLatents) {
  const Latents latents({1, 4, 96, 128}, DType::kFloat32);
  DecodeOptions options;
  options.image_format = ImageFormat::kPng;
  options.scaling_factor = 0.13025;
  auto request = decode_request_for(kSdDecode, latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url,
            std::string(kSdDecode) +
                "?image_format=png&output_type=pil&partial_postprocess=False"
                "&shape=1&shape=4&shape=96&shape=128&dtype=float32&scaling_factor=0.13025");
  EXPECT_EQ(header_lines(request->http.headers),
            "Content-Type: tensor/binary\nAccept: image/png\n");
  expect_borrows(request->http, latents);
  EXPECT_EQ(request->expect.image_format, ImageFormat::kPng);
  EXPECT_EQ(request->expect.height, 768);
  EXPECT_EQ(request->expect.width, 1024);
}

TEST(BuildDecodeRequest, UInt8BatchWithoutFactors) {
  const Latents latents({3, 4, 8, 16}, DType::kFloat16);
  DecodeOptions options;
  options.output_type = OutputType::kUInt8;
  auto request = decode_request_for(kSdDecode, latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, std::string(kSdDecode) +
                              "?image_format=jpg&output_type=pt&partial_postprocess=True"
                              "&shape=3&shape=4&shape=8&shape=16&dtype=float16");
  EXPECT_EQ(header_lines(request->http.headers),
            "Content-Type: tensor/binary\nAccept: tensor/binary\n");
  expect_borrows(request->http, latents);
  EXPECT_EQ(request->expect.type, OutputType::kUInt8);
  EXPECT_EQ(request->expect.batch, 3);
  EXPECT_EQ(request->expect.height, 64);
  EXPECT_EQ(request->expect.width, 128);
}

TEST(BuildDecodeRequest, FloatTensorFluxWithBothFactors) {
  const Latents latents({1, 16, 16, 16}, DType::kBFloat16);
  DecodeOptions options;
  options.output_type = OutputType::kFloatTensor;
  options.scaling_factor = 0.3611;
  options.shift_factor = 0.1159;
  auto request = decode_request_for(kFluxDecode, latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, std::string(kFluxDecode) +
                              "?image_format=jpg&output_type=pt&partial_postprocess=False"
                              "&shape=1&shape=16&shape=16&shape=16&dtype=bfloat16"
                              "&scaling_factor=0.3611&shift_factor=0.1159");
  EXPECT_EQ(header_lines(request->http.headers),
            "Content-Type: tensor/binary\nAccept: tensor/binary\n");
  expect_borrows(request->http, latents);
  EXPECT_EQ(request->expect.type, OutputType::kFloatTensor);
  EXPECT_EQ(request->expect.height, 128);
  EXPECT_EQ(request->expect.width, 128);
}

TEST(BuildDecodeRequest, PackedFluxLatentsSendHeightAndWidth) {
  // 1024x768 pixels: (1024/16) * (768/16) = 64 * 48 = 3072 tokens of 4*16 = 64 values.
  const Latents latents({1, 3072, 64}, DType::kBFloat16);
  DecodeOptions options;
  options.output_type = OutputType::kImage;
  options.scaling_factor = 0.3611;
  options.shift_factor = 0.1159;
  options.height = 1024;
  options.width = 768;
  auto request = decode_request_for(kFluxDecode, latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, std::string(kFluxDecode) +
                              "?image_format=jpg&output_type=pil&partial_postprocess=False"
                              "&shape=1&shape=3072&shape=64&dtype=bfloat16"
                              "&scaling_factor=0.3611&shift_factor=0.1159&height=1024&width=768");
  EXPECT_EQ(header_lines(request->http.headers),
            "Content-Type: tensor/binary\nAccept: image/jpeg\n");
  expect_borrows(request->http, latents);
  EXPECT_EQ(request->expect.batch, 1);
  EXPECT_EQ(request->expect.height, 1024);
  EXPECT_EQ(request->expect.width, 768);
  EXPECT_EQ(request->expect.frames, 0);
}

TEST(BuildDecodeRequest, ImageLatentsWithMatchingHeightAndWidthSendThem) {
  const Latents latents({1, 4, 8, 4}, DType::kFloat16);
  DecodeOptions options;
  options.height = 64;
  options.width = 32;
  auto request = decode_request_for(kSdDecode, latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, std::string(kSdDecode) +
                              "?image_format=jpg&output_type=pil&partial_postprocess=False"
                              "&shape=1&shape=4&shape=8&shape=4&dtype=float16"
                              "&height=64&width=32");
}

TEST(BuildDecodeRequest, VideoToMp4) {
  const Latents latents({1, 16, 3, 8, 10}, DType::kFloat16);
  DecodeOptions options;
  options.output_type = OutputType::kMp4;
  options.scaling_factor = 0.476986;
  auto request = decode_request_for(kHunyuanDecode, latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, std::string(kHunyuanDecode) +
                              "?image_format=jpg&output_type=mp4&partial_postprocess=False"
                              "&shape=1&shape=16&shape=3&shape=8&shape=10&dtype=float16"
                              "&scaling_factor=0.476986");
  EXPECT_EQ(header_lines(request->http.headers),
            "Content-Type: tensor/binary\nAccept: text/plain\n");
  expect_borrows(request->http, latents);
  EXPECT_EQ(request->expect.type, OutputType::kMp4);
  EXPECT_EQ(request->expect.batch, 1);
  EXPECT_EQ(request->expect.frames, 9);  // 4 * (3 - 1) + 1
  EXPECT_EQ(request->expect.height, 64);
  EXPECT_EQ(request->expect.width, 80);
}

TEST(BuildDecodeRequest, VideoToUInt8AndFloatFramesUseTemporalCompression) {
  const Latents latents({2, 16, 5, 4, 4}, DType::kFloat32);
  DecodeOptions options;
  options.output_type = OutputType::kUInt8;
  options.temporal_compression = 2;
  auto request = decode_request_for(kHunyuanDecode, latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, std::string(kHunyuanDecode) +
                              "?image_format=jpg&output_type=pt&partial_postprocess=True"
                              "&shape=2&shape=16&shape=5&shape=4&shape=4&dtype=float32");
  EXPECT_EQ(request->expect.batch, 2);
  EXPECT_EQ(request->expect.frames, 9);  // 2 * (5 - 1) + 1

  options.output_type = OutputType::kFloatTensor;
  options.temporal_compression = 1;
  request = decode_request_for(kHunyuanDecode, latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->expect.frames, 5);
}

TEST(BuildDecodeRequest, LegacyDoScalingOnlyWithoutScalingFactor) {
  const Latents latents({1, 4, 8, 8}, DType::kFloat16);
  const std::string prefix = std::string(kSdDecode) +
                             "?image_format=jpg&output_type=pil&partial_postprocess=False"
                             "&shape=1&shape=4&shape=8&shape=8&dtype=float16";
  DecodeOptions options;
  options.do_scaling = true;
  auto request = decode_request_for(kSdDecode, latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, prefix + "&do_scaling=True");

  options.scaling_factor = 0.18215;
  request = decode_request_for(kSdDecode, latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, prefix + "&scaling_factor=0.18215");

  options.scaling_factor.reset();
  options.shift_factor = 0.1159;
  request = decode_request_for(kSdDecode, latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, prefix + "&shift_factor=0.1159&do_scaling=True");

  options.do_scaling = false;
  request = decode_request_for(kSdDecode, latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, prefix + "&shift_factor=0.1159");
}

TEST(BuildDecodeRequest, FactorsArePercentEncodedPythonReprs) {
  const Latents latents({1, 4, 8, 8}, DType::kFloat16);
  DecodeOptions options;
  options.scaling_factor = 1e22;
  options.shift_factor = -1e-05;
  auto request = decode_request_for(kSdDecode, latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_THAT(request->url, ::testing::EndsWith("&scaling_factor=1e%2B22&shift_factor=-1e-05"));
}

TEST(BuildDecodeRequest, ContinuesAnExistingQueryAndAcceptsAnyCaseScheme) {
  const Latents latents({1, 4, 8, 8}, DType::kFloat16);
  const std::string params =
      "image_format=jpg&output_type=pil&partial_postprocess=False"
      "&shape=1&shape=4&shape=8&shape=8&dtype=float16";
  DecodeOptions options;
  auto request = decode_request_for("http://127.0.0.1:8080/predict?x=1", latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, "http://127.0.0.1:8080/predict?x=1&" + params);

  request = decode_request_for("http://127.0.0.1:8080/?", latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, "http://127.0.0.1:8080/?" + params);

  request = decode_request_for("http://h/?x=1&", latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, "http://h/?x=1&" + params);

  request = decode_request_for("HTTPS://Example.com/", latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, "HTTPS://Example.com/?" + params);

  request = decode_request_for("Http://h", latents.view(), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->url, "Http://h?" + params);
}

// ---- InvalidArgument paths.

TEST(BuildDecodeRequestErrors, BadEndpoints) {
  const Latents latents({1, 4, 8, 8}, DType::kFloat16);
  const DecodeOptions options;
  EXPECT_THAT(decode_request_for("", latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("endpoint is empty")));
  EXPECT_THAT(decode_request_for("ftp://h/", latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("http:// or https://")));
  EXPECT_THAT(decode_request_for("h/x", latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("http:// or https://")));
  EXPECT_THAT(decode_request_for("https://", latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("no host")));
  EXPECT_THAT(decode_request_for("http:///path", latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("no host")));
  EXPECT_THAT(decode_request_for("https://?a=b", latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("no host")));
  EXPECT_THAT(decode_request_for("https://h/a b", latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("offset 11")));
  EXPECT_THAT(decode_request_for(" https://h/", latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("control character")));
  EXPECT_THAT(decode_request_for("https://h/\n", latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("control character")));
  EXPECT_THAT(decode_request_for("https://h/\x7f", latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("control character")));
  EXPECT_THAT(decode_request_for("https://h/#frag", latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("fragment")));
  // The message must not echo the URL (it may carry credentials).
  auto result = decode_request_for("https://user:secret@h/ x", latents.view(), options);
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message(), ::testing::Not(::testing::HasSubstr("secret")));
}

TEST(BuildDecodeRequestErrors, BadLatentViews) {
  Latents latents({1, 4, 8, 8}, DType::kFloat16);
  TensorView view = latents.view();
  view.size_bytes -= 1;
  EXPECT_THAT(decode_request_for(kSdDecode, view, {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("latents")));
  view = latents.view();
  view.data = nullptr;
  EXPECT_THAT(decode_request_for(kSdDecode, view, {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("latents")));
  view = latents.view();
  view.shape = {1, 4, 0, 8};
  EXPECT_THAT(decode_request_for(kSdDecode, view, {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("latents")));

  const Latents bytes({1, 4, 8, 8}, DType::kUInt8);
  EXPECT_THAT(decode_request_for(kSdDecode, bytes.view(), {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("uint8")));
}

TEST(BuildDecodeRequestErrors, BadRanks) {
  const Latents rank2({4, 64}, DType::kFloat16);
  EXPECT_THAT(decode_request_for(kSdDecode, rank2.view(), {}),
              IsError(ErrorCode::kInvalidArgument,
                      HasSubstr("[B,C,h,w], packed [B,L,4C] or video [B,C,T,h,w]")));
  const Latents rank1({64}, DType::kFloat16);
  EXPECT_THAT(decode_request_for(kSdDecode, rank1.view(), {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("[64]")));
}

TEST(BuildDecodeRequestErrors, BadEnumValues) {
  const Latents latents({1, 4, 8, 8}, DType::kFloat16);
  DecodeOptions options;
  options.output_type = static_cast<OutputType>(42);
  EXPECT_THAT(decode_request_for(kSdDecode, latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("unknown output type")));
  options = {};
  options.image_format = static_cast<ImageFormat>(42);
  EXPECT_THAT(decode_request_for(kSdDecode, latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("unknown image format")));
}

TEST(BuildDecodeRequestErrors, BadFactors) {
  const Latents latents({1, 4, 8, 8}, DType::kFloat16);
  for (double bad : {std::nan(""), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    DecodeOptions options;
    options.scaling_factor = bad;
    EXPECT_THAT(decode_request_for(kSdDecode, latents.view(), options),
                IsError(ErrorCode::kInvalidArgument, HasSubstr("scaling_factor must be finite")));
    options = {};
    options.shift_factor = bad;
    EXPECT_THAT(decode_request_for(kSdDecode, latents.view(), options),
                IsError(ErrorCode::kInvalidArgument, HasSubstr("shift_factor must be finite")));
  }
  DecodeOptions options;
  options.scaling_factor = 0.0;
  EXPECT_THAT(decode_request_for(kSdDecode, latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("scaling_factor must not be 0")));
  options.scaling_factor = -0.0;
  EXPECT_THAT(decode_request_for(kSdDecode, latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("scaling_factor must not be 0")));
}

TEST(BuildDecodeRequestErrors, BadHeightOrWidth) {
  const Latents latents({1, 4, 8, 8}, DType::kFloat16);
  DecodeOptions options;
  options.height = 0;
  options.width = 64;
  EXPECT_THAT(decode_request_for(kSdDecode, latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("height must be positive; got 0")));
  options.height = 64;
  options.width = -8;
  EXPECT_THAT(decode_request_for(kSdDecode, latents.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("width must be positive; got -8")));
  options.width.reset();
  EXPECT_THAT(
      decode_request_for(kSdDecode, latents.view(), options),
      IsError(ErrorCode::kInvalidArgument, HasSubstr("height and width must be set together")));
  options.height.reset();
  options.width = 64;
  EXPECT_THAT(
      decode_request_for(kSdDecode, latents.view(), options),
      IsError(ErrorCode::kInvalidArgument, HasSubstr("height and width must be set together")));
}

TEST(BuildDecodeRequestErrors, HeightOrWidthDisagreeingWithUnpackedLatents) {
  const Latents image({1, 4, 8, 8}, DType::kFloat16);
  DecodeOptions options;
  options.height = 128;
  options.width = 64;
  EXPECT_THAT(decode_request_for(kSdDecode, image.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("height 128 disagrees")));
  options.height = 64;
  options.width = 72;
  EXPECT_THAT(decode_request_for(kSdDecode, image.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("width 72 disagrees")));
  const Latents video({1, 16, 2, 8, 8}, DType::kFloat16);
  options.output_type = OutputType::kMp4;
  EXPECT_THAT(decode_request_for(kHunyuanDecode, video.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("width 72 disagrees")));
}

TEST(BuildDecodeRequestErrors, BadPackedLatents) {
  const Latents packed({1, 4, 64}, DType::kBFloat16);  // 32x32 pixels: (32/16)^2 = 4 tokens.
  DecodeOptions options;
  EXPECT_THAT(decode_request_for(kFluxDecode, packed.view(), options),
              IsError(ErrorCode::kInvalidArgument,
                      HasSubstr("need the output size: set height and width")));
  options.height = 40;
  options.width = 32;
  EXPECT_THAT(decode_request_for(kFluxDecode, packed.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("multiples of 16; got 40x32")));
  options.height = 32;
  options.width = 24;
  EXPECT_THAT(decode_request_for(kFluxDecode, packed.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("multiples of 16")));
  options.height = 32;
  options.width = 64;
  EXPECT_THAT(decode_request_for(kFluxDecode, packed.view(), options),
              IsError(ErrorCode::kInvalidArgument,
                      HasSubstr("have 4 tokens but height 32 and width 64 need")));
  const Latents odd({1, 4, 62}, DType::kBFloat16);
  options.height = 32;
  options.width = 32;
  EXPECT_THAT(decode_request_for(kFluxDecode, odd.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("divisible by 4")));
}

TEST(BuildDecodeRequestErrors, OutputTypeAndLayoutMismatch) {
  const Latents batch({2, 4, 8, 8}, DType::kFloat16);
  EXPECT_THAT(decode_request_for(kSdDecode, batch.view(), {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("ask for uint8 frames for batches")));
  const Latents video({1, 16, 2, 8, 8}, DType::kFloat16);
  EXPECT_THAT(decode_request_for(kHunyuanDecode, video.view(), {}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("ask for MP4 or uint8 frames")));
  // A one-frame video is an image (Qwen-Image's [B, 16, 1, h, w]).
  const Latents one_frame({1, 16, 1, 8, 8}, DType::kFloat16);
  auto image = decode_request_for(kHunyuanDecode, one_frame.view(), {});
  ASSERT_TRUE(image.has_value()) << image.error().what();
  EXPECT_EQ(image->expect.type, OutputType::kImage);
  EXPECT_EQ(image->expect.frames, 1);
  DecodeOptions options;
  options.output_type = OutputType::kMp4;
  EXPECT_THAT(decode_request_for(kSdDecode, batch.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("an MP4 reply needs video latents")));
  const Latents packed({1, 4, 64}, DType::kBFloat16);
  options.height = 32;
  options.width = 32;
  EXPECT_THAT(decode_request_for(kFluxDecode, packed.view(), options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("an MP4 reply needs video latents")));
}

TEST(BuildDecodeRequestErrors, BadVideoFrameArithmetic) {
  const Latents video({1, 16, 2, 8, 8}, DType::kFloat16);
  DecodeOptions options;
  options.output_type = OutputType::kUInt8;
  options.temporal_compression = 0;
  EXPECT_THAT(decode_request_for(kHunyuanDecode, video.view(), options),
              IsError(ErrorCode::kInvalidArgument,
                      HasSubstr("temporal_compression must be at least 1; got 0")));

  // Views whose sizes are only arithmetic: the builder never reads the bytes.
  const std::uint8_t byte = 0;
  TensorView huge_t{
      &byte, std::size_t{1} << 63, {1, 1, std::int64_t{1} << 62, 1, 1}, DType::kFloat16};
  options.temporal_compression = 4;
  EXPECT_THAT(decode_request_for(kHunyuanDecode, huge_t, options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("too many frames")));
}

TEST(BuildDecodeRequestErrors, LatentSidesTooLargeForPixels) {
  const std::uint8_t byte = 0;
  TensorView tall{&byte, std::size_t{1} << 61, {1, 1, std::int64_t{1} << 60, 1}, DType::kFloat16};
  DecodeOptions options;
  options.output_type = OutputType::kUInt8;
  EXPECT_THAT(decode_request_for(kSdDecode, tall, options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("latent height")));
  TensorView wide{&byte, std::size_t{1} << 61, {1, 1, 1, std::int64_t{1} << 60}, DType::kFloat16};
  EXPECT_THAT(decode_request_for(kSdDecode, wide, options),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("latent width")));
}

}  // namespace
}  // namespace rvae::protocol
