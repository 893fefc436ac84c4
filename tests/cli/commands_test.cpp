// rvae presets, rvae preview and --token-file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "rvae/preview.hpp"
#include "support/scripted_server.hpp"

namespace rvae::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kExtraPreset =
    R"({"mymodel": {"latent_channels": 8, "scaling_factor": 0.5, "max_image_side": 1536,
                    "decode_endpoint": "http://127.0.0.1:9/mine/"}})";

TEST(CliPresetsTest, ListsBuiltinsAndFilesFromFlagAndEnvironment) {
  TempDir dir;
  ASSERT_TRUE(write_file(dir / "p.json", reinterpret_cast<const std::uint8_t*>(kExtraPreset),
                         std::strlen(kExtraPreset)));
  const Outcome builtin = run({kRvae, "presets"}, {{"RVAE_PRESETS", ""}});
  ASSERT_EQ(builtin.exit_code, 0) << builtin.err;
  for (const char* name : {"sd15", "sdxl", "flux", "hunyuan-video"})
    EXPECT_THAT(builtin.out, HasSubstr(name));
  EXPECT_THAT(builtin.out, HasSubstr("0.13025"));
  EXPECT_THAT(builtin.out, HasSubstr("2048x2048"));
  EXPECT_THAT(builtin.out, Not(HasSubstr("mymodel")));

  const Outcome flag = run({kRvae, "presets", "--presets", dir / "p.json"}, {{"RVAE_PRESETS", ""}});
  ASSERT_EQ(flag.exit_code, 0) << flag.err;
  EXPECT_THAT(flag.out, HasSubstr("mymodel"));
  EXPECT_THAT(flag.out, HasSubstr("http://127.0.0.1:9/mine/"));
  EXPECT_THAT(flag.out, HasSubstr("1536x1536"));  // each preset's own cap

  const Outcome env = run({kRvae, "presets", "--json"}, {{"RVAE_PRESETS", dir / "p.json"}});
  ASSERT_EQ(env.exit_code, 0) << env.err;
  const nlohmann::json list = nlohmann::json::parse(env.out);
  ASSERT_TRUE(list.is_array());
  bool found = false;
  for (const nlohmann::json& preset : list) {
    if (preset.at("name") != "mymodel") continue;
    found = true;
    EXPECT_EQ(preset.at("latent_channels"), 8);
    EXPECT_EQ(preset.at("scaling_factor"), 0.5);
    EXPECT_EQ(preset.at("max_image"), "1536x1536");
  }
  EXPECT_TRUE(found) << env.out;

  const Outcome broken = run({kRvae, "presets", "--presets", dir / "absent.json"});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_THAT(broken.err, HasSubstr("absent.json"));
}

// The stand-in VAE decodes with the same factor table, so the local preview must equal what
// `rvae serve` returns for the same latents.
TEST(CliPreviewTest, PreviewEqualsTheReferenceDecode) {
  Serve serve;
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  for (const std::string model : {"sd15", "sdxl", "flux"}) {
    ASSERT_TRUE(write_image(dir / "in.png", gradient_image(32, 16)));
    ASSERT_EQ(run({kRvae, "encode", "--model", model, "--endpoint",
                   serve.url() + model + "/encode/", dir / "in.png", "-o", dir / "z.npy"})
                  .exit_code,
              0);
    const Outcome decoded =
        run({kRvae, "decode", "--model", model, "--endpoint", serve.url() + model + "/decode/",
             dir / "z.npy", "-o", dir / "remote.png"});
    ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
    // No endpoint involved: an unreachable one proves it.
    const Outcome preview =
        run({kRvae, "preview", "--model", model, dir / "z.npy", "-o", dir / "preview.png"},
            {{"RVAE_ENDPOINT", "http://127.0.0.1:9/"}});
    ASSERT_EQ(preview.exit_code, 0) << preview.err;
    const Image remote = read_image(dir / "remote.png").value();
    const Image local = read_image(dir / "preview.png").value();
    ASSERT_EQ(local.width, remote.width) << model;
    ASSERT_EQ(local.height, remote.height) << model;
    int worst = 0;
    for (std::size_t i = 0; i < local.pixels.size(); ++i)
      worst = std::max(worst, std::abs(local.pixels[i] - remote.pixels[i]));
    EXPECT_LE(worst, 1) << model;

    // The library function gives the same picture, at latent size with upscale 1.
    const Tensor latents = read_npy(dir / "z.npy").value();
    PreviewOptions options;
    options.upscale = 1;
    const Image small =
        preview_latents(latents.view(), *latent_rgb_factors(model), options).value();
    EXPECT_EQ(small.width, 4);
    EXPECT_EQ(small.height, 2);
    EXPECT_EQ(small.pixels[0], local.pixels[0]);
  }
  const Outcome wrong =
      run({kRvae, "preview", "--model", "flux", dir / "z.npy", "-o", dir / "x.png"});
  EXPECT_EQ(wrong.exit_code, 0);  // z.npy is flux's from the last round.
  const Outcome channels =
      run({kRvae, "preview", "--model", "sd15", dir / "z.npy", "-o", dir / "x.png"});
  EXPECT_EQ(channels.exit_code, 1);
  EXPECT_THAT(channels.err, HasSubstr("16 channels"));
}

TEST(CliTokenTest, TokenFileIsSentAndWinsOverTheEnvironment) {
  testing_support::ScriptedServer server;
  TempDir dir;
  write_small_latents(dir / "z.npy");
  const std::string token = "hf_cli_test_token";
  const std::string text = token + "\n";
  ASSERT_TRUE(
      write_file(dir / "token", reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  const Outcome sent =
      run({kRvae, "decode", "--model", "sd15", "--attempts", "1", "--token-file", dir / "token",
           "--endpoint", server.url(), dir / "z.npy", "-o", dir / "o.png"},
          {{"HF_TOKEN", "hf_from_environment"}});
  const std::vector<testing_support::RecordedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u) << sent.err;
  EXPECT_EQ(requests[0].header("Authorization"), "Bearer " + token);
  EXPECT_THAT(sent.err, Not(HasSubstr(token)));

  const Outcome missing = run({kRvae, "decode", "--token-file", dir / "absent", "--endpoint",
                               server.url(), dir / "z.npy", "-o", dir / "o.png"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("--token-file"));
  EXPECT_THAT(missing.err, HasSubstr("absent"));
  EXPECT_EQ(server.requests().size(), 1u);
}

}  // namespace
}  // namespace rvae::cli_test
