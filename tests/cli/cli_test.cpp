// The rvae CLI end to end: `rvae serve` on a free port, and decode/encode against it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "rvae/rvae.hpp"
#include "support/scripted_server.hpp"

namespace rvae::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ProcessResult = Outcome;
using ServeProcess = Serve;

// Bounded (the child is killed after a minute), like every CLI test's child.
Outcome run_process(std::vector<std::string> argv, const Env& env = {}) {
  return run(std::move(argv), env);
}

double max_error_against_block_means(const Image& original, const Image& decoded) {
  double worst = 0;
  for (int y = 0; y < original.height; ++y) {
    for (int x = 0; x < original.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        double sum = 0;
        for (int by = y / 8 * 8; by < y / 8 * 8 + 8; ++by) {
          for (int bx = x / 8 * 8; bx < x / 8 * 8 + 8; ++bx) {
            sum += original.pixels[static_cast<std::size_t>((by * original.width + bx) * 3 + c)];
          }
        }
        const double got =
            decoded
                .pixels[static_cast<std::size_t>((y * decoded.width + x) * decoded.channels + c)];
        worst = std::max(worst, std::abs(got - sum / 64));
      }
    }
  }
  return worst;
}

TEST(CliTest, HelpAndUsageErrorsUseTheirExitCodes) {
  ProcessResult help = run_process({kRvae, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("commands:"));
  for (const char* command : {"decode", "encode", "serve", "demo"}) {
    ProcessResult sub = run_process({kRvae, command, "--help"});
    EXPECT_EQ(sub.exit_code, 0) << command;
    EXPECT_THAT(sub.out, HasSubstr(std::string("usage: rvae ") + command));
  }
  EXPECT_EQ(run_process({kRvae}).exit_code, 2);
  ProcessResult unknown = run_process({kRvae, "frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown command 'frobnicate'"));
  ProcessResult bad_option =
      run_process({kRvae, "decode", "--colour", "red", "x.npy", "-o", "y.png"});
  EXPECT_EQ(bad_option.exit_code, 2);
  EXPECT_THAT(bad_option.err, HasSubstr("unknown option --colour"));
  ProcessResult bad_model =
      run_process({kRvae, "decode", "--model", "sd3", "x.npy", "-o", "y.png"});
  EXPECT_EQ(bad_model.exit_code, 2);
  EXPECT_THAT(bad_model.err, HasSubstr("unknown --model 'sd3'"));
  ProcessResult no_output = run_process({kRvae, "encode", "x.png"});
  EXPECT_EQ(no_output.exit_code, 2);
  EXPECT_THAT(no_output.err, HasSubstr("missing -o OUT"));
}

TEST(CliTest, EncodeThenDecodeRoundTripsThroughServe) {
  ServeProcess serve;
  ASSERT_FALSE(serve.url().empty()) << "rvae serve did not print its URL";
  TempDir dir;
  const Image image = gradient_image(64, 48);
  ASSERT_TRUE(write_image(dir / "in.png", image));

  ProcessResult encoded =
      run_process({kRvae, "encode", "--model", "sdxl", "--endpoint", serve.url() + "sdxl/encode/",
                   dir / "in.png", "-o", dir / "latents.safetensors"});
  ASSERT_EQ(encoded.exit_code, 0) << encoded.err;
  std::vector<NamedTensor> latents = read_safetensors(dir / "latents.safetensors").value();
  ASSERT_EQ(latents.size(), 1u);
  EXPECT_EQ(latents[0].name, "latents");
  EXPECT_EQ(latents[0].tensor.shape(), (Shape{1, 4, 6, 8}));

  ProcessResult decoded =
      run_process({kRvae, "decode", "--model", "sdxl", "--endpoint", serve.url() + "sdxl/decode/",
                   dir / "latents.safetensors", "-o", dir / "out.png"});
  ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
  const Image round_trip = read_image(dir / "out.png").value();
  ASSERT_EQ(round_trip.width, 64);
  ASSERT_EQ(round_trip.height, 48);
  EXPECT_LE(max_error_against_block_means(image, round_trip), 1.0);
}

// UTF-8 names through arguments, directory listing and files (on Windows the arguments come
// from the wide command line), and a directory ending in the system's own separator.
TEST(CliTest, NamesOutsideAsciiAndTheSystemsSeparator) {
  ServeProcess serve;
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  ASSERT_TRUE(make_dir(dir / "\xc3\xa4pfel"));                // "äpfel"
  write_small_latents(dir / "\xc3\xa4pfel/gr\xc3\xbcn.npy");  // "grün.npy"
  ProcessResult one = run_process(
      {kRvae, "decode", "--model", "sd15", "--endpoint", serve.url() + "sd15/decode/",
       dir / "\xc3\xa4pfel/gr\xc3\xbcn.npy", "-o",
       dir / "\xce\xbb\xc3\xb6l.png"});  // "λöl.png": outside any ANSI code page with "ä"
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_TRUE(read_image(dir / "\xce\xbb\xc3\xb6l.png"));
#ifdef _WIN32
  const std::string separator = "\\";
#else
  const std::string separator = "/";
#endif
  ProcessResult batch = run_process({kRvae, "decode", "--model", "sd15", "--endpoint",
                                     serve.url() + "sd15/decode/", dir / "\xc3\xa4pfel", "-o",
                                     dir / ("out" + separator + "n\xc3\xa9" + separator)});
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  EXPECT_EQ(list_dir(dir / "out/n\xc3\xa9"), std::vector<std::string>{"gr\xc3\xbcn.png"});
}

TEST(CliTest, EndpointComesFromTheEnvironmentWithoutFlag) {
  ServeProcess serve({"--model", "sd15", "--role", "decode"});
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  const Tensor latents = Tensor::zeros({1, 4, 2, 3}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(dir / "z.npy", latents.view()));
  ProcessResult decoded =
      run_process({kRvae, "decode", "--model", "sd15", dir / "z.npy", "-o", dir / "out.npy"},
                  {{"RVAE_ENDPOINT", serve.url()}});
  ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
  const Tensor pixels = read_npy(dir / "out.npy").value();
  EXPECT_EQ(pixels.shape(), (Shape{1, 3, 16, 24}));
}

TEST(CliTest, DecodesVideoFramesIntoADirectory) {
  ServeProcess serve;
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  // 2 latent frames -> 4*(2-1)+1 = 5 frames.
  const Tensor latents = Tensor::zeros({1, 16, 2, 1, 2}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(dir / "video.npy", latents.view()));
  ProcessResult decoded = run_process({kRvae, "decode", "--model", "hunyuan-video", "--endpoint",
                                       serve.url() + "hunyuan-video/decode/", dir / "video.npy",
                                       "-o", dir / "frames/"});
  ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
  for (int frame = 0; frame < 5; ++frame) {
    char name[32];
    std::snprintf(name, sizeof(name), "frames/frame_%05d.png", frame);
    Result<Image> image = read_image(dir / name);
    ASSERT_TRUE(image) << name;
    EXPECT_EQ(image->width, 16);
    EXPECT_EQ(image->height, 8);
  }
  EXPECT_FALSE(exists(dir / "frames/frame_00005.png"));
}

TEST(CliTest, DecodesVideoToMp4) {
#if RVAE_HAVE_FFMPEG
  ServeProcess serve;
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  const Tensor latents = Tensor::zeros({1, 16, 3, 2, 2}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(dir / "video.npy", latents.view()));
  ProcessResult decoded = run_process({kRvae, "decode", "--model", "hunyuan-video", "--endpoint",
                                       serve.url() + "hunyuan-video/decode/", dir / "video.npy",
                                       "-o", dir / "clip.mp4"});
  ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
  const Bytes mp4 = read_file(dir / "clip.mp4").value();
  ASSERT_GT(mp4.size(), 8u);
  EXPECT_EQ(std::string(mp4.begin() + 4, mp4.begin() + 8), "ftyp");
#else
  GTEST_SKIP() << "the reference endpoint was built without FFmpeg";
#endif
}

TEST(CliTest, RuntimeErrorsExitOneWithTheCause) {
  ServeProcess serve;
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;

  ProcessResult missing = run_process({kRvae, "decode", "--endpoint", serve.url() + "sdxl/decode/",
                                       dir / "absent.npy", "-o", dir / "out.png"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("NotFound"));
  EXPECT_THAT(missing.err, HasSubstr("absent.npy"));

  // Packed (3-D) latents without --height/--width cannot be decoded.
  const Tensor packed = Tensor::zeros({1, 4, 64}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(dir / "packed.npy", packed.view()));
  ProcessResult bad_shape =
      run_process({kRvae, "decode", "--model", "flux", "--endpoint", serve.url() + "flux/decode/",
                   dir / "packed.npy", "-o", dir / "out.png"});
  EXPECT_EQ(bad_shape.exit_code, 1);
  EXPECT_THAT(bad_shape.err, HasSubstr("InvalidArgument"));
  EXPECT_THAT(bad_shape.err, HasSubstr("height"));

  // The server refuses 5-channel latents for sdxl: its message reaches the user.
  const Tensor five = Tensor::zeros({1, 5, 2, 2}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(dir / "five.npy", five.view()));
  ProcessResult refused = run_process({kRvae, "decode", "--endpoint", serve.url() + "sdxl/decode/",
                                       dir / "five.npy", "-o", dir / "out.png"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("HTTP 400"));
  EXPECT_THAT(refused.err, HasSubstr("server said"));

  const std::string nowhere =
      "http://127.0.0.1:" + std::to_string(testing_support::unused_port()) + "/";
  ProcessResult unreachable = run_process({kRvae, "decode", "--attempts", "1", "--endpoint",
                                           nowhere, dir / "five.npy", "-o", dir / "o.png"});
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_THAT(unreachable.err, HasSubstr("could not connect"));
  // One line naming the cause.
  EXPECT_EQ(std::count(unreachable.err.begin(), unreachable.err.end(), '\n'), 1);
}

TEST(CliTest, BatchesADirectoryAndIsolatesFailures) {
  ServeProcess serve;
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  ASSERT_TRUE(make_dir(dir / "in"));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        write_image(dir / ("in/img" + std::to_string(i) + ".png"), gradient_image(16 + 8 * i, 16)));
  }
  // Not a multiple of 8: refused for this input only.
  ASSERT_TRUE(write_image(dir / "in/odd.png", gradient_image(20, 16)));

  ProcessResult encoded = run_process({kRvae, "encode", "--endpoint", serve.url() + "sd15/encode/",
                                       "--jobs", "3", "--verbose", dir / "in", "-o", dir / "lat"});
  EXPECT_EQ(encoded.exit_code, 1);
  EXPECT_THAT(encoded.err, HasSubstr("odd.png: InvalidArgument"));
  EXPECT_THAT(encoded.err, HasSubstr("1 of 6 inputs failed"));
  EXPECT_THAT(encoded.err, HasSubstr("encode: 6/6 done, 1 failed"));  // Plain progress lines.
  EXPECT_THAT(encoded.out, HasSubstr("1 attempt to " + serve.url() + "sd15/encode/"));
  for (int i = 0; i < 5; ++i) {
    Result<std::vector<NamedTensor>> latents =
        read_safetensors(dir / ("lat/img" + std::to_string(i) + ".safetensors"));
    ASSERT_TRUE(latents) << i;
    EXPECT_EQ(latents->at(0).tensor.shape(), (Shape{1, 4, 2, 2 + i}));
  }

  ProcessResult decoded = run_process({kRvae, "decode", "--endpoint", serve.url() + "sd15/decode/",
                                       "--model", "sd15", dir / "lat", "-o", dir / "out"});
  ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
  for (int i = 0; i < 5; ++i) {
    Result<Image> image = read_image(dir / ("out/img" + std::to_string(i) + ".png"));
    ASSERT_TRUE(image) << i;
    EXPECT_EQ(image->width, 16 + 8 * i);
  }
}

// The PSNR the demo prints for one tiling of its tiled decode ("naive", "rvae"), or NaN.
double demo_psnr(const std::string& out, const std::string& tiling) {
  const std::size_t at = out.find("\n" + tiling + " ");
  if (at == std::string::npos) return NAN;
  int requests = 0;
  double ms = 0, psnr = NAN;
  if (std::sscanf(out.c_str() + at + 1 + tiling.size(), "%d %lf %lf dB", &requests, &ms, &psnr) !=
      3) {
    return NAN;
  }
  return psnr;
}

// One row of the demo's video table ("whole", "naive", "rvae"); frames is -1 when it is missing.
struct VideoRow {
  int frames = -1, requests = 0, max_levels = -1;
  double psnr = NAN;
  bool first_frame = false;  // a first-frame time printed (rvae's streamed run)
};
VideoRow demo_video_row(const std::string& out, const std::string& label) {
  VideoRow row;
  const std::size_t table = out.find("\nchunking ");
  if (table == std::string::npos) return row;
  const std::size_t at = out.find("\n" + label + " ", table);
  if (at == std::string::npos) return row;
  const char* text = out.c_str() + at + 1 + label.size();
  double ms = 0, first_ms = 0;
  int fields = std::sscanf(text, "%d %d %lf %lf %lf dB %d", &row.frames, &row.requests, &ms,
                           &first_ms, &row.psnr, &row.max_levels);
  if (fields >= 4) {
    row.first_frame = true;
  } else {
    fields = std::sscanf(text, "%d %d %lf - %lf dB %d", &row.frames, &row.requests, &ms, &row.psnr,
                         &row.max_levels);
  }
  if (fields < 3) row.frames = -1;
  return row;
}

TEST(CliTest, DemoOutUnderAFileSaysWhy) {
  TempDir dir;
  ASSERT_TRUE(write_file(dir / "taken", reinterpret_cast<const std::uint8_t*>("x"), 1));
  ProcessResult demo = run_process({kRvae, "demo", "--out", dir / "taken/demo"});
  EXPECT_NE(demo.exit_code, 0);
  EXPECT_THAT(demo.err, HasSubstr("taken' exists and is not a directory")) << demo.err;
  EXPECT_THAT(demo.out, Not(HasSubstr("reference endpoint on"))) << demo.out;
}

TEST(CliTest, DemoWritesTheContactSheet) {
  TempDir dir;
  // The tiled round trip at 1024² past a 512 cap: the same tiling as the default 4096² past
  // 2048, at a sixteenth of the pixels (the sanitizer builds run this test too).
  // --out's parents are made too.
  ProcessResult demo =
      run_process({kRvae, "demo", "--out", dir / "new/demo", "--tiled-side", "1024"});
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  EXPECT_THAT(demo.out, HasSubstr("contact_sheet.png"));
  Result<Image> sheet = read_image(dir / "new/demo/contact_sheet.png");
  ASSERT_TRUE(sheet) << sheet.error().what();
  // Layout: 8-pixel gutters, title bands of one line of text at scale 2 (24 pixels) plus a
  // gutter; three rows of 192-pixel cells, then the tiled round trip's row of 384-pixel cells
  // (five of them: whole, naive, rvae and the two full-size crops).
  // Then the video's strip: rows whole, naive, rvae of 96-pixel frames (every 6th of 49).
  constexpr int kTitle = 24 + 8;
  const int tiled_top = 8 + kTitle + 3 * (192 + 8);
  const int video_top = tiled_top + 8 + kTitle + 384 + 8;
  ASSERT_EQ(sheet->height, video_top + 8 + kTitle + 3 * (96 + 8));
  EXPECT_GT(sheet->width, 5 * 384);
  // Labelled: dark text in the title bands and left of every row, where no image is drawn.
  auto dark_pixels = [&](int x0, int x1, int y0, int y1) {
    int count = 0;
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) {
        const std::size_t at = (static_cast<std::size_t>(y) * sheet->width + x) * 3;
        count +=
            sheet->pixels[at] < 100 && sheet->pixels[at + 1] < 100 && sheet->pixels[at + 2] < 100;
      }
    }
    return count;
  };
  EXPECT_GT(dark_pixels(0, sheet->width, 0, 30), 100);  // original | sd15 | sdxl | flux
  for (int row = 0; row < 3; ++row) {
    const int top = 8 + kTitle + row * (192 + 8);
    EXPECT_GT(dark_pixels(0, 40, top, top + 192), 20) << "row " << row << " has no name";
  }
  // whole | naive | rvae | naive 1:1 | rvae 1:1, and the row's name.
  EXPECT_GT(dark_pixels(0, sheet->width, tiled_top + 8, tiled_top + kTitle), 200);
  EXPECT_GT(dark_pixels(0, 40, tiled_top + 8 + kTitle, video_top), 20);
  // frame 0 | frame 6 | ... | frame 48, and the strip's row names.
  EXPECT_GT(dark_pixels(0, sheet->width, video_top + 8, video_top + kTitle), 200);
  for (int row = 0; row < 3; ++row) {
    const int top = video_top + 8 + kTitle + row * (96 + 8);
    EXPECT_GT(dark_pixels(0, 40, top, top + 96), 20) << "video row " << row << " has no name";
  }
  for (const char* model : {"sd15", "sdxl", "flux"}) {
    EXPECT_TRUE(read_image(dir / ("new/demo/astronaut_" + std::string(model) + ".png")));
  }
  // The tiled round trip: rvae's tiles must be far closer to the whole decode than naive ones.
  EXPECT_THAT(demo.out, HasSubstr("1024x1024 sdxl round trip of astronaut.png past the 512 cap"));
  const double naive = demo_psnr(demo.out, "naive"), tiled = demo_psnr(demo.out, "rvae");
  ASSERT_FALSE(std::isnan(naive) || std::isnan(tiled)) << demo.out;
  EXPECT_GE(tiled - naive, 10.0) << demo.out;
  // The video: rvae's chunks within 45 dB and 8 levels of the whole decode, streamed; naive
  // chunks not.
  EXPECT_THAT(demo.out, HasSubstr("49-frame 96x96 hunyuan-video decode"));
  const VideoRow whole = demo_video_row(demo.out, "whole");
  const VideoRow naive_video = demo_video_row(demo.out, "naive");
  const VideoRow rvae_video = demo_video_row(demo.out, "rvae");
  EXPECT_EQ(whole.frames, 49) << demo.out;
  EXPECT_EQ(whole.requests, 1) << demo.out;
  EXPECT_EQ(naive_video.frames, 49) << demo.out;
  EXPECT_EQ(rvae_video.frames, 49) << demo.out;
  EXPECT_GT(naive_video.requests, 1) << demo.out;
  EXPECT_EQ(rvae_video.requests, naive_video.requests + 1) << "the colour reference\n" << demo.out;
  EXPECT_TRUE(rvae_video.first_frame) << demo.out;
  EXPECT_GE(rvae_video.psnr, 45.0) << demo.out;
  EXPECT_LE(rvae_video.max_levels, 8) << demo.out;
  EXPECT_TRUE(naive_video.psnr < 45.0 || naive_video.max_levels > 8) << demo.out;
}

TEST(CliTest, DemoRefusesATiledSideItCannotTile) {
  for (const char* side : {"1000", "256", "9000", "big"}) {
    ProcessResult demo = run_process({kRvae, "demo", "--tiled-side", side});
    EXPECT_EQ(demo.exit_code, 2) << side;
    EXPECT_THAT(demo.err, HasSubstr("--tiled-side")) << side;
  }
}

}  // namespace
}  // namespace rvae::cli_test
