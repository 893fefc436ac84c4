// `rvae decode` streaming replies to their files (issue 21), against an in-process reference
// endpoint whose replies can be stalled or cut mid-body: frames written while the reply is still
// arriving, a cut reply leaving the complete frames and saying which are missing, float tensors
// and MP4s streamed to files identical to those written from a reply held whole, nothing
// half-written left under a file's name, and the --json fields.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli_support.hpp"
#include "rvae/testing/reference_endpoint.hpp"

namespace rvae::cli_test {
namespace {

using reference::ReferenceEndpoint;
using reference::ReplyFault;
using ::testing::HasSubstr;
using ::testing::Not;

// [1, 16, 3, 8, 8] -> 4 * (3 - 1) + 1 = 9 frames of 64x64: an odd count, so half the body (where
// the endpoint's faults cut or stall it) falls inside frame 4.
constexpr int kFrames = 9;
constexpr std::size_t kFrameBytes = 64 * 64 * 3;
// Frames complete in the first half of the body.
constexpr int kFramesInHalf = static_cast<int>(kFrames * kFrameBytes / 2 / kFrameBytes);

std::string frame_name(int index) {
  char name[32];
  std::snprintf(name, sizeof(name), "frame_%05d.png", index);
  return name;
}

// Latents of moderate, smoothly varying values (as a diffusion model's are).
Tensor smooth_latents(const Shape& shape) {
  std::size_t count = 1;
  for (const std::int64_t dim : shape)
    count *= static_cast<std::size_t>(dim);
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i)
    values[i] = static_cast<float>(std::sin(static_cast<double>(i) * 0.05));
  return Tensor::from_floats(shape, values).value();
}

// Waits for `path` to appear (the CLI writes it on its own schedule); false after `timeout`.
bool wait_for_file(const std::string& path, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Polling interval only.
  }
  return exists(path);
}

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(endpoint_.start());
    latents_ = smooth_latents({1, 16, 3, 8, 8});
    ASSERT_TRUE(write_npy(dir_ / "video.npy", latents_.view()));
  }

  std::vector<std::string> decode(std::vector<std::string> extra) const {
    std::vector<std::string> argv = {kRvae,
                                     "decode",
                                     "--model",
                                     "hunyuan-video",
                                     "--endpoint",
                                     endpoint_.url("/hunyuan-video/decode/"),
                                     dir_ / "video.npy"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  // The reply held whole by the library, as the CLI's options ask for it: the expected output.
  DecodeOutput held_whole(OutputType type) const {
    DecodeOptions options = PresetRegistry::builtin().find("hunyuan-video")->decode_options();
    options.output_type = type;
    Client client;
    Result<DecodeOutput> output =
        client.decode(endpoint_.url("/hunyuan-video/decode/"), latents_.view(), options);
    EXPECT_TRUE(output) << output.error().what();
    return output ? std::move(*output) : DecodeOutput{};
  }

  // Frames 0..count-1 in `frames` are those of the reply held whole.
  void expect_frames_of_the_whole_reply(const std::string& frames, int count) const {
    const DecodeOutput whole = held_whole(OutputType::kUInt8);
    ASSERT_EQ(whole.images.size(), static_cast<std::size_t>(kFrames));
    for (int i = 0; i < count; ++i) {
      Result<Image> frame = read_image(frames + "/" + frame_name(i));
      ASSERT_TRUE(frame) << frame_name(i);
      EXPECT_EQ(frame->pixels, whole.images[static_cast<std::size_t>(i)].pixels) << i;
    }
  }

  ReferenceEndpoint endpoint_;
  TempDir dir_;
  Tensor latents_;
};

TEST_F(StreamTest, WritesTheFirstFramesWhileTheReplyIsStillArriving) {
  endpoint_.set_reply_fault(ReplyFault::kStallMidBody, 1);
  Child child(decode({"-o", dir_ / "frames/"}));
  ASSERT_TRUE(endpoint_.wait_until_stalled(1, std::chrono::seconds(30)));
  // The reply is held mid-body: the frames of its first half reach the disk regardless.
  ASSERT_TRUE(
      wait_for_file(dir_ / ("frames/" + frame_name(kFramesInHalf - 1)), std::chrono::seconds(30)));
  EXPECT_EQ(endpoint_.stalled_replies(), 1u);
  EXPECT_FALSE(exists(dir_ / ("frames/" + frame_name(kFramesInHalf))));
  endpoint_.release_stalled();
  const Outcome outcome = child.wait();
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;

  expect_frames_of_the_whole_reply(dir_ / "frames", kFrames);
  EXPECT_EQ(list_dir(dir_ / "frames").size(), static_cast<std::size_t>(kFrames));
}

TEST_F(StreamTest, AReplyCutMidFrameKeepsTheCompleteFramesAndNamesTheMissingOnes) {
  endpoint_.set_reply_fault(ReplyFault::kTruncateBody);  // Every attempt.
  const Outcome outcome = run(decode({"--attempts", "1", "-o", dir_ / "frames/"}));
  EXPECT_EQ(outcome.exit_code, 1);
  const std::string written = "wrote frames 0-" + std::to_string(kFramesInHalf - 1) + " of " +
                              std::to_string(kFrames) + " to " + dir_ / "frames/; " +
                              std::to_string(kFramesInHalf) + "-" + std::to_string(kFrames - 1) +
                              " missing: ";
  EXPECT_THAT(outcome.err, HasSubstr(written));
  EXPECT_THAT(outcome.err, Not(HasSubstr("rvae::")));
  // The complete frames and nothing else: no partial frame, no temporary.
  std::vector<std::string> names = list_dir(dir_ / "frames");
  std::sort(names.begin(), names.end());
  std::vector<std::string> expected;
  for (int i = 0; i < kFramesInHalf; ++i)
    expected.push_back(frame_name(i));
  EXPECT_EQ(names, expected);
  endpoint_.clear_faults();
  expect_frames_of_the_whole_reply(dir_ / "frames", kFramesInHalf);
}

TEST_F(StreamTest, AnInterruptedVideoKeepsItsFramesAndSaysWhichAreMissing) {
  endpoint_.set_reply_fault(ReplyFault::kStallMidBody, 1);
  Child child(decode({"-o", dir_ / "frames/"}));
  ASSERT_TRUE(endpoint_.wait_until_stalled(1, std::chrono::seconds(30)));
  ASSERT_TRUE(
      wait_for_file(dir_ / ("frames/" + frame_name(kFramesInHalf - 1)), std::chrono::seconds(30)));
  child.signal(SIGINT);
  const Outcome outcome = child.wait();
  endpoint_.release_stalled();
  EXPECT_EQ(outcome.exit_code, 130);
  EXPECT_THAT(
      outcome.err,
      HasSubstr("interrupted: wrote frames 0-" + std::to_string(kFramesInHalf - 1) + " of " +
                std::to_string(kFrames) + " to " + dir_ / "frames/; " +
                std::to_string(kFramesInHalf) + "-" + std::to_string(kFrames - 1) + " missing"));
  EXPECT_EQ(list_dir(dir_ / "frames").size(), static_cast<std::size_t>(kFramesInHalf));
  expect_frames_of_the_whole_reply(dir_ / "frames", kFramesInHalf);
}

TEST_F(StreamTest, ARetryAfterACutGoesOnFromTheFramesAlreadyWritten) {
  endpoint_.set_reply_fault(ReplyFault::kTruncateBody, 1);  // The first attempt only.
  const Outcome outcome = run(decode({"--json", "-o", dir_ / "frames/"}));
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const nlohmann::json report = nlohmann::json::parse(outcome.out);
  EXPECT_EQ(report.at("attempts"), 2);
  EXPECT_EQ(report.at("frames_written"), kFrames);
  expect_frames_of_the_whole_reply(dir_ / "frames", kFrames);
  EXPECT_EQ(list_dir(dir_ / "frames").size(), static_cast<std::size_t>(kFrames));
}

TEST_F(StreamTest, JsonReportsFramesWrittenAndTheFirstFrameLatency) {
  const auto started = std::chrono::steady_clock::now();
  const Outcome ok = run(decode({"--json", "-o", dir_ / "frames/"}));
  const double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const nlohmann::json report = nlohmann::json::parse(ok.out);
  EXPECT_EQ(report.at("ok"), true);
  EXPECT_EQ(report.at("frames_written"), kFrames);
  EXPECT_EQ(report.at("shape"), nlohmann::json::array({kFrames, 64, 64, 3}));
  ASSERT_TRUE(report.at("first_frame_ms").is_number());
  EXPECT_GE(report.at("first_frame_ms").get<double>(), 0.0);
  // Measured inside the process, so within its lifetime.
  EXPECT_LE(report.at("first_frame_ms").get<double>(), wall_ms);

  endpoint_.set_reply_fault(ReplyFault::kTruncateBody);
  const Outcome cut = run(decode({"--json", "--attempts", "1", "-o", dir_ / "cut/"}));
  EXPECT_EQ(cut.exit_code, 1);
  const nlohmann::json failed = nlohmann::json::parse(cut.out);
  EXPECT_EQ(failed.at("ok"), false);
  EXPECT_EQ(failed.at("frames_written"), kFramesInHalf);
  EXPECT_EQ(failed.at("output"), dir_ / "cut/");
  EXPECT_THAT(
      failed.at("error").at("message").get<std::string>(),
      HasSubstr(std::to_string(kFramesInHalf) + "-" + std::to_string(kFrames - 1) + " missing"));

  // Not frames: the fields are there, and null.
  endpoint_.clear_faults();
  const Outcome tensor = run(decode({"--json", "--output-type", "tensor", "-o", dir_ / "t.npy"}));
  ASSERT_EQ(tensor.exit_code, 0) << tensor.err;
  const nlohmann::json tensor_report = nlohmann::json::parse(tensor.out);
  EXPECT_TRUE(tensor_report.at("frames_written").is_null());
  EXPECT_TRUE(tensor_report.at("first_frame_ms").is_null());
}

TEST_F(StreamTest, AFrameThatCannotBeWrittenEndsTheDecodeAndSaysWhatIsOnDisk) {
  // A directory where frame 2's file should go.
  ASSERT_TRUE(make_dir(dir_ / "frames"));
  ASSERT_TRUE(make_dir(dir_ / ("frames/" + frame_name(2))));
  const Outcome outcome = run(decode({"-o", dir_ / "frames/"}));
  EXPECT_EQ(outcome.exit_code, 1);
  // The cause in our words, not the library's for a failed callback.
  EXPECT_THAT(outcome.err, HasSubstr("InvalidArgument: wrote frames 0-1 of 9 to " +
                                     dir_ / "frames/; 2-8 missing: cannot write '" +
                                     dir_ / ("frames/" + frame_name(2)) + "': Is a directory\n"));
  EXPECT_FALSE(exists(dir_ / ("frames/" + frame_name(3))));
}

TEST_F(StreamTest, ManyFramesToOneFileAreRefusedBeforeSending) {
  const Outcome outcome = run(decode({"--output-type", "uint8", "-o", dir_ / "one.png"}));
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("the reply holds 9 images; give a directory"));
  EXPECT_EQ(endpoint_.stats().inference_requests, 0u);
  EXPECT_FALSE(exists(dir_ / "one.png"));
}

