#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "open_inference_test_util.hpp"
#include "protocol/open_inference_internal.hpp"
#include "support/result_matchers.hpp"

namespace rvae::protocol::oip {
namespace {

using test::binary_reply;
using test::bytes_of;
using test::request_parts;
using test::tensor;
using test::vae_model;
using ::testing::AllOf;
using ::testing::HasSubstr;
using testing_support::IsError;
using testing_support::IsOk;

// The quantisation of the reference endpoint, written out again from PROTOCOL.md's decoder
// contract: round((v + 1) * 127.5), half away from zero, clamped; NaN to 0.
std::uint8_t reference_level(float v) {
  const double level = std::round((static_cast<double>(v) + 1.0) * 127.5);
  if (!(level > 0.0)) return 0;
  return static_cast<std::uint8_t>(level < 255.0 ? level : 255.0);
}

nlohmann::json header_of(const http::HttpRequest& request) {
  return nlohmann::json::parse(request_parts(request).header);
}

struct Latents {
  std::vector<float> values;
  TensorView view;
};
Latents latents(Shape shape, float start = -1.0f) {
  Latents l;
  std::size_t n = 1;
  for (auto d : shape)
    n *= static_cast<std::size_t>(d);
  l.values.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    l.values[i] = start + 0.01f * static_cast<float>(i % 200);
  l.view = TensorView{l.values.data(), n * 4, std::move(shape), DType::kFloat32};
  return l;
}

DecodeOptions with_type(OutputType type) {
  DecodeOptions options;
  options.output_type = type;
  return options;
}

const ModelMetadata kSdxl = vae_model(tensor("latent_sample", "FP16", {-1, 4, -1, -1}),
                                      tensor("sample", "FP32", {-1, 3, -1, -1}));
const ModelMetadata kQwen = vae_model(tensor("latent_sample", "BF16", {-1, 16, -1, -1, -1}),
                                      tensor("sample", "FP32", {-1, 3, -1, -1, -1}), "qwen");

TensorChoice only(const ModelMetadata& m) {
  return {&m.inputs[0], &m.outputs[0]};
}

// ---- plan_decode

TEST(OipPlanDecode, ConvertsToTheModelsDatatype) {
  const Latents l = latents({1, 4, 8, 6});
  auto plan = plan_decode(kSdxl, only(kSdxl), l.view, with_type(OutputType::kFloatTensor));
  ASSERT_THAT(plan, IsOk());
  ASSERT_NE(plan->converted, nullptr);
  EXPECT_EQ(plan->converted->dtype(), DType::kFloat16);
  // The request borrows the converted copy, which the plan keeps alive.
  EXPECT_EQ(request_parts(plan->http).tensor.data, plan->converted->data());
  EXPECT_EQ(request_parts(plan->http).tensor.size, 1u * 4 * 8 * 6 * 2);
  const auto* halves = plan->converted->data_as<std::uint16_t>();
  EXPECT_EQ(halves[0], float32_to_float16(l.values[0]));
  EXPECT_EQ(halves[7], float32_to_float16(l.values[7]));
  const auto header = header_of(plan->http);
  EXPECT_EQ(header["inputs"][0]["name"], "latent_sample");
  EXPECT_EQ(header["inputs"][0]["datatype"], "FP16");
  EXPECT_EQ(header["inputs"][0]["shape"], nlohmann::json::array({1, 4, 8, 6}));
  EXPECT_EQ(header["outputs"][0]["name"], "sample");
  EXPECT_EQ(plan->infer.output_name, "sample");
  EXPECT_EQ(plan->infer.dtype, DType::kFloat32);
  EXPECT_EQ(plan->infer.shape, (Shape{1, 3, 64, 48}));
  EXPECT_EQ(plan->expect.type, OutputType::kFloatTensor);
  EXPECT_EQ(plan->expect.batch, 1);
  EXPECT_EQ(plan->expect.height, 64);
  EXPECT_EQ(plan->expect.width, 48);
  EXPECT_EQ(plan->expect.frames, 0);
}

TEST(OipPlanDecode, BorrowsLatentsAlreadyInTheDatatype) {
  const ModelMetadata m = vae_model(tensor("latent_sample", "FP32", {-1, 4, -1, -1}),
                                    tensor("sample", "FP32", {-1, 3, -1, -1}));
  const Latents l = latents({2, 4, 2, 2});
  auto plan = plan_decode(m, only(m), l.view, with_type(OutputType::kUInt8));
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->converted, nullptr);
  EXPECT_EQ(request_parts(plan->http).tensor.data,
            reinterpret_cast<const std::uint8_t*>(l.values.data()));
  EXPECT_EQ(plan->infer.shape, (Shape{2, 3, 16, 16}));
}

TEST(OipPlanDecode, FourAndFiveDimensions) {
  // A 4-D latent to a rank-5 model goes as T = 1; the output is the model's own 5-D one.
  Latents l = latents({1, 16, 4, 4});
  l.values.resize(l.values.size());
  ModelMetadata qwen32 = kQwen;
  qwen32.inputs[0].datatype = "FP32";
  auto plan = plan_decode(qwen32, only(qwen32), l.view, with_type(OutputType::kFloatTensor));
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->converted, nullptr);
  EXPECT_EQ(header_of(plan->http)["inputs"][0]["shape"], nlohmann::json::array({1, 16, 1, 4, 4}));
  EXPECT_EQ(plan->infer.shape, (Shape{1, 3, 1, 32, 32}));
  EXPECT_EQ(plan->expect.frames, 1);

