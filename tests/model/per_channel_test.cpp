// The per-channel models (PROTOCOL.md §9): built-in presets and their options, preview factors
// and previews, and per-channel statistics in preset JSON. Expected values from
// support/published_per_channel.hpp (typed in from the document) and §9's formulas, here.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rvae/presets.hpp"
#include "rvae/preview.hpp"
#include "support/published_models.hpp"
#include "support/published_per_channel.hpp"

namespace rvae {
namespace {

using published::PublishedPerChannelModel;
using ::testing::HasSubstr;

TEST(PerChannelPresets, BuiltinsAreThePublishedModels) {
  const PresetRegistry registry = PresetRegistry::builtin();
  for (const PublishedPerChannelModel& model : published::published_per_channel_models()) {
    SCOPED_TRACE(model.name);
    const ModelPreset* preset = registry.find(model.name);
    ASSERT_NE(preset, nullptr);
    EXPECT_THAT(preset->model_id, HasSubstr(model.model_id));
    EXPECT_TRUE(preset->decode_endpoint.empty());
    EXPECT_TRUE(preset->encode_endpoint.empty());
    EXPECT_EQ(preset->latent_channels, 16);
    EXPECT_TRUE(preset->per_channel());
    EXPECT_EQ(preset->latents_mean, published::per_channel_mean());
    EXPECT_EQ(preset->latents_std, published::per_channel_std());
    EXPECT_EQ(preset->scaling_factor, 1.0);
    EXPECT_FALSE(preset->shift_factor.has_value());
    EXPECT_EQ(preset->dtype, model.dtype);
    EXPECT_EQ(preset->spatial_compression, published::kSpatialCompression);
    EXPECT_EQ(preset->temporal_compression, model.temporal_compression);
    EXPECT_EQ(preset->packed_latents, model.packed_latents);
  }
}

TEST(PerChannelPresets, OptionsCarryTheStatisticsAndNoScalarFactor) {
  const PresetRegistry registry = PresetRegistry::builtin();
  for (const PublishedPerChannelModel& model : published::published_per_channel_models()) {
    SCOPED_TRACE(model.name);
    const ModelPreset* preset = registry.find(model.name);
    ASSERT_NE(preset, nullptr);
    const DecodeOptions decode = preset->decode_options();
    EXPECT_EQ(decode.latents_mean, published::per_channel_mean());
    EXPECT_EQ(decode.latents_std, published::per_channel_std());
    EXPECT_FALSE(decode.scaling_factor.has_value());
    EXPECT_FALSE(decode.shift_factor.has_value());
    EXPECT_FALSE(decode.do_scaling);
    if (model.temporal_compression > 1) {
      EXPECT_EQ(decode.temporal_compression, model.temporal_compression);
    }
    const EncodeOptions encode = preset->encode_options();
    EXPECT_EQ(encode.latents_mean, published::per_channel_mean());
    EXPECT_EQ(encode.latents_std, published::per_channel_std());
    EXPECT_FALSE(encode.scaling_factor.has_value());
    EXPECT_FALSE(encode.shift_factor.has_value());
  }
  // A per-channel preset with s != 1 sends it beside the statistics.
  ModelPreset scaled = *registry.find("wan2.1");
  scaled.scaling_factor = 0.5;
  EXPECT_EQ(scaled.decode_options().scaling_factor, 0.5);
  EXPECT_EQ(scaled.encode_options().scaling_factor, 0.5);
}

TEST(PerChannelPreview, FactorsAreThePublishedTable) {
  for (const PublishedPerChannelModel& model : published::published_per_channel_models()) {
    SCOPED_TRACE(model.name);
    const std::optional<LatentRgbFactors> factors = latent_rgb_factors(model.name);
    ASSERT_TRUE(factors.has_value());
    EXPECT_EQ(factors->channels, 16);
    EXPECT_EQ(factors->weights, published::per_channel_f());
    for (std::size_t k = 0; k < 3; ++k)
      EXPECT_EQ(factors->bias[k], published::kPerChannelB[k]) << k;
  }
}

// §9's map on one normalised latent pixel x (16 values): clamp(F^T x + b, -1, 1), then the
// stand-in's uint8 levels round((v + 1) * 127.5).
std::array<std::uint8_t, 3> expected_pixel(const std::vector<float>& x) {
  std::array<std::uint8_t, 3> out{};
  for (std::size_t k = 0; k < 3; ++k) {
    double v = published::kPerChannelB[k];
    for (std::size_t c = 0; c < 16; ++c)
      v += published::per_channel_f()[c * 3 + k] * static_cast<double>(x[c]);
    v = std::clamp(v, -1.0, 1.0);
    out[k] = static_cast<std::uint8_t>(std::round((v + 1.0) * 127.5));
  }
  return out;
}

float value_at(std::size_t i) {
  return static_cast<float>(static_cast<int>((i * 7) % 23) - 11) * 0.15f;
}

TEST(PerChannelPreview, WanVideoLatentFrame) {
  // [1, 16, T=3, h=2, w=3], latent frame 2.
  const std::size_t t = 3, h = 2, w = 3;
  std::vector<float> z(16 * t * h * w);
  for (std::size_t i = 0; i < z.size(); ++i)
    z[i] = value_at(i);
  const TensorView view{z.data(), z.size() * 4, {1, 16, 3, 2, 3}, DType::kFloat32};
  PreviewOptions options;
  options.upscale = 1;
  options.frame = 2;
  auto image = preview_latents(view, *latent_rgb_factors("wan2.1"), options);
  ASSERT_TRUE(image) << image.error().what();
  ASSERT_EQ(image->width, 3);
  ASSERT_EQ(image->height, 2);
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t x = 0; x < w; ++x) {
      std::vector<float> pixel(16);
      for (std::size_t c = 0; c < 16; ++c)
        pixel[c] = z[((c * t + 2) * h + y) * w + x];
      const auto want = expected_pixel(pixel);
      for (std::size_t k = 0; k < 3; ++k)
        EXPECT_EQ(image->pixels[(y * w + x) * 3 + k], want[k]) << y << " " << x << " " << k;
    }
  }
}