TEST_F(StreamTest, FloatNpyStreamedIsByteIdenticalToTheReplyHeldWhole) {
  const Outcome streamed = run(decode({"--output-type", "tensor", "-o", dir_ / "t.npy"}));
  ASSERT_EQ(streamed.exit_code, 0) << streamed.err;
  // -o - holds the reply whole and writes it with the library's .npy writer.
  const Outcome whole = run(decode({"--output-type", "tensor", "-o", "-"}));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const Bytes file = read_file(dir_ / "t.npy").value();
  ASSERT_EQ(std::string(file.begin(), file.end()), whole.out);
  EXPECT_EQ(list_dir(dir_.path()).size(), 2u);  // video.npy, t.npy: no temporary left.

  // The same tensor as .safetensors (its header sized before the dtype was known).
  const Outcome safetensors =
      run(decode({"--output-type", "tensor", "-o", dir_ / "t.safetensors"}));
  ASSERT_EQ(safetensors.exit_code, 0) << safetensors.err;
  const std::vector<NamedTensor> tensors = read_safetensors(dir_ / "t.safetensors").value();
  ASSERT_EQ(tensors.size(), 1u);
  EXPECT_EQ(tensors[0].name, "images");
  const Tensor npy = read_npy(dir_ / "t.npy").value();
  EXPECT_EQ(tensors[0].tensor.shape(), npy.shape());
  EXPECT_EQ(tensors[0].tensor.dtype(), npy.dtype());
  EXPECT_TRUE(std::equal(npy.data(), npy.data() + npy.size_bytes(), tensors[0].tensor.data(),
                         tensors[0].tensor.data() + tensors[0].tensor.size_bytes()));
}