  // 5-D with T = 1 to a rank-4 model goes without T.
  const ModelMetadata wan_image = vae_model(tensor("latent_sample", "FP32", {-1, 16, -1, -1}),
                                            tensor("sample", "FP32", {-1, 3, -1, -1}));
  const Latents one_frame = latents({2, 16, 1, 4, 4});
  plan = plan_decode(wan_image, only(wan_image), one_frame.view, with_type(OutputType::kUInt8));
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(header_of(plan->http)["inputs"][0]["shape"], nlohmann::json::array({2, 16, 4, 4}));
  EXPECT_EQ(plan->infer.shape, (Shape{2, 3, 32, 32}));

  // Video: F = 4 (T - 1) + 1, or as temporal_compression says.
  const Latents video = latents({1, 16, 3, 2, 2});
  plan = plan_decode(kQwen, only(kQwen), video.view, with_type(OutputType::kUInt8));
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->infer.shape, (Shape{1, 3, 9, 16, 16}));
  EXPECT_EQ(plan->expect.frames, 9);
  DecodeOptions options = with_type(OutputType::kUInt8);
  options.temporal_compression = 8;
  plan = plan_decode(kQwen, only(kQwen), video.view, options);
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->infer.shape, (Shape{1, 3, 17, 16, 16}));
  EXPECT_EQ(plan->temporal_compression, 8);

  // A UINT8 output: [B, H, W, 3] / [B, F, H, W, 3].
  ModelMetadata post = kQwen;
  post.outputs[0] = tensor("image", "UINT8", {-1, -1, -1, -1, 3});
  plan = plan_decode(post, only(post), video.view, with_type(OutputType::kUInt8));
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->infer.shape, (Shape{1, 9, 16, 16, 3}));
  EXPECT_EQ(plan->infer.dtype, DType::kUInt8);
}

