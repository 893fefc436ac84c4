// Per-channel latent statistics over the Hugging Face protocol (PROTOCOL.md §9): the options'
// checks, a decode that sends de-normalised raw latents without scaling parameters, and an
// encode whose raw reply the client normalises. Expected values from §9's formulas, here.
#include "protocol/latent_normalization.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol/protocol.hpp"
#include "protocol_test_util.hpp"

namespace rvae::protocol {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::IsError;

// PROTOCOL.md §9, Wan 2.1 / Qwen-Image.
const std::vector<double> kMean = {-0.7571, -0.7089, -0.9113, 0.1075,  -0.1745, 0.9653,
                                   -0.1517, 1.5508,  0.4134,  -0.0715, 0.5517,  -0.3632,
                                   -0.1922, -0.9497, 0.2503,  -0.2921};
const std::vector<double> kStd = {2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
                                  3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160};

DecodeOptions per_channel_decode() {
  DecodeOptions options;
  options.output_type = OutputType::kUInt8;
  options.latents_mean = kMean;
  options.latents_std = kStd;
  return options;
}

EncodeOptions per_channel_encode() {
  EncodeOptions options;
  options.latents_mean = kMean;
  options.latents_std = kStd;
  return options;
}

std::vector<float> ramp(std::size_t n) {
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i)
    x[i] = static_cast<float>(static_cast<int>(i % 41) - 20) * 0.1f;
  return x;
}

TensorView view_of(const std::vector<float>& values, Shape shape) {
  return TensorView{values.data(), values.size() * sizeof(float), std::move(shape),
                    DType::kFloat32};
}

std::vector<float> body_floats(const http::HttpRequest& request) {
  const http::BodyPiece piece = test::only_piece(request);
  std::vector<float> out(piece.size / sizeof(float));
  if (piece.data != nullptr) std::memcpy(out.data(), piece.data, out.size() * sizeof(float));
  return out;
}

std::vector<float> floats_of(const Tensor& tensor) {
  return std::vector<float>(tensor.data_as<float>(), tensor.data_as<float>() + tensor.numel());
}

// ---- normalization_of ----

TEST(NormalizationOf, NoneWhenTheOptionsNameNone) {
  auto decode = normalization_of(DecodeOptions{});
  ASSERT_TRUE(decode);
  EXPECT_FALSE(decode->has_value());
  DecodeOptions legacy;
  legacy.do_scaling = true;  // the server's business
  EXPECT_FALSE(normalization_of(legacy)->has_value());
  EXPECT_FALSE(normalization_of(EncodeOptions{})->has_value());
}

TEST(NormalizationOf, ScalarFactorsGiveTheScalarForm) {
  DecodeOptions options;
  options.scaling_factor = 0.3611;
  options.shift_factor = 0.1159;
  auto norm = normalization_of(options).value();
  ASSERT_TRUE(norm);
  EXPECT_EQ(norm->scaling_factor, 0.3611);
  EXPECT_EQ(norm->shift_factor, 0.1159);
  EXPECT_TRUE(norm->mean.empty());
  EncodeOptions shift_only;
  shift_only.shift_factor = 0.5;
  auto encode = normalization_of(shift_only).value();
  ASSERT_TRUE(encode);
  EXPECT_EQ(encode->scaling_factor, 1.0);
  EXPECT_EQ(encode->shift_factor, 0.5);
}

TEST(NormalizationOf, StatisticsGiveThePerChannelForm) {
  auto norm = normalization_of(per_channel_decode()).value();
  ASSERT_TRUE(norm);
  EXPECT_TRUE(is_per_channel(norm));
  EXPECT_EQ(norm->scaling_factor, 1.0);
  EXPECT_EQ(norm->shift_factor, 0.0);
  EXPECT_EQ(norm->mean, kMean);
  EXPECT_EQ(norm->std, kStd);
  EncodeOptions scaled = per_channel_encode();
  scaled.scaling_factor = 2.0;
  EXPECT_EQ(normalization_of(scaled).value()->scaling_factor, 2.0);
}