TEST_F(StreamTest, AFloatTensorDecodedInTemporalChunksIsHeldWholeAndWritten) {
  // [1, 16, 9, 8, 8] -> 33 frames, in chunks of 12 frames.
  const Tensor long_latents = smooth_latents({1, 16, 9, 8, 8});
  ASSERT_TRUE(write_npy(dir_ / "long.npy", long_latents.view()));
  const std::vector<std::string> base = {kRvae,
                                         "decode",
                                         "--model",
                                         "hunyuan-video",
                                         "--endpoint",
                                         endpoint_.url("/hunyuan-video/decode/"),
                                         dir_ / "long.npy",
                                         "--frames-per-request",
                                         "12"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = base;
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  };
  // Chunks hand out whole frames only: the tensor is held and written at the end.
  const Outcome chunked = run(with({"--output-type", "tensor", "-o", dir_ / "chunked.npy"}));
  ASSERT_EQ(chunked.exit_code, 0) << chunked.err;
  EXPECT_GT(endpoint_.stats().inference_requests, 2u);  // Chunked indeed.
  const Outcome whole = run(with({"--output-type", "tensor", "-o", "-"}));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const Bytes file = read_file(dir_ / "chunked.npy").value();
  EXPECT_EQ(std::string(file.begin(), file.end()), whole.out);
  EXPECT_EQ(read_npy(dir_ / "chunked.npy").value().shape(), (Shape{1, 3, 33, 64, 64}));

  // Frames of chunks stream as their blend completes.
  const Outcome frames = run(with({"--json", "-o", dir_ / "frames/"}));
  ASSERT_EQ(frames.exit_code, 0) << frames.err;
  EXPECT_EQ(nlohmann::json::parse(frames.out).at("frames_written"), 33);
  EXPECT_EQ(list_dir(dir_ / "frames").size(), 33u);
}

