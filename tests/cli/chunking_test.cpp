// rvae decode --frames-per-request: a long video through `rvae serve --max-frames`, the snapping
// note, and the refusals (MP4 output, a stateful decoder, a bad value) in words of flags.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "cli_support.hpp"

namespace rvae::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// 13 latent frames: 49 output frames, above a 17-frame cap.
void write_video(const std::string& path) {
  const Tensor latents = Tensor::zeros({1, 16, 13, 2, 2}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(path, latents.view()));
}

TEST(CliChunkingTest, FramesPerRequestDecodesPastTheFrameCapWithANote) {
  Serve serve({"--context", "--max-frames", "17"});
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  write_video(dir / "video.npy");
  // Without chunking the endpoint refuses the clip.
  const Outcome whole = run({kRvae, "decode", "--model", "hunyuan-video", "--endpoint",
                             serve.url() + "hunyuan-video/decode/", "--frames-per-request", "off",
                             dir / "video.npy", "-o", dir / "whole/"});
  EXPECT_EQ(whole.exit_code, 1);
  EXPECT_THAT(whole.err, HasSubstr("frames per request"));

  const Outcome chunked = run({kRvae, "decode", "--model", "hunyuan-video", "--endpoint",
                               serve.url() + "hunyuan-video/decode/", "--frames-per-request", "15",
                               dir / "video.npy", "-o", dir / "frames/"});
  ASSERT_EQ(chunked.exit_code, 0) << chunked.err;
  EXPECT_THAT(chunked.err, HasSubstr("--frames-per-request 15 snapped to 12"));
  for (int frame : {0, 48}) {
    char name[32];
    std::snprintf(name, sizeof(name), "frames/frame_%05d.png", frame);
    EXPECT_TRUE(exists(dir / name)) << name;
  }
  EXPECT_FALSE(exists(dir / "frames/frame_00049.png"));
}

TEST(CliChunkingTest, Mp4OutputIsRefusedWithTheFramesDirectorySuggested) {
  TempDir dir;
  write_video(dir / "video.npy");
  const Outcome mp4 =
      run({kRvae, "decode", "--model", "hunyuan-video", "--endpoint", "http://127.0.0.1:9/",
           "--frames-per-request", "16", dir / "video.npy", "-o", dir / "clip.mp4"});
  EXPECT_EQ(mp4.exit_code, 2);
  EXPECT_THAT(mp4.err, HasSubstr("-o frames/"));
}

TEST(CliChunkingTest, BadValuesAndStatefulModelsAreRefused) {
  TempDir dir;
  write_video(dir / "video.npy");
  const Outcome bad =
      run({kRvae, "decode", "--model", "hunyuan-video", "--endpoint", "http://127.0.0.1:9/",
           "--frames-per-request", "many", dir / "video.npy", "-o", dir / "frames/"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--frames-per-request must be auto, off or a number"));

  const Outcome wan =
      run({kRvae, "decode", "--model", "wan2.1", "--endpoint", "http://127.0.0.1:9/",
           "--frames-per-request", "16", dir / "video.npy", "-o", dir / "frames/"});
  EXPECT_EQ(wan.exit_code, 1);
  EXPECT_THAT(wan.err, HasSubstr("carries state across frames"));
  EXPECT_THAT(wan.err, Not(HasSubstr("kOff")));
}

}  // namespace
}  // namespace rvae::cli_test
