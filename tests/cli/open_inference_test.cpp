// The CLI against `rvae serve` over the Open Inference Protocol: decode to every output but MP4
// (which is refused with the reason), batches, tiling, --json; the usage error without --model;
// `rvae check`; a token from the Hugging Face environment kept from a non-Hugging-Face server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "rvae/rvae.hpp"
#include "support/scripted_server.hpp"

namespace rvae::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

void write_latents(const std::string& path, const Shape& shape) {
  std::size_t count = 1;
  for (std::int64_t d : shape)
    count *= static_cast<std::size_t>(d);
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i)
    values[i] = static_cast<float>(i % 11) * 0.2f - 1.0f;
  ASSERT_TRUE(write_npy(path, Tensor::from_floats(shape, values).value().view()).has_value());
}

TEST(CliOpenInferenceTest, DecodesToEveryOutputButMp4AsTheHuggingFaceRouteDoes) {
  Serve server;
  ASSERT_FALSE(server.url().empty());
  TempDir dir;
  write_latents(dir / "z.npy", {1, 4, 6, 4});
  const std::string model = server.url() + "v2/models/sdxl_decoder";
  const Outcome png = run({kRvae, "decode", "--model", "sdxl", "--endpoint", model, dir / "z.npy",
                           "-o", dir / "oip.png"});
  ASSERT_EQ(png.exit_code, 0) << png.err;
  const Outcome hf = run({kRvae, "decode", "--model", "sdxl", "--endpoint",
                          server.url() + "sdxl/decode/", dir / "z.npy", "-o", dir / "hf.png"});
  ASSERT_EQ(hf.exit_code, 0) << hf.err;
  const Image oip_image = read_image(dir / "oip.png").value();
  const Image hf_image = read_image(dir / "hf.png").value();
  ASSERT_EQ(oip_image.width, 32);
  ASSERT_EQ(oip_image.height, 48);
  ASSERT_EQ(oip_image.pixels.size(), hf_image.pixels.size());
  for (std::size_t i = 0; i < oip_image.pixels.size(); ++i)
    ASSERT_LE(std::abs(int(oip_image.pixels[i]) - int(hf_image.pixels[i])), 1) << i;

  const Outcome tensor = run({kRvae, "decode", "--model", "sdxl", "--endpoint", model,
                              dir / "z.npy", "-o", dir / "x.npy"});
  ASSERT_EQ(tensor.exit_code, 0) << tensor.err;
  EXPECT_EQ(read_npy(dir / "x.npy").value().shape(), (Shape{1, 3, 48, 32}));

  const Outcome frames = run({kRvae, "decode", "--model", "sdxl", "--endpoint", model, "--json",
                              dir / "z.npy", "-o", dir / "frames/"});
  ASSERT_EQ(frames.exit_code, 0) << frames.err;
  const nlohmann::json report = nlohmann::json::parse(frames.out);
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(report["endpoint"], model);

  write_latents(dir / "v.npy", {1, 16, 2, 2, 2});
  const Outcome mp4 =
      run({kRvae, "decode", "--model", "hunyuan-video", "--endpoint",
           server.url() + "v2/models/hunyuan-video_decoder", dir / "v.npy", "-o", dir / "v.mp4"});
  EXPECT_EQ(mp4.exit_code, 1);
  EXPECT_THAT(mp4.err, HasSubstr("MP4"));
  EXPECT_THAT(mp4.err, HasSubstr("Hugging Face protocol"));
  EXPECT_FALSE(exists(dir / "v.mp4"));
}

TEST(CliOpenInferenceTest, BatchesAndTilingWorkOverIt) {
  Serve server({"--max-side", "64"});
  ASSERT_FALSE(server.url().empty());
  TempDir dir;
  std::filesystem::create_directories(dir / "in");
  for (int i = 0; i < 3; ++i)
    write_latents(dir / ("in/z" + std::to_string(i) + ".npy"), {1, 4, 4, 4});
  const std::string model = server.url() + "v2/models/sdxl_decoder";
  const Outcome batch =
      run({kRvae, "decode", "--model", "sdxl", "--endpoint", model, dir / "in", "-o", dir / "out"});
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  EXPECT_EQ(list_dir(dir / "out").size(), 3u);

  write_latents(dir / "big.npy", {1, 4, 16, 12});  // 128x96 pixels, past the 64 cap
  const Outcome untiled = run({kRvae, "decode", "--model", "sdxl", "--endpoint", model, "--tile",
                               "off", dir / "big.npy", "-o", dir / "untiled.png"});
  EXPECT_EQ(untiled.exit_code, 1);
  // The preset says the cap, so the tiler (and its colour reference) keeps under it.
  const std::string presets = R"({"sdxl": {"max_image_side": 64}})";
  ASSERT_TRUE(write_file(dir / "presets.json",
                         reinterpret_cast<const std::uint8_t*>(presets.data()), presets.size())
                  .has_value());
  const Outcome tiled =
      run({kRvae, "decode", "--model", "sdxl", "--presets", dir / "presets.json", "--endpoint",
           model, "--tile-overlap", "2", dir / "big.npy", "-o", dir / "tiled.png"});
  ASSERT_EQ(tiled.exit_code, 0) << tiled.err;
  EXPECT_EQ(read_image(dir / "tiled.png").value().width, 96);
}

