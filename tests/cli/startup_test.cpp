// Start-up: the client commands must not load FFmpeg (it is a module loaded by serve/demo on the
// first MP4 request); --version and --help answer without it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "cli_support.hpp"

namespace rvae::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// What the dynamic loader maps at start-up, as ldd reports it (without running main()).
std::string startup_libraries() {
  return run({kRvae}, {{"LD_TRACE_LOADED_OBJECTS", "1"}}).out;
}

#ifndef _WIN32
// The shared objects a running process has mapped.
std::string mapped_libraries(long pid) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::stringstream text;
  text << maps.rdbuf();
  return text.str();
}
#endif

TEST(CliStartupTest, TheBinaryDoesNotLinkFfmpeg) {
#ifdef _WIN32
  GTEST_SKIP() << "asks the ELF loader (LD_TRACE_LOADED_OBJECTS); the Windows build has no "
                  "FFmpeg (RVAE_WITH_FFMPEG=OFF)";
#endif
  const std::string libraries = startup_libraries();
  ASSERT_THAT(libraries, HasSubstr("libc.so"));
  EXPECT_THAT(libraries, Not(HasSubstr("libavcodec")));
  EXPECT_THAT(libraries, Not(HasSubstr("libavformat")));
  EXPECT_THAT(libraries, Not(HasSubstr("libswscale")));
}

TEST(CliStartupTest, VersionAndHelpListEverySubcommand) {
  const Outcome version = run({kRvae, "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out, "rvae " RVAE_VERSION_STRING "\n");
  const Outcome help = run({kRvae, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--version"));
  for (const char* command : {"decode", "encode", "preview", "presets", "serve", "demo", "bench"}) {
    EXPECT_THAT(help.out, HasSubstr(std::string("  ") + command + " ")) << command;
    const Outcome sub = run({kRvae, command, "--help"});
    EXPECT_EQ(sub.exit_code, 0) << command;
    EXPECT_THAT(sub.out, HasSubstr(std::string("usage: rvae ") + command)) << command;
    const Outcome short_help = run({kRvae, command, "-h"});
    EXPECT_EQ(short_help.out, sub.out) << command;
  }
}

TEST(CliStartupTest, ServeLoadsFfmpegOnlyForTheFirstVideo) {
#if RVAE_HAVE_FFMPEG
  Serve serve;
  ASSERT_FALSE(serve.url().empty());
  EXPECT_THAT(mapped_libraries(serve.child().pid()), Not(HasSubstr("libavcodec")));
  TempDir dir;
  const Tensor latents = Tensor::zeros({1, 16, 2, 2, 2}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(dir / "video.npy", latents.view()));
  const Outcome decoded =
      run({kRvae, "decode", "--model", "hunyuan-video", "--endpoint",
           serve.url() + "hunyuan-video/decode/", dir / "video.npy", "-o", dir / "clip.mp4"});
  ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
  EXPECT_THAT(mapped_libraries(serve.child().pid()), HasSubstr("librvae_mp4"));
#else
  GTEST_SKIP() << "built without FFmpeg";
#endif
}

}  // namespace
}  // namespace rvae::cli_test