TEST(OipPlanDecode, RefusalsNameTheModelsExpectation) {
  const Latents sd = latents({1, 4, 8, 8});
  const Latents flux = latents({1, 16, 8, 8});
  const Latents video = latents({1, 16, 3, 2, 2});
  EXPECT_THAT(plan_decode(kSdxl, only(kSdxl), flux.view, with_type(OutputType::kUInt8)),
              IsError(ErrorCode::kInvalidArgument,
                      AllOf(HasSubstr("'sdxl_decoder'"), HasSubstr("takes 4 latent channels"),
                            HasSubstr("have 16"))));
  EXPECT_THAT(plan_decode(kSdxl, only(kSdxl), video.view, with_type(OutputType::kUInt8)),
              IsError(ErrorCode::kInvalidArgument,
                      AllOf(HasSubstr("takes image latents"), HasSubstr("3 frames"))));
  const ModelMetadata fixed = vae_model(tensor("latent_sample", "FP16", {1, 4, 64, 64}),
                                        tensor("sample", "FP32", {1, 3, 512, 512}));
  EXPECT_THAT(plan_decode(fixed, only(fixed), sd.view, with_type(OutputType::kUInt8)),
              IsError(ErrorCode::kInvalidArgument,
                      AllOf(HasSubstr("[1,4,64,64]"), HasSubstr("[1,4,8,8]"))));
  const ModelMetadata fixed_out = vae_model(tensor("latent_sample", "FP16", {-1, 4, -1, -1}),
                                            tensor("sample", "FP32", {1, 3, 512, 512}));
  EXPECT_THAT(plan_decode(fixed_out, only(fixed_out), sd.view, with_type(OutputType::kUInt8)),
              IsError(ErrorCode::kInvalidArgument,
                      AllOf(HasSubstr("gives [1,3,512,512]"), HasSubstr("[1,3,64,64]"))));
  const ModelMetadata ints = vae_model(tensor("latent_sample", "INT64", {-1, 4, -1, -1}),
                                       tensor("sample", "FP32", {-1, 3, -1, -1}));
  EXPECT_THAT(plan_decode(ints, only(ints), sd.view, with_type(OutputType::kUInt8)),
              IsError(ErrorCode::kInvalidArgument, AllOf(HasSubstr("'INT64'"), HasSubstr("FP16"))));
  const ModelMetadata rank3 = vae_model(tensor("latent_sample", "FP16", {-1, 4, -1}),
                                        tensor("sample", "FP32", {-1, 3, -1, -1}));
  EXPECT_THAT(plan_decode(rank3, only(rank3), sd.view, with_type(OutputType::kUInt8)),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("[-1,4,-1]")));
  const ModelMetadata bad_out = vae_model(tensor("latent_sample", "FP16", {-1, 4, -1, -1}),
                                          tensor("sample", "INT64", {-1, 3, -1, -1}));
  EXPECT_THAT(plan_decode(bad_out, only(bad_out), sd.view, with_type(OutputType::kUInt8)),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("'INT64'")));
  const ModelMetadata image_out = vae_model(tensor("latent_sample", "FP16", {-1, 16, -1, -1, -1}),
                                            tensor("sample", "FP32", {-1, 3, -1, -1}));
  EXPECT_THAT(plan_decode(image_out, only(image_out), video.view, with_type(OutputType::kUInt8)),
              IsError(ErrorCode::kInvalidArgument,
                      AllOf(HasSubstr("no frame axis"), HasSubstr("9 frames"))));
  ModelMetadata uint8_out = kSdxl;
  uint8_out.outputs[0] = tensor("image", "UINT8", {-1, -1, -1, 3});
  EXPECT_THAT(plan_decode(uint8_out, only(uint8_out), sd.view, with_type(OutputType::kFloatTensor)),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("uint8 pixels")));
}