TEST_F(StreamTest, ABfloat16ReplyIsWidenedInTheNpyAsWhenHeldWhole) {
  // Flux's decoder answers float tensors in bfloat16, which .npy cannot hold.
  const Tensor image_latents = smooth_latents({1, 16, 4, 6});
  ASSERT_TRUE(write_npy(dir_ / "image.npy", image_latents.view()));
  const std::vector<std::string> base = {kRvae,
                                         "decode",
                                         "--model",
                                         "flux",
                                         "--endpoint",
                                         endpoint_.url("/flux/decode/"),
                                         dir_ / "image.npy",
                                         "--output-type",
                                         "tensor"};
  std::vector<std::string> to_file = base;
  to_file.insert(to_file.end(), {"-o", dir_ / "f.npy"});
  std::vector<std::string> to_stdout = base;
  to_stdout.insert(to_stdout.end(), {"-o", "-"});
  const Outcome streamed = run(to_file);
  ASSERT_EQ(streamed.exit_code, 0) << streamed.err;
  const Outcome whole = run(to_stdout);
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const Bytes file = read_file(dir_ / "f.npy").value();
  EXPECT_EQ(std::string(file.begin(), file.end()), whole.out);
  EXPECT_EQ(read_npy(dir_ / "f.npy").value().dtype(), DType::kFloat32);
}

TEST_F(StreamTest, ATensorReplyCutShortLeavesNoFile) {
  endpoint_.set_reply_fault(ReplyFault::kTruncateBody);
  for (const char* name : {"t.npy", "t.safetensors"}) {
    const Outcome outcome =
        run(decode({"--attempts", "1", "--output-type", "tensor", "-o", dir_ / name}));
    EXPECT_EQ(outcome.exit_code, 1) << name;
    EXPECT_FALSE(exists(dir_ / name)) << name;
  }
  EXPECT_EQ(list_dir(dir_.path()), std::vector<std::string>{"video.npy"});
  // --json names no output for it.
  const Outcome json = run(decode(
      {"--json", "--attempts", "1", "--output-type", "tensor", "-o", dir_ / "t.safetensors"}));
  EXPECT_EQ(json.exit_code, 1);
  EXPECT_TRUE(nlohmann::json::parse(json.out).at("output").is_null());
}

