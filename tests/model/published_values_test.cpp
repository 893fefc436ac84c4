// The client's model knowledge against the values PROTOCOL.md publishes (typed in by hand in
// support/published_models.hpp, not copied from src/model): a wrong factor, URL or shape fact in
// the built-in presets or the preview table fails here, whatever the reference endpoint does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <optional>

#include "rvae/options.hpp"
#include "rvae/presets.hpp"
#include "rvae/preview.hpp"
#include "support/published_models.hpp"
#include "support/published_per_channel.hpp"

namespace rvae {
namespace {

using published::PublishedModel;
using ::testing::HasSubstr;

TEST(PublishedValues, BuiltinPresetsAreExactlyThePublishedModels) {
  const PresetRegistry registry = PresetRegistry::builtin();
  ASSERT_EQ(registry.all().size(), published::published_models().size() +
                                       published::published_per_channel_models().size());
  for (const PublishedModel& model : published::published_models()) {
    SCOPED_TRACE(model.name);
    const ModelPreset* preset = registry.find(model.name);
    ASSERT_NE(preset, nullptr);
    // §1 names some VAEs by full id and others by model name only.
    EXPECT_THAT(preset->model_id, HasSubstr(model.model_id));
    EXPECT_EQ(preset->decode_endpoint, model.decode_endpoint);
    EXPECT_EQ(preset->encode_endpoint, model.encode_endpoint);
    EXPECT_EQ(preset->latent_channels, model.latent_channels);
    // Exact: both sides are the same decimal literal, so the same double.
    EXPECT_EQ(preset->scaling_factor, model.scaling_factor);
    EXPECT_EQ(preset->shift_factor, model.shift_factor);
    EXPECT_EQ(preset->dtype, model.dtype);
    EXPECT_EQ(preset->spatial_compression, published::kSpatialCompression);
    EXPECT_EQ(preset->temporal_compression, model.temporal_compression);
    EXPECT_EQ(preset->is_video(), model.temporal_compression > 1);
    EXPECT_EQ(preset->packed_latents, model.packed_latents);
    EXPECT_EQ(preset->max_image_side, published::kMaxImageSide);
    EXPECT_FALSE(preset->per_channel());
  }
}

// What a request actually carries: the options built from a preset.
TEST(PublishedValues, PresetOptionsSendThePublishedFactors) {
  const PresetRegistry registry = PresetRegistry::builtin();
  for (const PublishedModel& model : published::published_models()) {
    SCOPED_TRACE(model.name);
    const ModelPreset* preset = registry.find(model.name);
    ASSERT_NE(preset, nullptr);
    const DecodeOptions decode = preset->decode_options();
    EXPECT_EQ(decode.scaling_factor, model.scaling_factor);
    EXPECT_EQ(decode.shift_factor, model.shift_factor);
    EXPECT_EQ(decode.tiling.max_image_side, published::kMaxImageSide);
    if (model.temporal_compression > 1) {
      EXPECT_EQ(decode.temporal_compression, model.temporal_compression);
    }
    if (model.encode_endpoint.empty()) continue;
    const EncodeOptions encode = preset->encode_options();
    EXPECT_EQ(encode.scaling_factor, model.scaling_factor);
    EXPECT_EQ(encode.shift_factor, model.shift_factor);
    EXPECT_EQ(encode.tiling.max_image_side, published::kMaxImageSide);
  }
}

TEST(PublishedValues, PreviewFactorsAreThePublishedTables) {
  for (const PublishedModel& model : published::published_models()) {
    SCOPED_TRACE(model.name);
    const std::optional<LatentRgbFactors> factors = latent_rgb_factors(model.name);
    ASSERT_TRUE(factors.has_value());
    EXPECT_EQ(factors->channels, model.latent_channels);
    ASSERT_EQ(factors->weights.size(), model.f.size());
    for (std::size_t i = 0; i < model.f.size(); ++i) {
      EXPECT_EQ(factors->weights[i], model.f[i]) << "F[" << i / 3 << "][" << i % 3 << "]";
    }
    for (std::size_t k = 0; k < 3; ++k)
      EXPECT_EQ(factors->bias[k], model.b[k]) << "b[" << k << "]";
  }
  EXPECT_FALSE(latent_rgb_factors("sd3").has_value());
}

}  // namespace
}  // namespace rvae