TEST(OipPlanDecode, RefusesOptionsThisProtocolCannotServe) {
  const Latents sd = latents({1, 4, 8, 8});
  EXPECT_THAT(plan_decode(kSdxl, only(kSdxl), sd.view, with_type(OutputType::kMp4)),
              IsError(ErrorCode::kInvalidArgument,
                      AllOf(HasSubstr("MP4 output needs the Hugging Face protocol"),
                            HasSubstr("frames/"), HasSubstr("uint8"))));
  for (int which = 0; which < 5; ++which) {
    DecodeOptions options = with_type(OutputType::kUInt8);
    if (which == 0) options.scaling_factor = 0.13025;
    if (which == 1) options.shift_factor = 0.1;
    if (which == 2) options.do_scaling = true;
    if (which == 3) options.latents_mean = {0, 0, 0, 0};
    if (which == 4) options.latents_std = {1, 1, 1, 1};
    EXPECT_THAT(plan_decode(kSdxl, only(kSdxl), sd.view, options),
                IsError(ErrorCode::kInvalidArgument, HasSubstr("internal: ")))
        << which;
  }
  const Latents two = latents({2, 4, 8, 8});
  EXPECT_THAT(plan_decode(kSdxl, only(kSdxl), two.view, with_type(OutputType::kImage)),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("one picture")));
  DecodeOptions sized = with_type(OutputType::kUInt8);
  sized.height = 64;
  sized.width = 32;
  EXPECT_THAT(plan_decode(kSdxl, only(kSdxl), sd.view, sized),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("width 32")));
  sized.width = 64;
  EXPECT_THAT(plan_decode(kSdxl, only(kSdxl), sd.view, sized), IsOk());
  std::vector<std::uint8_t> levels(4 * 8 * 8);
  EXPECT_THAT(plan_decode(kSdxl, only(kSdxl),
                          TensorView{levels.data(), levels.size(), {1, 4, 8, 8}, DType::kUInt8},
                          with_type(OutputType::kUInt8)),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("float")));
  const Latents packed = latents({1, 16, 64});
  EXPECT_THAT(plan_decode(kSdxl, only(kSdxl), packed.view, with_type(OutputType::kUInt8)),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("[1,16,64]")));
  EXPECT_THAT(plan_decode(kSdxl, TensorChoice{}, sd.view, with_type(OutputType::kUInt8)),
              IsError(ErrorCode::kInternal));
}

// ---- parse_decode_reply

std::vector<float> pixel_values(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = -1.2f + 2.4f * static_cast<float>(i) / static_cast<float>(n);
  return v;
}

TEST(OipDecodeReply, FloatTensorAsReceived) {
  const Latents sd = latents({1, 4, 1, 1});
  auto plan = plan_decode(kSdxl, only(kSdxl), sd.view, with_type(OutputType::kFloatTensor));
  ASSERT_THAT(plan, IsOk());
  const std::vector<float> pixels = pixel_values(3 * 8 * 8);
  auto out =
      parse_decode_reply(binary_reply({{"sample", "FP32", {1, 3, 8, 8}, bytes_of(pixels)}}), *plan);
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(out->type, OutputType::kFloatTensor);
  EXPECT_EQ(out->tensor.shape(), (Shape{1, 3, 8, 8}));
  EXPECT_EQ(std::memcmp(out->tensor.data(), pixels.data(), pixels.size() * 4), 0);
  EXPECT_TRUE(out->images.empty());
  EXPECT_TRUE(out->encoded.empty());
}

TEST(OipDecodeReply, Uint8FromFloatPixelsPerItemAndFrame) {
  // Batch 2, 3 frames of 8x8 each (video latents [2, 16, 1... ] give F = 1; use T = 2, tc = 2).
  DecodeOptions options = with_type(OutputType::kUInt8);
  options.temporal_compression = 2;
  const Latents video = latents({2, 16, 2, 1, 1});
  auto plan = plan_decode(kQwen, only(kQwen), video.view, options);
  ASSERT_THAT(plan, IsOk());
  ASSERT_EQ(plan->infer.shape, (Shape{2, 3, 3, 8, 8}));
  const std::size_t plane = 64;
  for (const auto& [dtype, name] :
       {std::pair{DType::kFloat32, "FP32"}, std::pair{DType::kFloat16, "FP16"},
        std::pair{DType::kBFloat16, "BF16"}}) {
    SCOPED_TRACE(name);
    ModelMetadata m = kQwen;
    m.outputs[0].datatype = name;
    auto p = plan_decode(m, only(m), video.view, options);
    ASSERT_THAT(p, IsOk());
    const std::vector<float> values = pixel_values(2 * 3 * 3 * plane);
    Result<Tensor> wire = convert(
        TensorView{values.data(), values.size() * 4, {2, 3, 3, 8, 8}, DType::kFloat32}, dtype);
    ASSERT_THAT(wire, IsOk());
    const std::vector<float> sent = wire->to_floats();  // What the reply holds, as floats.
    auto out =
        parse_decode_reply(binary_reply({{"sample",
                                          name,
                                          {2, 3, 3, 8, 8},
                                          Bytes(wire->data(), wire->data() + wire->size_bytes())}}),
                           *p);
    ASSERT_THAT(out, IsOk());
    EXPECT_EQ(out->type, OutputType::kUInt8);
    ASSERT_EQ(out->images.size(), 6u);
    for (std::size_t b = 0; b < 2; ++b) {
      for (std::size_t f = 0; f < 3; ++f) {
        const Image& image = out->images[b * 3 + f];
        ASSERT_EQ(image.width, 8);
        ASSERT_EQ(image.height, 8);
        ASSERT_EQ(image.channels, 3);
        for (std::size_t i = 0; i < plane; ++i) {
          for (std::size_t k = 0; k < 3; ++k) {
            const float v = sent[((b * 3 + k) * 3 + f) * plane + i];
            ASSERT_EQ(image.pixels[i * 3 + k], reference_level(v)) << b << " " << f << " " << i;
          }
        }
      }
    }
  }
}

