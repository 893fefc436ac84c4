// The per-channel models (wan2.1, qwen-image; PROTOCOL.md §9) in the CLI: how `rvae presets`
// shows them, the plain message when they are used without an endpoint, the raw latents a
// decode sends, and `rvae preview`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "rvae/preview.hpp"
#include "support/published_per_channel.hpp"
#include "support/scripted_server.hpp"

namespace rvae::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// float32 latents of `shape` with a ramp of values, written as .npy.
Tensor write_ramp(const std::string& path, const Shape& shape) {
  std::size_t n = 1;
  for (std::int64_t d : shape)
    n *= static_cast<std::size_t>(d);
  std::vector<float> values(n);
  for (std::size_t i = 0; i < n; ++i)
    values[i] = static_cast<float>(static_cast<int>(i % 13) - 6) * 0.25f;
  Tensor tensor = Tensor::from_floats(shape, values).value();
  EXPECT_TRUE(write_npy(path, tensor.view()));
  return tensor;
}

TEST(CliPerChannelTest, PresetsShowTheNormalisation) {
  const Outcome text = run({kRvae, "presets"}, {{"RVAE_PRESETS", ""}});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("wan2.1"));
  EXPECT_THAT(text.out, HasSubstr("qwen-image"));
  EXPECT_THAT(text.out, HasSubstr("normalisation: per-channel (16 means/stds)"));

  const Outcome json = run({kRvae, "presets", "--json"}, {{"RVAE_PRESETS", ""}});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json list = nlohmann::json::parse(json.out);
  int per_channel = 0;
  for (const nlohmann::json& preset : list) {
    SCOPED_TRACE(preset.dump());
    if (preset.at("name") == "wan2.1" || preset.at("name") == "qwen-image") {
      ++per_channel;
      EXPECT_EQ(preset.at("normalization"), "per-channel");
      EXPECT_EQ(preset.at("latents_mean").get<std::vector<double>>(),
                published::per_channel_mean());
      EXPECT_EQ(preset.at("latents_std").get<std::vector<double>>(), published::per_channel_std());
    } else {
      EXPECT_EQ(preset.at("normalization"), "scalar");
      EXPECT_TRUE(preset.at("latents_mean").is_null());
    }
  }
  EXPECT_EQ(per_channel, 2);
}

TEST(CliPerChannelTest, NoEndpointIsAPlainMessage) {
  TempDir dir;
  write_ramp(dir / "z.npy", {1, 16, 2, 2});
  ASSERT_TRUE(write_image(dir / "in.png", gradient_image(16, 16)));
  for (const char* model : {"wan2.1", "qwen-image"}) {
    const Outcome decode =
        run({kRvae, "decode", "--model", model, dir / "z.npy", "-o", dir / "out.png"},
            {{"RVAE_ENDPOINT", ""}});
    EXPECT_EQ(decode.exit_code, 2);
    EXPECT_THAT(decode.err,
                HasSubstr(std::string(model) +
                          " has no public endpoint: give --endpoint URL (a Triton/KServe model or "
                          "your own server)"));
    const Outcome encode =
        run({kRvae, "encode", "--model", model, dir / "in.png", "-o", dir / "z2.npy"},
            {{"RVAE_ENDPOINT", ""}});
    EXPECT_EQ(encode.exit_code, 2);
    EXPECT_THAT(encode.err, HasSubstr(std::string(model) + " has no public endpoint"));
  }
  // A model with one endpoint missing keeps its own message.
  const Outcome hunyuan =
      run({kRvae, "encode", "--model", "hunyuan-video", dir / "in.png", "-o", dir / "z2.npy"},
          {{"RVAE_ENDPOINT", ""}});
  EXPECT_EQ(hunyuan.exit_code, 2);
  EXPECT_THAT(hunyuan.err, HasSubstr("has no encode endpoint"));
}