TEST(CliOpenInferenceTest, AModelUrlWithoutItsNormalisationIsAUsageError) {
  Serve server;
  TempDir dir;
  write_latents(dir / "z.npy", {1, 4, 2, 2});
  const std::string model = server.url() + "v2/models/sdxl_decoder";
  const Outcome missing =
      run({kRvae, "decode", "--endpoint", model, dir / "z.npy", "-o", dir / "o.png"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("--model"));
  EXPECT_THAT(missing.err, HasSubstr("--no-scaling"));
  const Outcome raw = run(
      {kRvae, "decode", "--no-scaling", "--endpoint", model, dir / "z.npy", "-o", dir / "o.png"});
  EXPECT_EQ(raw.exit_code, 0) << raw.err;
  const Outcome named =
      run({kRvae, "decode", "--model", "sdxl", "--endpoint", model, "--input-name", "latent_sample",
           "--output-name", "nope", dir / "z.npy", "-o", dir / "o.png"});
  EXPECT_EQ(named.exit_code, 1);
  EXPECT_THAT(named.err, HasSubstr("sample"));
  const Outcome names_for_hf =
      run({kRvae, "decode", "--model", "sdxl", "--endpoint", server.url() + "sdxl/decode/",
           "--input-name", "x", dir / "z.npy", "-o", dir / "o.png"});
  EXPECT_EQ(names_for_hf.exit_code, 2);
  const Outcome bad_protocol = run({kRvae, "decode", "--model", "sdxl", "--protocol", "grpc",
                                    "--endpoint", model, dir / "z.npy", "-o", dir / "o.png"});
  EXPECT_EQ(bad_protocol.exit_code, 2);
  EXPECT_THAT(bad_protocol.err, HasSubstr("--protocol"));
}

TEST(CliOpenInferenceTest, EncodeOverIt) {
  Serve server;
  TempDir dir;
  ASSERT_TRUE(write_image(dir / "a.png", gradient_image(32, 24)).has_value());
  const Outcome encoded =
      run({kRvae, "encode", "--model", "sdxl", "--endpoint",
           server.url() + "v2/models/sdxl_encoder", dir / "a.png", "-o", dir / "z.npy"});
  ASSERT_EQ(encoded.exit_code, 0) << encoded.err;
  EXPECT_EQ(read_npy(dir / "z.npy").value().shape(), (Shape{1, 4, 3, 4}));
}

TEST(CliOpenInferenceTest, CheckSaysWhetherTheModelIsReadyAndWhatItTakes) {
  Serve server;
  const Outcome ready = run({kRvae, "check", server.url() + "v2/models/sdxl_decoder"});
  EXPECT_EQ(ready.exit_code, 0) << ready.err;
  EXPECT_THAT(ready.out, HasSubstr("ready"));
  EXPECT_THAT(ready.out, HasSubstr("input  latent_sample FP16 [-1, 4, -1, -1]"));
  EXPECT_THAT(ready.out, HasSubstr("output sample FP32 [-1, 3, -1, -1]"));
  const Outcome json = run({kRvae, "check", "--json", server.url() + "v2/models/sdxl_decoder"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json status = nlohmann::json::parse(json.out);
  EXPECT_EQ(status["ready"], true);
  EXPECT_EQ(status["replicas"][0]["model"]["inputs"][0]["datatype"], "FP16");
  const Outcome unknown = run({kRvae, "check", server.url() + "v2/models/no_such_model"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.out, HasSubstr("not ready"));
  const Outcome hf = run({kRvae, "check", server.url() + "sdxl/decode/"});
  EXPECT_EQ(hf.exit_code, 1);
  EXPECT_THAT(hf.err, HasSubstr("Open Inference"));
}

TEST(CliOpenInferenceTest, AHuggingFaceTokenStaysOffOtherServers) {
  testing_support::ScriptedServer server;
  TempDir dir;
  write_small_latents(dir / "z.npy");
  (void)run({kRvae, "decode", "--model", "sd15", "--attempts", "1", "--endpoint", server.url(),
             dir / "z.npy", "-o", dir / "o.png"},
            {{"HF_TOKEN", "hf_from_environment"}});
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_FALSE(server.requests()[0].has_header("Authorization"));
  (void)run({kRvae, "decode", "--model", "sd15", "--attempts", "1", "--endpoint", server.url(),
             dir / "z.npy", "-o", dir / "o.png"},
            {{"RVAE_TOKEN", "rvae_token"}});
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[1].header("Authorization"), "Bearer rvae_token");
  const Outcome in_clear =
      run({kRvae, "decode", "--model", "sd15", "--attempts", "1", "--endpoint",
           "http://192.0.2.1:8000/v2/models/vae", dir / "z.npy", "-o", dir / "o.png"},
          {{"RVAE_TOKEN", "rvae_token"}});
  EXPECT_EQ(in_clear.exit_code, 1);
  EXPECT_THAT(in_clear.err, HasSubstr("--allow-http-token"));
  EXPECT_THAT(in_clear.err, Not(HasSubstr("rvae_token")));
}

}  // namespace
}  // namespace rvae::cli_test