TEST(OipDecodeReply, Uint8ReplyAsIs) {
  ModelMetadata m = kSdxl;
  m.outputs[0] = tensor("image", "UINT8", {-1, -1, -1, 3});
  const Latents two = latents({2, 4, 1, 1});
  auto plan = plan_decode(m, only(m), two.view, with_type(OutputType::kUInt8));
  ASSERT_THAT(plan, IsOk());
  const Bytes levels = test::pattern_bytes(2 * 8 * 8 * 3);
  auto out = parse_decode_reply(binary_reply({{"image", "UINT8", {2, 8, 8, 3}, levels}}), *plan);
  ASSERT_THAT(out, IsOk());
  ASSERT_EQ(out->images.size(), 2u);
  EXPECT_EQ(out->images[0].pixels, Bytes(levels.begin(), levels.begin() + 192));
  EXPECT_EQ(out->images[1].pixels, Bytes(levels.begin() + 192, levels.end()));
}

TEST(OipDecodeReply, VideoAndOneFrameModels) {
  // UINT8 video [B, F, H, W, 3]: one image per frame, in order.
  ModelMetadata post = kQwen;
  post.outputs[0] = tensor("image", "UINT8", {-1, -1, -1, -1, 3});
  const Latents video = latents({1, 16, 2, 1, 1});
  DecodeOptions options = with_type(OutputType::kUInt8);
  options.temporal_compression = 2;
  auto plan = plan_decode(post, only(post), video.view, options);
  ASSERT_THAT(plan, IsOk());
  const Bytes levels = test::pattern_bytes(3 * 8 * 8 * 3);
  auto out = parse_decode_reply(binary_reply({{"image", "UINT8", {1, 3, 8, 8, 3}, levels}}), *plan);
  ASSERT_THAT(out, IsOk());
  ASSERT_EQ(out->images.size(), 3u);
  for (std::size_t f = 0; f < 3; ++f) {
    EXPECT_EQ(out->images[f].pixels,
              Bytes(levels.begin() + static_cast<std::ptrdiff_t>(f * 192),
                    levels.begin() + static_cast<std::ptrdiff_t>((f + 1) * 192)));
  }
  // Qwen-Image: 4-D latents to the rank-5 model, one image per batch item.
  const Latents two = latents({2, 16, 1, 1});
  plan = plan_decode(kQwen, only(kQwen), two.view, with_type(OutputType::kUInt8));
  ASSERT_THAT(plan, IsOk());
  ASSERT_EQ(plan->infer.shape, (Shape{2, 3, 1, 8, 8}));
  const std::vector<float> pixels = pixel_values(2 * 3 * 64);
  out = parse_decode_reply(binary_reply({{"sample", "FP32", {2, 3, 1, 8, 8}, bytes_of(pixels)}}),
                           *plan);
  ASSERT_THAT(out, IsOk());
  ASSERT_EQ(out->images.size(), 2u);
  EXPECT_EQ(out->images[1].pixels[0], reference_level(pixels[3 * 64]));
  EXPECT_EQ(out->images[1].pixels[2], reference_level(pixels[5 * 64]));
}