// What goes on the wire: raw = z * std + mean per channel, no scaling parameters (§9).
TEST(CliPerChannelTest, DecodeSendsDenormalisedLatents) {
  testing_support::ScriptedServer server;
  TempDir dir;
  const Tensor z = write_ramp(dir / "z.npy", {1, 16, 2, 2});
  (void)run({kRvae, "decode", "--model", "qwen-image", "--attempts", "1", "--endpoint",
             server.url(), dir / "z.npy", "-o", dir / "out.png"});
  const std::vector<testing_support::RecordedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const std::string& target = requests[0].target;
  EXPECT_THAT(target, HasSubstr("shape=1&shape=16&shape=2&shape=2&dtype=float32"));
  EXPECT_THAT(target, Not(HasSubstr("scaling")));
  EXPECT_THAT(target, Not(HasSubstr("shift")));
  ASSERT_EQ(requests[0].body.size(), 16u * 4u * 4u);
  std::vector<float> raw(64);
  std::memcpy(raw.data(), requests[0].body.data(), requests[0].body.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const std::size_t c = i / 4;
    const double expected =
        static_cast<double>(z.data_as<float>()[i]) * published::per_channel_std()[c] +
        published::per_channel_mean()[c];
    ASSERT_NEAR(raw[i], expected, 1e-5) << i;
  }

  // Packed Qwen-Image latents go out unpacked, 4-D; a scalar flag replaces the statistics.
  write_ramp(dir / "packed.npy", {1, 4, 64});
  (void)run({kRvae, "decode", "--model", "qwen-image", "--attempts", "1", "--endpoint",
             server.url(), "--height", "32", "--width", "32", dir / "packed.npy", "-o",
             dir / "out.png"});
  (void)run({kRvae, "decode", "--model", "qwen-image", "--attempts", "1", "--endpoint",
             server.url(), "--scaling-factor", "0.5", dir / "z.npy", "-o", dir / "out.png"});
  const std::vector<testing_support::RecordedRequest> more = server.requests();
  ASSERT_EQ(more.size(), 3u);
  EXPECT_THAT(more[1].target, HasSubstr("shape=1&shape=16&shape=4&shape=4&dtype=float32"));
  EXPECT_THAT(more[1].target, Not(HasSubstr("scaling")));
  EXPECT_THAT(more[2].target, HasSubstr("scaling_factor=0.5"));
  EXPECT_EQ(more[2].body.size(), 64u * 4u);
  EXPECT_EQ(std::memcmp(more[2].body.data(), z.data(), z.size_bytes()), 0);
}

TEST(CliPerChannelTest, PreviewOfWanVideoAndPackedQwenImage) {
  TempDir dir;
  const Tensor video = write_ramp(dir / "wan.npy", {1, 16, 3, 2, 3});
  const Outcome wan = run({kRvae, "preview", "--model", "wan2.1", "--frame", "2", "--scale", "1",
                           dir / "wan.npy", "-o", dir / "wan.png"});
  ASSERT_EQ(wan.exit_code, 0) << wan.err;
  PreviewOptions options;
  options.upscale = 1;
  options.frame = 2;
  const Image want_wan =
      preview_latents(video.view(), *latent_rgb_factors("wan2.1"), options).value();
  const Image got_wan = read_image(dir / "wan.png").value();
  EXPECT_EQ(got_wan.width, 3);
  EXPECT_EQ(got_wan.height, 2);
  EXPECT_EQ(got_wan.pixels, want_wan.pixels);

  const Tensor packed = write_ramp(dir / "qwen.npy", {1, 4, 64});
  const Outcome qwen = run({kRvae, "preview", "--model", "qwen-image", "--height", "32", "--width",
                            "32", "--scale", "1", dir / "qwen.npy", "-o", dir / "qwen.png"});
  ASSERT_EQ(qwen.exit_code, 0) << qwen.err;
  PreviewOptions packed_options;
  packed_options.upscale = 1;
  packed_options.height = 32;
  packed_options.width = 32;
  const Image want_qwen =
      preview_latents(packed.view(), *latent_rgb_factors("qwen-image"), packed_options).value();
  const Image got_qwen = read_image(dir / "qwen.png").value();
  EXPECT_EQ(got_qwen.width, 4);
  EXPECT_EQ(got_qwen.pixels, want_qwen.pixels);
}

}  // namespace
}  // namespace rvae::cli_test