TEST(NormalizationOf, RefusesInconsistentSets) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto refuse = [](const DecodeOptions& options, const char* why) {
    EXPECT_THAT(normalization_of(options), IsError(ErrorCode::kInvalidArgument, HasSubstr(why)))
        << why;
  };
  DecodeOptions sizes = per_channel_decode();
  sizes.latents_std.pop_back();
  refuse(sizes, "16 means and 15 stds");
  DecodeOptions only_mean = per_channel_decode();
  only_mean.latents_std.clear();
  refuse(only_mean, "16 means and 0 stds");
  DecodeOptions only_std = per_channel_decode();
  only_std.latents_mean.clear();
  refuse(only_std, "0 means and 16 stds");
  DecodeOptions shift = per_channel_decode();
  shift.shift_factor = 0.0;
  refuse(shift, "shift_factor cannot be combined");
  DecodeOptions do_scaling = per_channel_decode();
  do_scaling.do_scaling = true;
  refuse(do_scaling, "do_scaling cannot be combined");
  DecodeOptions zero_scaling = per_channel_decode();
  zero_scaling.scaling_factor = 0.0;
  refuse(zero_scaling, "scaling_factor must be finite and nonzero");
  DecodeOptions inf_shift;
  inf_shift.shift_factor = inf;
  refuse(inf_shift, "shift_factor must be finite");
  DecodeOptions nan_mean = per_channel_decode();
  nan_mean.latents_mean[3] = nan;
  refuse(nan_mean, "latents_mean[3] must be finite");
  for (double bad : {0.0, -1.0, inf, nan}) {
    DecodeOptions std_bad = per_channel_decode();
    std_bad.latents_std[15] = bad;
    refuse(std_bad, "latents_std[15] must be finite and positive");
  }
  EncodeOptions encode_shift = per_channel_encode();
  encode_shift.shift_factor = 0.1;
  EXPECT_THAT(normalization_of(encode_shift),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("shift_factor cannot be combined")));
  EncodeOptions encode_sizes = per_channel_encode();
  encode_sizes.latents_mean.resize(4);
  EXPECT_THAT(normalization_of(encode_sizes),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("4 means and 16 stds")));
}

// ---- decode ----

TEST(PerChannelDecodeRequest, SendsDenormalisedVideoLatentsWithoutScalingParameters) {
  const Shape shape{1, 16, 2, 3, 4};  // Wan 2.1: [B, 16, T, h, w]
  const std::size_t inner = 2 * 3 * 4;
  const std::vector<float> z = ramp(16 * inner);
  DecodeOptions options = per_channel_decode();
  options.temporal_compression = 4;
  auto request = build_decode_request(view_of(z, shape), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->query,
            "image_format=jpg&output_type=pt&partial_postprocess=True&shape=1&shape=16&shape=2&"
            "shape=3&shape=4&dtype=float32");
  const std::vector<float> raw = body_floats(request->http);
  ASSERT_EQ(raw.size(), z.size());
  for (std::size_t i = 0; i < z.size(); ++i) {
    const std::size_t c = i / inner;
    const double expected = static_cast<double>(z[i]) * kStd[c] + kMean[c];
    ASSERT_NEAR(raw[i], expected, 1e-5) << i;
  }
  EXPECT_EQ(request->expect.frames, 5);
  EXPECT_EQ(request->expect.height, 24);
  EXPECT_EQ(request->expect.width, 32);
}