TEST(OipDecodeReply, EncodedImageDecodes) {
  const Latents sd = latents({1, 4, 1, 2});
  const std::vector<float> pixels = pixel_values(3 * 8 * 16);
  for (ImageFormat format : {ImageFormat::kPng, ImageFormat::kJpeg}) {
    DecodeOptions options = with_type(OutputType::kImage);
    options.image_format = format;
    auto plan = plan_decode(kSdxl, only(kSdxl), sd.view, options);
    ASSERT_THAT(plan, IsOk());
    auto out = parse_decode_reply(
        binary_reply({{"sample", "FP32", {1, 3, 8, 16}, bytes_of(pixels)}}), *plan);
    ASSERT_THAT(out, IsOk());
    EXPECT_EQ(out->type, OutputType::kImage);
    ASSERT_EQ(out->images.size(), 1u);
    EXPECT_EQ(sniff_image_format(out->encoded.data(), out->encoded.size()), format);
    auto decoded = decode_image(out->encoded.data(), out->encoded.size());
    ASSERT_THAT(decoded, IsOk());
    EXPECT_EQ(decoded->width, 16);
    EXPECT_EQ(decoded->height, 8);
    if (format == ImageFormat::kPng) {
      // Lossless: the file holds exactly the quantised pixels.
      EXPECT_EQ(decoded->pixels, out->images[0].pixels);
      for (std::size_t i = 0; i < 128; ++i) {
        EXPECT_EQ(out->images[0].pixels[i * 3 + 1], reference_level(pixels[128 + i]));
      }
    }
  }
}

TEST(OipDecodeReply, ErrorsAndDisagreements) {
  const Latents sd = latents({1, 4, 1, 1});
  auto plan = plan_decode(kSdxl, only(kSdxl), sd.view, with_type(OutputType::kUInt8));
  ASSERT_THAT(plan, IsOk());
  auto out = parse_decode_reply(test::json_reply(R"({"error":"busy"})", 503), *plan);
  EXPECT_THAT(out, IsError(ErrorCode::kUnavailable));
  EXPECT_TRUE(out.error().retryable());
  EXPECT_THAT(
      parse_decode_reply(binary_reply({{"sample", "FP32", {1, 3, 16, 8}, Bytes(1536)}}), *plan),
      IsError(ErrorCode::kDataLoss, HasSubstr("expected [1,3,8,8]")));
  ReplyLimits limits;
  limits.max_pixels = 63;
  EXPECT_THAT(parse_decode_reply(binary_reply({{"sample", "FP32", {1, 3, 8, 8}, Bytes(768)}}),
                                 *plan, limits),
              IsError(ErrorCode::kResourceExhausted));
}

TEST(OipQuantise, EveryHalfAndManyFloatsAsTheReferenceEndpoint) {
  // Every FP16 value (NaN, Inf, subnormals, the half-level boundaries) through the FP16 path.
  std::vector<std::uint16_t> halves(65536 * 3);
  for (std::size_t i = 0; i < 65536; ++i) {
    halves[i] = static_cast<std::uint16_t>(i);
    halves[65536 + i] = static_cast<std::uint16_t>(65535 - i);
    halves[2 * 65536 + i] = static_cast<std::uint16_t>(i * 7);
  }
  Bytes rgb(65536 * 3);
  internal::planes_to_rgb8(DType::kFloat16, reinterpret_cast<const std::uint8_t*>(halves.data()),
                           65536, 65536, rgb.data());
  for (std::size_t i = 0; i < 65536; ++i) {
    for (std::size_t k = 0; k < 3; ++k) {
      ASSERT_EQ(rgb[i * 3 + k], reference_level(float16_to_float32(halves[k * 65536 + i])))
          << i << " " << k;
    }
  }
  // FP32: the exact half-level boundaries and their neighbours, then random values.
  std::vector<float> values;
  for (int level = 0; level <= 256; ++level) {
    const float boundary = static_cast<float>((level - 0.5) / 127.5 - 1.0);
    values.push_back(boundary);
    values.push_back(std::nextafter(boundary, 2.0f));
    values.push_back(std::nextafter(boundary, -2.0f));
  }
  for (float v : {0.0f, -0.0f, 1.0f, -1.0f, 1e-30f, -1e-30f, 1e30f, -1e30f, NAN, INFINITY,
                  -INFINITY, -0.9980392f, -0.99607843f}) {
    values.push_back(v);
  }
  std::mt19937 rng(20);
  std::uniform_real_distribution<float> dist(-1.5f, 1.5f);
  while (values.size() % 3 != 0 || values.size() < 300000)
    values.push_back(dist(rng));
  const std::size_t n = values.size() / 3;
  Bytes out(n * 3);
  internal::planes_to_rgb8(DType::kFloat32, reinterpret_cast<const std::uint8_t*>(values.data()), n,
                           n, out.data());
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < 3; ++k) {
      ASSERT_EQ(out[i * 3 + k], reference_level(values[k * n + i])) << values[k * n + i];
    }
  }
}

