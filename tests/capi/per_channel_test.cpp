// Per-channel models (PROTOCOL.md §9) in the C API: rvae_preset's normalisation fields, the
// refusal to describe such a model in a struct too old for them, and params naming such a model
// giving options with its statistics (the mapping the decode and encode calls use).
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "capi/capi.hpp"
#include "capi/capi_fixture.hpp"
#include "support/published_per_channel.hpp"

namespace {

using rvae_capi_test::expect_error;

// The first rvae.h's rvae_preset ended with packed_latents; the second with max_image_side.
constexpr std::size_t kFirstPreset = offsetof(rvae_preset, packed_latents) + sizeof(int);
constexpr std::size_t kSecondPreset = offsetof(rvae_preset, max_image_side) + sizeof(int);

std::vector<double> values_at(const double* p) {
  return p == nullptr ? std::vector<double>() : std::vector<double>(p, p + 16);
}

TEST(CapiPerChannel, PresetDescribesTheStatistics) {
  for (const char* name : {"wan2.1", "qwen-image"}) {
    SCOPED_TRACE(name);
    rvae_preset preset;
    preset.struct_size = sizeof preset;
    rvae_error* err = nullptr;
    ASSERT_EQ(rvae_preset_get(name, &preset, &err), RVAE_OK) << rvae_error_message(err);
    EXPECT_EQ(preset.normalization, RVAE_NORMALIZATION_PER_CHANNEL);
    EXPECT_EQ(preset.latent_channels, 16);
    EXPECT_EQ(values_at(preset.latents_mean), rvae::published::per_channel_mean());
    EXPECT_EQ(values_at(preset.latents_std), rvae::published::per_channel_std());
    EXPECT_EQ(preset.scaling_factor, 1.0);
    EXPECT_EQ(preset.has_shift_factor, 0);
    EXPECT_STREQ(preset.decode_endpoint, "");
    EXPECT_EQ(rvae_preset_decode_endpoint(name), nullptr);
  }
  rvae_preset sdxl;
  sdxl.struct_size = sizeof sdxl;
  ASSERT_EQ(rvae_preset_get("sdxl", &sdxl, nullptr), RVAE_OK);
  EXPECT_EQ(sdxl.normalization, RVAE_NORMALIZATION_SCALAR);
  EXPECT_EQ(sdxl.latents_mean, nullptr);
  EXPECT_EQ(sdxl.latents_std, nullptr);
}

// A program built before the per-channel fields would read scaling_factor 1 and scale wrongly:
// it gets an error, and nothing of its struct is written.
TEST(CapiPerChannel, OlderPresetStructIsRefusedForAPerChannelModel) {
  for (std::size_t size : {kFirstPreset, kSecondPreset}) {
    SCOPED_TRACE(size);
    rvae_preset preset;
    std::memset(&preset, 0xA5, sizeof preset);
    preset.struct_size = size;
    rvae_error* err = nullptr;
    expect_error(rvae_preset_get("wan2.1", &preset, &err), err, RVAE_ERR_INVALID_ARGUMENT,
                 "normalises latents per channel");
    const std::vector<unsigned char> rest(
        reinterpret_cast<unsigned char*>(&preset) + sizeof preset.struct_size,
        reinterpret_cast<unsigned char*>(&preset + 1));
    EXPECT_EQ(rest, std::vector<unsigned char>(sizeof preset - sizeof preset.struct_size, 0xA5));
    // Scalar models stay readable at that size.
    preset.struct_size = size;
    ASSERT_EQ(rvae_preset_get("flux", &preset, &err), RVAE_OK) << rvae_error_message(err);
    EXPECT_EQ(preset.scaling_factor, 0.3611);
  }
}

TEST(CapiPerChannel, ParamsInitLeavesTheScalarFactorsUnset) {
  rvae_decode_params decode;
  rvae_decode_params_init(&decode, "wan2.1");
  EXPECT_EQ(decode.has_scaling_factor, 0);
  EXPECT_EQ(decode.has_shift_factor, 0);
  EXPECT_EQ(decode.temporal_compression, 4);
  rvae_encode_params encode;
  rvae_encode_params_init(&encode, "qwen-image");
  EXPECT_EQ(encode.has_scaling_factor, 0);
  EXPECT_EQ(encode.has_shift_factor, 0);
}

TEST(CapiPerChannel, DecodeParamsNamingAPerChannelModelGiveItsStatistics) {
  rvae_decode_params params;
  rvae_decode_params_init(&params, "qwen-image");
  rvae::Result<rvae::DecodeOptions> options = rvae::capi::decode_options_of(params, "f");
  ASSERT_TRUE(options) << options.error().what();
  EXPECT_EQ(options->latents_mean, rvae::published::per_channel_mean());
  EXPECT_EQ(options->latents_std, rvae::published::per_channel_std());
  EXPECT_FALSE(options->scaling_factor.has_value());
  EXPECT_FALSE(options->shift_factor.has_value());

  // Explicit scalar factors are the caller's choice instead.
  params.has_scaling_factor = 1;
  params.scaling_factor = 0.5;
  options = rvae::capi::decode_options_of(params, "f");
  ASSERT_TRUE(options);
  EXPECT_TRUE(options->latents_mean.empty());
  EXPECT_EQ(options->scaling_factor, 0.5);

  // A scalar model gives no statistics.
  rvae_decode_params sd;
  rvae_decode_params_init(&sd, "sd15");
  options = rvae::capi::decode_options_of(sd, "f");
  ASSERT_TRUE(options);
  EXPECT_TRUE(options->latents_mean.empty());
  EXPECT_EQ(options->scaling_factor, 0.18215);
}

TEST(CapiPerChannel, EncodeParamsNamingAPerChannelModelGiveItsStatistics) {
  rvae_encode_params params;
  rvae_encode_params_init(&params, "wan2.1");
  rvae::Result<rvae::EncodeOptions> options = rvae::capi::encode_options_of(params, "f");
  ASSERT_TRUE(options) << options.error().what();
  EXPECT_EQ(options->latents_mean, rvae::published::per_channel_mean());
  EXPECT_EQ(options->latents_std, rvae::published::per_channel_std());
  EXPECT_FALSE(options->scaling_factor.has_value());
  params.has_shift_factor = 1;
  params.shift_factor = 0.1;
  options = rvae::capi::encode_options_of(params, "f");
  ASSERT_TRUE(options);
  EXPECT_TRUE(options->latents_std.empty());
  EXPECT_EQ(options->shift_factor, 0.1);
}

TEST(CapiPerChannel, UnknownModelIsAnError) {
  rvae_decode_params params;
  rvae_decode_params_init(&params, nullptr);
  params.model = "wan2.2";
  rvae::Result<rvae::DecodeOptions> options = rvae::capi::decode_options_of(params, "f");
  ASSERT_FALSE(options);
  EXPECT_NE(options.error().message().find("unknown model 'wan2.2'"), std::string::npos);
  EXPECT_NE(options.error().message().find("wan2.1"), std::string::npos);
}

// Without an endpoint a per-channel model has nowhere to go: the call says so.
TEST(CapiPerChannel, NoDefaultEndpoint) {
  rvae_client* client = rvae_client_new(nullptr, nullptr);
  ASSERT_NE(client, nullptr);
  const rvae_capi_test::Latents latents({1, 16, 1, 2, 2});
  const rvae_tensor_view view = latents.view();
  rvae_decode_params params;
  rvae_decode_params_init(&params, "wan2.1");
  params.output_type = RVAE_OUTPUT_UINT8;
  rvae_decode_result* result = nullptr;
  rvae_error* err = nullptr;
  expect_error(rvae_decode_full(client, nullptr, &view, &params, &result, &err), err,
               RVAE_ERR_INVALID_ARGUMENT, "model 'wan2.1' has no default decode endpoint");
  EXPECT_EQ(result, nullptr);
  rvae_client_free(client);
}

}  // namespace