TEST(PerChannelDecodeRequest, UnpacksPackedLatentsThenSendsThem4D) {
  // Qwen-Image: 32x48 pixels, packed [1, (32/16)*(48/16), 64] -> [1, 16, 4, 6].
  const std::int64_t height = 32, width = 48;
  const std::size_t h2 = 2, w2 = 3, channels = 16;
  const std::vector<float> packed = ramp(h2 * w2 * channels * 4);
  DecodeOptions options = per_channel_decode();
  options.output_type = OutputType::kImage;
  options.height = static_cast<int>(height);
  options.width = static_cast<int>(width);
  options.scaling_factor = 0.5;  // §9's s: raw = z * std / s + mean
  auto request = build_decode_request(view_of(packed, {1, 6, 64}), options);
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_EQ(request->query,
            "image_format=jpg&output_type=pil&partial_postprocess=False&shape=1&shape=16&shape=4&"
            "shape=6&dtype=float32&height=32&width=48");
  const std::vector<float> raw = body_floats(request->http);
  ASSERT_EQ(raw.size(), packed.size());
  // PROTOCOL.md §3's unpack: view [B, H/16, W/16, C, 2, 2], permute to [B, C, H/16, 2, W/16, 2].
  for (std::size_t c = 0; c < channels; ++c) {
    for (std::size_t y = 0; y < 2 * h2; ++y) {
      for (std::size_t x = 0; x < 2 * w2; ++x) {
        const std::size_t token = (y / 2) * w2 + (x / 2);
        const float zv = packed[token * 64 + c * 4 + (y % 2) * 2 + (x % 2)];
        const double expected = static_cast<double>(zv) * kStd[c] / 0.5 + kMean[c];
        ASSERT_NEAR(raw[(c * 2 * h2 + y) * 2 * w2 + x], expected, 1e-5) << c << " " << y << x;
      }
    }
  }
  EXPECT_EQ(request->expect.height, 32);
  EXPECT_EQ(request->expect.width, 48);
}

TEST(PerChannelDecodeRequest, KeepsTheLatentsDtypeAndOwnsTheBody) {
  const std::vector<std::uint16_t> bf(16 * 2 * 2, 0x3f80);  // bfloat16 1.0
  const TensorView z{bf.data(), bf.size() * 2, {1, 16, 2, 2}, DType::kBFloat16};
  auto request = build_decode_request(z, per_channel_decode());
  ASSERT_TRUE(request) << request.error().what();
  EXPECT_THAT(request->query, HasSubstr("dtype=bfloat16"));
  EXPECT_THAT(request->query, Not(HasSubstr("scaling")));
  const http::BodyPiece piece = test::only_piece(request->http);
  ASSERT_EQ(piece.size, bf.size() * 2);
  EXPECT_NE(piece.data, reinterpret_cast<const std::uint8_t*>(bf.data()));
  std::uint16_t first = 0;
  std::memcpy(&first, piece.data, 2);
  // 1.0 * 2.8184 - 0.7571 = 2.0613, rounded to bfloat16 (8 bits of mantissa): 2.0625 = 0x4004.
  EXPECT_EQ(first, 0x4004);
}

TEST(PerChannelDecodeRequest, ScalarFactorsStillGoToTheServer) {
  const std::vector<float> z = ramp(4 * 2 * 2);
  DecodeOptions options;
  options.output_type = OutputType::kUInt8;
  options.scaling_factor = 0.18215;
  auto request = build_decode_request(view_of(z, {1, 4, 2, 2}), options);
  ASSERT_TRUE(request);
  EXPECT_THAT(request->query, HasSubstr("scaling_factor=0.18215"));
  EXPECT_EQ(test::only_piece(request->http).data, reinterpret_cast<const std::uint8_t*>(z.data()));
}

TEST(PerChannelDecodeRequest, Refusals) {
  const std::vector<float> z = ramp(4 * 2 * 2);
  EXPECT_THAT(build_decode_request(view_of(z, {1, 4, 2, 2}), per_channel_decode()),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("4 channels but the statistics")));
  DecodeOptions do_scaling = per_channel_decode();
  do_scaling.do_scaling = true;
  const std::vector<float> z16 = ramp(16 * 2 * 2);
  EXPECT_THAT(build_decode_request(view_of(z16, {1, 16, 2, 2}), do_scaling),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("do_scaling cannot be combined")));
  // Packed latents whose 4C is not 4 x 16.
  const std::vector<float> packed = ramp(1 * 1 * 16);
  DecodeOptions sized = per_channel_decode();
  sized.height = 16;
  sized.width = 16;
  EXPECT_THAT(build_decode_request(view_of(packed, {1, 1, 16}), sized),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("4 channels but the statistics")));
}