// ---- plan_encode and parse_encode_reply

const ModelMetadata kEncoder =
    vae_model(tensor("sample", "FP16", {-1, 3, -1, -1}),
              tensor("latent_sample", "FP32", {-1, 4, -1, -1}), "sdxl_encoder");

TEST(OipPlanEncode, ImageToFloatPixelsInTheModelsDatatype) {
  const Image image = test::pattern_image(16, 8);
  auto plan = plan_encode(kEncoder, only(kEncoder), image);
  ASSERT_THAT(plan, IsOk());
  ASSERT_NE(plan->pixels, nullptr);
  EXPECT_EQ(plan->pixels->shape(), (Shape{1, 3, 8, 16}));
  EXPECT_EQ(plan->pixels->dtype(), DType::kFloat16);
  EXPECT_EQ(request_parts(plan->http).tensor.data, plan->pixels->data());
  const auto header = header_of(plan->http);
  EXPECT_EQ(header["inputs"][0]["name"], "sample");
  EXPECT_EQ(header["inputs"][0]["datatype"], "FP16");
  EXPECT_EQ(header["inputs"][0]["shape"], nlohmann::json::array({1, 3, 8, 16}));
  EXPECT_EQ(header["outputs"][0]["name"], "latent_sample");
  const auto* halves = plan->pixels->data_as<std::uint16_t>();
  for (std::size_t i = 0; i < 128; ++i) {
    for (std::size_t k = 0; k < 3; ++k) {
      const double x = image.pixels[i * 3 + k] / 127.5 - 1.0;
      ASSERT_EQ(halves[k * 128 + i], float32_to_float16(static_cast<float>(x)));
    }
  }
  EXPECT_EQ(plan->infer.output_name, "latent_sample");
  EXPECT_EQ(plan->infer.dtype, DType::kFloat32);
  EXPECT_EQ(plan->infer.shape, (Shape{1, 4, 1, 2}));

  // Alpha is dropped: the same request bytes as the RGB image.
  const Image rgba = test::pattern_image(16, 8, 4);
  const Image rgb = to_rgb(rgba);
  auto with_alpha = plan_encode(kEncoder, only(kEncoder), rgba);
  auto without = plan_encode(kEncoder, only(kEncoder), rgb);
  ASSERT_THAT(with_alpha, IsOk());
  ASSERT_THAT(without, IsOk());
  EXPECT_EQ(std::memcmp(with_alpha->pixels->data(), without->pixels->data(),
                        without->pixels->size_bytes()),
            0);
}