TEST(PerChannelPreview, PackedQwenImageLatents) {
  // 32x32 pixels: packed [1, (32/16)^2 = 4, 64] -> [1, 16, 4, 4].
  std::vector<float> packed(4 * 64);
  for (std::size_t i = 0; i < packed.size(); ++i)
    packed[i] = value_at(i);
  const TensorView view{packed.data(), packed.size() * 4, {1, 4, 64}, DType::kFloat32};
  PreviewOptions options;
  options.upscale = 1;
  options.height = 32;
  options.width = 32;
  auto image = preview_latents(view, *latent_rgb_factors("qwen-image"), options);
  ASSERT_TRUE(image) << image.error().what();
  ASSERT_EQ(image->width, 4);
  ASSERT_EQ(image->height, 4);
  for (std::size_t y = 0; y < 4; ++y) {
    for (std::size_t x = 0; x < 4; ++x) {
      // PROTOCOL.md §3's unpack: token (y/2, x/2), element c*4 + (y%2)*2 + x%2.
      std::vector<float> pixel(16);
      for (std::size_t c = 0; c < 16; ++c)
        pixel[c] = packed[((y / 2) * 2 + x / 2) * 64 + c * 4 + (y % 2) * 2 + (x % 2)];
      const auto want = expected_pixel(pixel);
      for (std::size_t k = 0; k < 3; ++k)
        EXPECT_EQ(image->pixels[(y * 4 + x) * 3 + k], want[k]) << y << " " << x << " " << k;
    }
  }
}

// ---- preset JSON ----

std::string array_of(std::size_t n, const char* value) {
  std::string out = "[";
  for (std::size_t i = 0; i < n; ++i)
    out += (i ? ", " : "") + std::string(value);
  return out + "]";
}