// ---- encode ----

TEST(PerChannelEncodeRequest, SendsNoFactorsAndExpectsToNormalise) {
  EncodeOptions options = per_channel_encode();
  options.scaling_factor = 1.0;
  auto image = build_encode_request(test::pattern_image(16, 8), options);
  ASSERT_TRUE(image) << image.error().what();
  EXPECT_EQ(image->query, "");
  ASSERT_TRUE(image->expect.normalization);
  EXPECT_EQ(image->expect.normalization->mean, kMean);

  const std::vector<float> pixels = ramp(3 * 8 * 8);
  auto tensor = build_encode_request(view_of(pixels, {1, 3, 8, 8}), options);
  ASSERT_TRUE(tensor) << tensor.error().what();
  EXPECT_EQ(tensor->query, "shape=1&shape=3&shape=8&shape=8&dtype=float32");
  ASSERT_TRUE(tensor->expect.normalization);

  EncodeOptions scalar;
  scalar.scaling_factor = 0.18215;
  auto plain = build_encode_request(test::pattern_image(8, 8), scalar);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->query, "scaling_factor=0.18215");
  EXPECT_FALSE(plain->expect.normalization);

  EncodeOptions bad = per_channel_encode();
  bad.shift_factor = 0.1;
  EXPECT_THAT(build_encode_request(test::pattern_image(8, 8), bad),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("shift_factor cannot be combined")));
  EXPECT_THAT(build_encode_request(view_of(pixels, {1, 3, 8, 8}), bad),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("shift_factor cannot be combined")));
}

TEST(PerChannelEncodeReply, RawReplyIsNormalisedToFloat32) {
  EncodeExpectation expect;
  expect.batch = 1;
  expect.latent_height = 2;
  expect.latent_width = 3;
  LatentNormalization norm;
  norm.mean = kMean;
  norm.std = kStd;
  norm.scaling_factor = 2.0;
  expect.normalization = norm;
  // bfloat16 raw values: 1.0 everywhere.
  Bytes body(16 * 2 * 3 * 2);
  for (std::size_t i = 0; i < body.size(); i += 2) {
    body[i] = 0x80;
    body[i + 1] = 0x3f;
  }
  auto latents =
      parse_encode_reply(test::tensor_response("[1,16,2,3]", "bfloat16", std::move(body)), expect);
  ASSERT_TRUE(latents) << latents.error().what();
  EXPECT_EQ(latents->dtype(), DType::kFloat32);
  EXPECT_EQ(latents->shape(), (Shape{1, 16, 2, 3}));
  const std::vector<float> z = floats_of(*latents);
  for (std::size_t i = 0; i < z.size(); ++i) {
    const std::size_t c = i / 6;
    ASSERT_NEAR(z[i], (1.0 - kMean[c]) * 2.0 / kStd[c], 1e-5) << i;
  }
}

TEST(PerChannelEncodeReply, AChannelCountOtherThanTheStatisticsIsDataLoss) {
  EncodeExpectation expect;
  expect.latent_height = 1;
  expect.latent_width = 1;
  LatentNormalization norm;
  norm.mean = kMean;
  norm.std = kStd;
  expect.normalization = norm;
  auto latents = parse_encode_reply(
      test::tensor_response("[1,4,1,1]", "float32", test::pattern_bytes(16)), expect);
  EXPECT_THAT(latents, IsError(ErrorCode::kDataLoss,
                               HasSubstr("4 channels but the latent statistics have 16")));
}

}  // namespace
}  // namespace rvae::protocol