TEST_F(StreamTest, OpenInferenceSafetensorsIsByteIdenticalToTheLibrarysWriter) {
  // The model's metadata names the dtype before sending: the header is exact from the start.
  const std::string model = endpoint_.url("/v2/models/hunyuan-video_decoder");
  const Outcome streamed =
      run({kRvae, "decode", "--model", "hunyuan-video", "--endpoint", model, dir_ / "video.npy",
           "--output-type", "tensor", "-o", dir_ / "t.safetensors"});
  ASSERT_EQ(streamed.exit_code, 0) << streamed.err;
  DecodeOptions options = PresetRegistry::builtin().find("hunyuan-video")->decode_options();
  options.output_type = OutputType::kFloatTensor;
  Client client;
  Result<DecodeOutput> whole = client.decode(model, latents_.view(), options);
  ASSERT_TRUE(whole) << whole.error().what();
  const Bytes expected = serialize_safetensors({{"images", whole->tensor.view()}}).value();
  EXPECT_EQ(read_file(dir_ / "t.safetensors").value(), expected);
}

TEST_F(StreamTest, ATensorFileThatCannotBeRenamedIntoPlaceLeavesNothingBehind) {
  // A directory where the file should go: the rename at the end fails.
  ASSERT_TRUE(make_dir(dir_ / "t.npy"));
  const Outcome outcome = run(decode({"--output-type", "tensor", "-o", dir_ / "t.npy"}));
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("cannot write '" + dir_ / "t.npy" + "'"));
  std::vector<std::string> names = list_dir(dir_.path());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"t.npy", "video.npy"}));  // No temporary.
}

TEST_F(StreamTest, ATensorWriteThatFailsMidReplyEndsTheCallAndLeavesNoFile) {
#ifdef _WIN32
  GTEST_SKIP() << "Windows has no per-process file size limit (prlimit, SIGXFSZ) to make a "
                  "write fail mid-reply";
#else
  if (!exists("/usr/bin/prlimit")) GTEST_SKIP() << "no prlimit to cap the file size";
  // Files past 64 KiB fail with EFBIG (SIGXFSZ, ignored here, stays ignored in the child).
  struct sigaction ignore {};
  struct sigaction previous {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &previous), 0);
  std::vector<std::string> argv = decode({"--output-type", "tensor", "-o", dir_ / "t.npy"});
  argv.insert(argv.begin(), {"/usr/bin/prlimit", "--fsize=65536", "--"});
  const Outcome outcome = run(argv);
  ::sigaction(SIGXFSZ, &previous, nullptr);
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("ResourceExhausted: cannot write '" + dir_ / "t.npy" +
                                     "': File too large\n"));
  EXPECT_EQ(list_dir(dir_.path()), std::vector<std::string>{"video.npy"});
#endif
}

TEST_F(StreamTest, ATensorFileThatCannotBeCreatedFailsBeforeSending) {
  const Outcome outcome = run(decode({"--output-type", "tensor", "-o", dir_ / "absent/t.npy"}));
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("cannot write '" + dir_ / "absent/t.npy" + "'"));
  EXPECT_EQ(endpoint_.stats().inference_requests, 0u);
}

TEST_F(StreamTest, Mp4StreamsToAHiddenFileRenamedWhenComplete) {
#if RVAE_HAVE_FFMPEG
  endpoint_.set_reply_fault(ReplyFault::kStallMidBody, 1);
  Child child(decode({"-o", dir_ / "clip.mp4"}));
  ASSERT_TRUE(endpoint_.wait_until_stalled(1, std::chrono::seconds(30)));
  // Mid-reply nothing is under the file's name.
  EXPECT_FALSE(exists(dir_ / "clip.mp4"));
  endpoint_.release_stalled();
  const Outcome outcome = child.wait();
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const Bytes file = read_file(dir_ / "clip.mp4").value();
  const DecodeOutput whole = held_whole(OutputType::kMp4);
  EXPECT_EQ(file, whole.encoded);
  EXPECT_EQ(list_dir(dir_.path()).size(), 2u);

  endpoint_.set_reply_fault(ReplyFault::kTruncateBody);
  const Outcome cut = run(decode({"--attempts", "1", "-o", dir_ / "cut.mp4"}));
  EXPECT_EQ(cut.exit_code, 1);
  EXPECT_FALSE(exists(dir_ / "cut.mp4"));
  EXPECT_EQ(list_dir(dir_.path()).size(), 2u);
#else
  GTEST_SKIP() << "the reference endpoint was built without FFmpeg";
#endif
}

}  // namespace
}  // namespace rvae::cli_test