TEST(PerChannelPresetJson, ANewPresetMayGiveStatisticsInsteadOfAScalingFactor) {
  PresetRegistry registry;
  ASSERT_TRUE(registry.merge_json(R"({"tiny": {"latent_channels": 2, "latents_mean": [0.5, -1],
                                               "latents_std": [2, 0.25]}})"));
  const ModelPreset* tiny = registry.find("tiny");
  ASSERT_NE(tiny, nullptr);
  EXPECT_TRUE(tiny->per_channel());
  EXPECT_EQ(tiny->latents_mean, (std::vector<double>{0.5, -1.0}));
  EXPECT_EQ(tiny->latents_std, (std::vector<double>{2.0, 0.25}));
  EXPECT_EQ(tiny->scaling_factor, 1.0);
}

TEST(PerChannelPresetJson, NullStatisticsSwitchBackToScalar) {
  PresetRegistry registry = PresetRegistry::builtin();
  ASSERT_TRUE(registry.merge_json(
      R"({"wan2.1": {"latents_mean": null, "latents_std": null, "scaling_factor": 0.5}})"));
  const ModelPreset* wan = registry.find("wan2.1");
  EXPECT_FALSE(wan->per_channel());
  EXPECT_TRUE(wan->latents_std.empty());
  EXPECT_EQ(wan->decode_options().scaling_factor, 0.5);
  EXPECT_TRUE(wan->decode_options().latents_mean.empty());
}

TEST(PerChannelPresetJson, AScalarPresetWithAShiftSwitchesWhenTheShiftGoes) {
  PresetRegistry registry = PresetRegistry::builtin();
  const std::string stats =
      "\"latents_mean\": " + array_of(16, "0") + ", \"latents_std\": " + array_of(16, "1");
  auto kept_shift = registry.merge_json("{\"flux\": {" + stats + "}}");
  ASSERT_FALSE(kept_shift);
  EXPECT_THAT(kept_shift.error().message(), HasSubstr("'shift_factor' cannot be combined"));
  EXPECT_FALSE(registry.find("flux")->per_channel());
  ASSERT_TRUE(registry.merge_json("{\"flux\": {" + stats + ", \"shift_factor\": null}}"));
  EXPECT_TRUE(registry.find("flux")->per_channel());
  EXPECT_FALSE(registry.find("flux")->decode_options().shift_factor.has_value());
}

TEST(PerChannelPresetJson, ErrorsNameTheProblem) {
  struct Case {
    std::string json;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {R"({"wan2.1": {"latents_mean": null}})",
       "'latents_mean' and 'latents_std' need 16 values each (latent_channels), got 0 and 16"},
      {R"({"wan2.1": {"latents_std": [1, 2]}})",
       "need 16 values each (latent_channels), got 16 and 2"},
      {R"({"wan2.1": {"latent_channels": 4}})", "need 4 values each"},
      {R"({"wan2.1": {"shift_factor": 0.1}})", "'shift_factor' cannot be combined"},
      {R"({"wan2.1": {"latents_mean": []}})", "'latents_mean' must be an array of numbers"},
      {R"({"wan2.1": {"latents_std": 2}})", "'latents_std' must be an array of numbers"},
      {R"({"wan2.1": {"latents_std": ["2"]}})", "must be an array of numbers, got \"2\""},
      {R"({"wan2.1": {"latents_mean": [[1]]}})", "must be an array of numbers, got [1]"},
      {R"({"wan2.1": {"latents_mean": [1e999]}})", "overflow"},  // Non-finite never parses.
      {"{\"wan2.1\": {\"latents_std\": " + array_of(16, "0") + "}}",
       "'latents_std' values must be positive, got 0"},
      {"{\"wan2.1\": {\"latents_std\": " + array_of(16, "-1") + "}}", "must be positive, got -1"},
      {R"({"new": {"latent_channels": 2, "latents_mean": [0, 0], "latents_std": [1]}})",
       "need 2 values each"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    PresetRegistry registry = PresetRegistry::builtin();
    auto result = registry.merge_json(c.json);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(result.error().message(), HasSubstr(c.fragment));
    EXPECT_EQ(registry.find("wan2.1")->latents_mean, published::per_channel_mean());
    EXPECT_EQ(registry.find("new"), nullptr);
  }
}

}  // namespace
}  // namespace rvae
