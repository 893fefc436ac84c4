// The client's model presets: the built-in table, options and JSON overrides.
#include "rvae/presets.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rvae/latent_file.hpp"
#include "support/temp_dir.hpp"

namespace rvae {
namespace {

using ::testing::HasSubstr;

// sd15, sdxl, flux, hunyuan-video, wan2.1, qwen-image.
constexpr std::size_t kBuiltins = 6;

// The built-in table against PROTOCOL.md §1: published_values_test.cpp.

TEST(ModelPreset, OptionsCarryTheFactors) {
  const PresetRegistry registry = PresetRegistry::builtin();
  const DecodeOptions flux = registry.find("flux")->decode_options();
  EXPECT_EQ(flux.scaling_factor, 0.3611);
  EXPECT_EQ(flux.shift_factor, 0.1159);
  const EncodeOptions flux_encode = registry.find("flux")->encode_options();
  EXPECT_EQ(flux_encode.scaling_factor, 0.3611);
  EXPECT_EQ(flux_encode.shift_factor, 0.1159);

  const DecodeOptions sdxl = registry.find("sdxl")->decode_options();
  EXPECT_EQ(sdxl.scaling_factor, 0.13025);
  EXPECT_FALSE(sdxl.shift_factor.has_value());
  EXPECT_FALSE(registry.find("sdxl")->encode_options().shift_factor.has_value());

  ModelPreset video;
  video.scaling_factor = 2.0;
  video.temporal_compression = 6;
  EXPECT_EQ(video.decode_options().temporal_compression, 6);
  EXPECT_EQ(video.decode_options().scaling_factor, 2.0);
}

TEST(PresetRegistry, FindAndUpsert) {
  PresetRegistry registry;
  EXPECT_TRUE(registry.all().empty());
  EXPECT_EQ(registry.find("sd15"), nullptr);

  ModelPreset a;
  a.name = "a";
  a.latent_channels = 8;
  registry.upsert(a);
  ASSERT_NE(registry.find("a"), nullptr);
  EXPECT_EQ(registry.find("a")->latent_channels, 8);

  a.latent_channels = 12;
  registry.upsert(a);
  EXPECT_EQ(registry.all().size(), 1u);
  EXPECT_EQ(registry.find("a")->latent_channels, 12);

  ModelPreset b;
  b.name = "b";
  registry.upsert(b);
  EXPECT_EQ(registry.all().size(), 2u);
  EXPECT_EQ(registry.find("A"), nullptr);  // Names are case-sensitive.
}

TEST(PresetRegistry, MergeOverridesOnlyTheGivenFields) {
  PresetRegistry registry = PresetRegistry::builtin();
  ASSERT_TRUE(registry.merge_json(R"({"sdxl": {"decode_endpoint": "http://127.0.0.1:8080/"}})"));
  const ModelPreset* sdxl = registry.find("sdxl");
  EXPECT_EQ(sdxl->decode_endpoint, "http://127.0.0.1:8080/");
  EXPECT_EQ(sdxl->encode_endpoint,
            "https://xjqqhmyn62rog84g.us-east-1.aws.endpoints.huggingface.cloud/");
  EXPECT_EQ(sdxl->scaling_factor, 0.13025);
  EXPECT_EQ(registry.all().size(), kBuiltins);
}

TEST(PresetRegistry, MergeSetsEveryField) {
  PresetRegistry registry = PresetRegistry::builtin();
  ASSERT_TRUE(registry.merge_json(R"({
    "flux": {"shift_factor": null, "packed_latents": false, "encode_endpoint": ""},
    "mine": {"model_id": "me/my-vae", "decode_endpoint": "https://d.example/",
             "encode_endpoint": "https://e.example/", "latent_channels": 32,
             "scaling_factor": -1.5, "shift_factor": 0.25, "dtype": "float32",
             "spatial_compression": 16, "temporal_compression": 8, "packed_latents": true}
  })"));
  const ModelPreset* flux = registry.find("flux");
  EXPECT_FALSE(flux->shift_factor.has_value());
  EXPECT_FALSE(flux->packed_latents);
  EXPECT_TRUE(flux->encode_endpoint.empty());
  EXPECT_EQ(flux->scaling_factor, 0.3611);

  const ModelPreset* mine = registry.find("mine");
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(mine->name, "mine");
  EXPECT_EQ(mine->model_id, "me/my-vae");
  EXPECT_EQ(mine->decode_endpoint, "https://d.example/");
  EXPECT_EQ(mine->encode_endpoint, "https://e.example/");
  EXPECT_EQ(mine->latent_channels, 32);
  EXPECT_EQ(mine->scaling_factor, -1.5);
  EXPECT_EQ(mine->shift_factor, 0.25);
  EXPECT_EQ(mine->dtype, DType::kFloat32);
  EXPECT_EQ(mine->spatial_compression, 16);
  EXPECT_EQ(mine->temporal_compression, 8);
  EXPECT_TRUE(mine->packed_latents);
  EXPECT_EQ(registry.all().size(), kBuiltins + 1);
}

// Temporal chunking's preset fields: HunyuanVideo's reply budget, Wan 2.1's stateful decoder,
// both reaching DecodeOptions::tiling and settable from JSON.
TEST(PresetRegistry, ChunkingFieldsReachTheDecodeOptions) {
  PresetRegistry registry = PresetRegistry::builtin();
  const ModelPreset* hunyuan = registry.find("hunyuan-video");
  EXPECT_EQ(hunyuan->reply_budget_bytes, std::uint64_t{1} << 30);
  EXPECT_FALSE(hunyuan->stateful_decoder);
  EXPECT_EQ(hunyuan->decode_options().tiling.reply_budget_bytes, std::uint64_t{1} << 30);
  EXPECT_TRUE(registry.find("wan2.1")->stateful_decoder);
  EXPECT_TRUE(registry.find("wan2.1")->decode_options().tiling.stateful_decoder);
  EXPECT_FALSE(registry.find("sdxl")->decode_options().tiling.stateful_decoder);
  ASSERT_TRUE(registry.merge_json(
      R"({"wan2.1": {"stateful_decoder": false, "reply_budget_bytes": 1000}})"));
  EXPECT_FALSE(registry.find("wan2.1")->decode_options().tiling.stateful_decoder);
  EXPECT_EQ(registry.find("wan2.1")->decode_options().tiling.reply_budget_bytes, 1000u);
  ASSERT_TRUE(registry.merge_json(R"({"wan2.1": {"reply_budget_bytes": 0}})"));
  EXPECT_EQ(registry.find("wan2.1")->reply_budget_bytes, 0u);
}

TEST(PresetRegistry, MergeAcceptsRangeLimits) {
  PresetRegistry registry;
  ASSERT_TRUE(registry.merge_json(R"({"lo": {"latent_channels": 1, "scaling_factor": 1e-300},
                                      "hi": {"latent_channels": 64, "scaling_factor": 1,
                                             "spatial_compression": 64,
                                             "temporal_compression": 64}})"));
  EXPECT_EQ(registry.find("lo")->latent_channels, 1);
  EXPECT_EQ(registry.find("hi")->latent_channels, 64);
  EXPECT_EQ(registry.find("hi")->temporal_compression, 64);
}

TEST(PresetRegistry, MergeIsAllOrNothing) {
  PresetRegistry registry = PresetRegistry::builtin();
  // "a" sorts before "sdxl", so the valid change is applied to the copy before the error.
  auto result = registry.merge_json(R"({"a": {"latent_channels": 4, "scaling_factor": 1},
                                        "sdxl": {"decode_endpoint": "https://new/",
                                                 "latent_channels": 0}})");
  ASSERT_FALSE(result);
  EXPECT_EQ(registry.all().size(), kBuiltins);
  EXPECT_EQ(registry.find("a"), nullptr);
  EXPECT_EQ(registry.find("sdxl")->decode_endpoint,
            "https://x2dmsqunjd6k9prw.us-east-1.aws.endpoints.huggingface.cloud/");
}

TEST(PresetRegistry, MergeErrorsNameTheProblem) {
  struct Case {
    std::string json;
    std::string fragment;
  };
  const Case cases[] = {
      {R"({"sdxl": )", "not valid JSON"},
      {"\xff", "not valid JSON"},
      {R"([1, 2])", "must be an object"},
      {R"({"sdxl": [1]})", "must be a JSON object"},
      {R"({"sdxl": {"decode_endpiont": "https://x/"}})", "unknown key 'decode_endpiont'"},
      {R"({"sdxl": {"model_id": 5}})", "'model_id' must be a string"},
      {R"({"sdxl": {"decode_endpoint": 5}})", "'decode_endpoint' must be a string"},
      {R"({"sdxl": {"decode_endpoint": "ftp://x/"}})", "must start with http:// or https://"},
      {R"({"sdxl": {"encode_endpoint": "x2dmsqunjd6k9prw.example"}})", "must start with http"},
      {R"({"sdxl": {"latent_channels": 0}})", "'latent_channels' must be in 1..64, got 0"},
      {R"({"sdxl": {"latent_channels": 65}})", "must be in 1..64, got 65"},
      {R"({"sdxl": {"latent_channels": -4}})", "must be in 1..64, got -4"},
      {R"({"sdxl": {"latent_channels": 18446744073709551615}})", "must be in 1..64"},
      {R"({"sdxl": {"latent_channels": 4.0}})", "'latent_channels' must be an integer"},
      {R"({"sdxl": {"latent_channels": "4"}})", "must be an integer"},
      {R"({"sdxl": {"spatial_compression": 0}})", "'spatial_compression' must be in 1..64"},
      {R"({"sdxl": {"temporal_compression": 65}})", "'temporal_compression' must be in 1..64"},
      {R"({"sdxl": {"scaling_factor": 0}})", "'scaling_factor' must not be 0"},
      {R"({"sdxl": {"scaling_factor": 0.0}})", "must not be 0"},
      {R"({"sdxl": {"scaling_factor": 1e999}})", "overflow"},  // Non-finite never parses.
      {R"({"sdxl": {"scaling_factor": "0.13"}})", "'scaling_factor' must be a number"},
      {R"({"sdxl": {"shift_factor": -1e999}})", "overflow"},
      {R"({"sdxl": {"shift_factor": true}})", "'shift_factor' must be a number"},
      {R"({"sdxl": {"dtype": "fp16"}})", "'fp16' is not one of"},
      {R"({"sdxl": {"dtype": 16}})", "'dtype' must be a string"},
      {R"({"sdxl": {"packed_latents": "yes"}})", "'packed_latents' must be true or false"},
      {R"({"sdxl": {"reply_budget_bytes": -1}})", "'reply_budget_bytes' must be a non-negative"},
      {R"({"sdxl": {"reply_budget_bytes": 1.5}})", "'reply_budget_bytes' must be a non-negative"},
      {R"({"sdxl": {"stateful_decoder": 1}})", "'stateful_decoder' must be true or false"},
      {R"({"new": {"decode_endpoint": "https://x/"}})",
       "new preset 'new' must give latent_channels and scaling_factor"},
      {R"({"new": {"latent_channels": 4}})", "must give latent_channels and scaling_factor"},
      {R"({"new": {"latent_channels": 1, "latents_mean": [0]}})",
       "must give latent_channels and scaling_factor (or latents_mean and latents_std)"},
      {R"({"": {"latent_channels": 4, "scaling_factor": 1}})", "empty name"},
      {R"({"sdxl": {"latent_channels": 4}, "sdxl": {"latent_channels": 8}})", "'sdxl' twice"},
      {R"({"sdxl": {"dtype": "float16", "dtype": "float32"}})", "'dtype' twice"},
      {R"({"sdxl": {"model_id": [[["deep"]]]}})", "nested deeper"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    PresetRegistry registry = PresetRegistry::builtin();
    auto result = registry.merge_json(c.json);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(result.error().message(), HasSubstr(c.fragment));
    EXPECT_EQ(registry.find("sdxl")->latent_channels, 4);
    EXPECT_EQ(registry.all().size(), kBuiltins);
  }
}

class PresetFileTest : public ::testing::Test {
 protected:
  std::string path() const { return temp_.path("presets.json"); }
  void write(const std::string& text) {
    ASSERT_TRUE(
        write_file(path(), reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  }
  const testing_support::TempDir temp_{"rvae_presets"};
};

TEST_F(PresetFileTest, MergesAFile) {
  write(R"({"sd15": {"decode_endpoint": "http://127.0.0.1:1/"}})");
  PresetRegistry registry = PresetRegistry::builtin();
  ASSERT_TRUE(registry.merge_json_file(path()));
  EXPECT_EQ(registry.find("sd15")->decode_endpoint, "http://127.0.0.1:1/");
}

TEST_F(PresetFileTest, MissingFileIsNotFound) {
  PresetRegistry registry = PresetRegistry::builtin();
  auto result = registry.merge_json_file(path());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(result.error().message(), HasSubstr(path()));
}

TEST_F(PresetFileTest, BadFileNamesThePathAndLeavesTheRegistryUnchanged) {
  write(R"({"sd15": {"scaling_factor": 0}})");
  PresetRegistry registry = PresetRegistry::builtin();
  auto result = registry.merge_json_file(path());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(result.error().message(), HasSubstr(path()));
  EXPECT_THAT(result.error().message(), HasSubstr("must not be 0"));
  EXPECT_EQ(registry.find("sd15")->scaling_factor, 0.18215);
}

TEST_F(PresetFileTest, HugeFileIsRefused) {
  PresetRegistry registry;
#ifdef _WIN32
  // No endless device to read: a (sparse) file over the 16 MiB cap.
  ASSERT_TRUE(std::ofstream(std::filesystem::u8path(path()), std::ios::binary));
  std::filesystem::resize_file(std::filesystem::u8path(path()), std::uintmax_t{32} << 20);
  auto result = registry.merge_json_file(path());
#else
  // /dev/zero never ends; the size cap stops it.
  auto result = registry.merge_json_file("/dev/zero");
#endif
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kResourceExhausted);
}

}  // namespace
}  // namespace rvae