TEST(OipPlanEncode, RankFiveModelsAndOpenChannels) {
  const ModelMetadata wan = vae_model(tensor("sample", "BF16", {-1, 3, -1, -1, -1}),
                                      tensor("latent_sample", "BF16", {-1, -1, -1, -1, -1}), "wan");
  auto plan = plan_encode(wan, only(wan), test::pattern_image(8, 16));
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(header_of(plan->http)["inputs"][0]["shape"], nlohmann::json::array({1, 3, 1, 16, 8}));
  EXPECT_EQ(plan->infer.shape, (Shape{1, -1, 1, 2, 1}));
  EXPECT_EQ(plan->infer.dtype, DType::kBFloat16);
  // The reply's channel count is open; the rest is checked.
  std::vector<std::uint16_t> latent(16 * 2, 0x3F80);
  auto out = parse_encode_reply(
      binary_reply({{"latent_sample", "BF16", {1, 16, 1, 2, 1}, bytes_of(latent)}}), *plan);
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(out->shape(), (Shape{1, 16, 1, 2, 1}));
  EXPECT_THAT(parse_encode_reply(
                  binary_reply({{"latent_sample", "BF16", {1, 16, 2, 2, 1}, Bytes(128)}}), *plan),
              IsError(ErrorCode::kDataLoss, HasSubstr("expected [1,-1,1,2,1]")));
}

TEST(OipPlanEncode, PixelTensors) {
  const Latents px = latents({2, 3, 8, 16});
  auto plan = plan_encode(kEncoder, only(kEncoder), px.view);
  ASSERT_THAT(plan, IsOk());
  ASSERT_NE(plan->pixels, nullptr);
  EXPECT_EQ(plan->pixels->dtype(), DType::kFloat16);
  EXPECT_EQ(plan->infer.shape, (Shape{2, 4, 1, 2}));
  ModelMetadata fp32 = kEncoder;
  fp32.inputs[0].datatype = "FP32";
  plan = plan_encode(fp32, only(fp32), px.view);
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->pixels, nullptr);  // Borrowed from the caller.
  EXPECT_EQ(request_parts(plan->http).tensor.data,
            reinterpret_cast<const std::uint8_t*>(px.values.data()));
  auto reply = parse_encode_reply(
      binary_reply({{"latent_sample", "FP32", {2, 4, 1, 2}, Bytes(64, 0)}}), *plan);
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->shape(), (Shape{2, 4, 1, 2}));
}

TEST(OipPlanEncode, Refusals) {
  EXPECT_THAT(plan_encode(kEncoder, only(kEncoder), test::pattern_image(12, 8)),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("multiple of 8")));
  EXPECT_THAT(plan_encode(kEncoder, only(kEncoder), ImageView{}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("image")));
  const Latents wrong = latents({1, 4, 8, 8});
  EXPECT_THAT(plan_encode(kEncoder, only(kEncoder), wrong.view),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("[B, 3, H, W]")));
  const Latents odd = latents({1, 3, 8, 12});
  EXPECT_THAT(plan_encode(kEncoder, only(kEncoder), odd.view),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("multiple of 8")));
  std::vector<std::uint8_t> levels(3 * 64);
  EXPECT_THAT(plan_encode(kEncoder, only(kEncoder),
                          TensorView{levels.data(), levels.size(), {1, 3, 8, 8}, DType::kUInt8}),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("encode an image")));
  const ModelMetadata ints = vae_model(tensor("sample", "UINT8", {-1, 3, -1, -1}),
                                       tensor("latent_sample", "FP32", {-1, 4, -1, -1}));
  EXPECT_THAT(plan_encode(ints, only(ints), test::pattern_image(8, 8)),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("'UINT8'")));
  const ModelMetadata int_out = vae_model(tensor("sample", "FP32", {-1, 3, -1, -1}),
                                          tensor("latent_sample", "INT64", {-1, 4, -1, -1}));
  EXPECT_THAT(plan_encode(int_out, only(int_out), test::pattern_image(8, 8)),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("'INT64'")));
  const ModelMetadata fixed = vae_model(tensor("sample", "FP32", {1, 3, 512, 512}),
                                        tensor("latent_sample", "FP32", {1, 4, 64, 64}));
  EXPECT_THAT(plan_encode(fixed, only(fixed), test::pattern_image(8, 8)),
              IsError(ErrorCode::kInvalidArgument,
                      AllOf(HasSubstr("takes [1,3,512,512]"), HasSubstr("[1,3,8,8]"))));
  EXPECT_THAT(plan_encode(kEncoder, TensorChoice{}, test::pattern_image(8, 8)),
              IsError(ErrorCode::kInternal));
}

}  // namespace
}  // namespace rvae::protocol::oip
