// output_type=mp4: with FFmpeg the endpoint answers video latents with an MP4 file, read back
// here with FFmpeg's own demuxer and decoder and compared with the uint8 frames of the same
// latents; without FFmpeg it refuses with HTTP 400.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "reference_test_support.hpp"
#include "rvae/client.hpp"
#include "rvae/tensor.hpp"

#if defined(RVAE_HAVE_FFMPEG) && RVAE_HAVE_FFMPEG
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "testing/mp4_writer.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}
#endif

namespace rvae::testing_test {
namespace {

constexpr const char* kVideoPath = "/hunyuan-video/decode/";

// Query of a video decode request (PROTOCOL.md §3 order).
std::string video_query(const std::string& output_type, const rvae::Shape& shape) {
  return "image_format=jpg&output_type=" + output_type + "&partial_postprocess=False&" +
         shape_query(shape) + "&dtype=float32";
}

class Mp4Test : public EndpointTest {
 protected:
  // POSTs to `path` and returns the error text of a 400 JSON reply.
  std::string refused(const std::string& path, const std::string& query, const std::string& body,
                      const std::string& accept = "text/plain") {
    auto res = post(path + "?" + query, body, "tensor/binary", accept);
    if (!res) return "<no reply>";
    EXPECT_EQ(res->status, 400) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    return error_text(res->body);
  }
};

#if !(defined(RVAE_HAVE_FFMPEG) && RVAE_HAVE_FFMPEG)

TEST_F(Mp4Test, WithoutFfmpegVideoToMp4IsRefused) {
  const rvae::Shape shape{1, 16, 2, 1, 1};
  EXPECT_EQ(refused(kVideoPath, video_query("mp4", shape), to_body(make_latents(32, 1))),
            "MP4 output needs FFmpeg, not built in to this reference endpoint; use "
            "output_type=pt.");
  rvae::Client client;
  rvae::DecodeOptions options;
  options.output_type = rvae::OutputType::kMp4;
  const std::vector<float> latents = make_latents(32, 1);
  rvae::Result<rvae::DecodeOutput> out =
      client.decode(endpoint_->url(kVideoPath), view_of(latents, shape), options);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), rvae::ErrorCode::kInvalidArgument);
  EXPECT_EQ(out.error().http_status(), 400);
  EXPECT_NE(out.error().server_message().find("MP4 output needs FFmpeg"), std::string::npos)
      << out.error().server_message();
}

#else

// ---- Reading an MP4 back with libavformat/libavcodec, independent of the writer's code.

struct DecodedVideo {
  AVCodecID codec = AV_CODEC_ID_NONE;
  AVRational frame_rate{0, 1};
  int width = 0;
  int height = 0;
  std::vector<std::vector<std::uint8_t> > frames;  // RGB24, packed rows
};

struct InputDeleter {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct CodecDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsDeleter {
  void operator()(SwsContext* c) const { sws_freeContext(c); }
};

// A file holding `bytes`, removed when this goes out of scope.
class ScratchFile {
 public:
  explicit ScratchFile(const rvae::Bytes& bytes) {
    std::string pattern = "/tmp/rvae-mp4-test-XXXXXX";
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0) return;
    path_ = pattern;
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    ok_ = done == bytes.size();
  }
  ~ScratchFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool ok_ = false;
};

// Converts one decoded frame to packed RGB24 (BT.601, limited -> full range, the inverse of
// what an MP4 writer of yuv420p is expected to use). Point chroma upsampling with accurate
// rounding: swscale's default path biases YUV -> RGB about one level low, and the test
// videos' 8x8 blocks are chroma-aligned, so nearest chroma is exact for them.
::testing::AssertionResult append_rgb(const AVFrame* frame, DecodedVideo* video) {
  std::unique_ptr<SwsContext, SwsDeleter> sws(
      sws_getContext(frame->width, frame->height, static_cast<AVPixelFormat>(frame->format),
                     frame->width, frame->height, AV_PIX_FMT_RGB24,
                     SWS_POINT | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr));
  if (!sws) return ::testing::AssertionFailure() << "sws_getContext";
  const int* bt601 = sws_getCoefficients(SWS_CS_ITU601);
  if (sws_setColorspaceDetails(sws.get(), bt601, 0, bt601, 1, 0, 1 << 16, 1 << 16) < 0) {
    return ::testing::AssertionFailure() << "sws_setColorspaceDetails";
  }
  std::unique_ptr<AVFrame, FrameDeleter> rgb(av_frame_alloc());
  if (!rgb) return ::testing::AssertionFailure() << "av_frame_alloc";
  rgb->format = AV_PIX_FMT_RGB24;
  rgb->width = frame->width;
  rgb->height = frame->height;
  if (av_frame_get_buffer(rgb.get(), 0) < 0) {
    return ::testing::AssertionFailure() << "av_frame_get_buffer";
  }
  if (sws_scale(sws.get(), frame->data, frame->linesize, 0, frame->height, rgb->data,
                rgb->linesize) != frame->height) {
    return ::testing::AssertionFailure() << "sws_scale";
  }
  const auto row = static_cast<std::size_t>(frame->width) * 3;
  std::vector<std::uint8_t> packed(row * static_cast<std::size_t>(frame->height));
  for (int y = 0; y < frame->height; ++y) {
    std::copy_n(rgb->data[0] + static_cast<std::ptrdiff_t>(y) * rgb->linesize[0], row,
                packed.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(y) * row));
  }
  video->frames.push_back(std::move(packed));
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult receive_frames(AVCodecContext* codec, AVFrame* frame,
                                          DecodedVideo* video) {
  for (;;) {
    const int ret = avcodec_receive_frame(codec, frame);
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return ::testing::AssertionSuccess();
    if (ret < 0) return ::testing::AssertionFailure() << "avcodec_receive_frame " << ret;
    if (frame->width != video->width || frame->height != video->height) {
      return ::testing::AssertionFailure()
             << "frame of " << frame->width << "x" << frame->height << " in a " << video->width
             << "x" << video->height << " stream";
    }
    ::testing::AssertionResult appended = append_rgb(frame, video);
    av_frame_unref(frame);
    if (!appended) return appended;
  }
}

::testing::AssertionResult read_mp4(const rvae::Bytes& bytes, DecodedVideo* video) {
  ScratchFile file(bytes);
  if (!file.ok()) return ::testing::AssertionFailure() << "cannot write a scratch file";
  AVFormatContext* raw = nullptr;
  if (avformat_open_input(&raw, file.path().c_str(), nullptr, nullptr) < 0) {
    return ::testing::AssertionFailure() << "avformat_open_input refuses the file";
  }
  std::unique_ptr<AVFormatContext, InputDeleter> input(raw);
  if (std::string(input->iformat->name).find("mp4") == std::string::npos) {
    return ::testing::AssertionFailure() << "demuxed as " << input->iformat->name;
  }
  if (avformat_find_stream_info(input.get(), nullptr) < 0) {
    return ::testing::AssertionFailure() << "avformat_find_stream_info";
  }
  const int index = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (index < 0) return ::testing::AssertionFailure() << "no video stream";
  const AVStream* stream = input->streams[index];
  const AVCodec* decoder = avcodec_find_decoder(stream->codecpar->codec_id);
  if (decoder == nullptr) return ::testing::AssertionFailure() << "no decoder";
  std::unique_ptr<AVCodecContext, CodecDeleter> codec(avcodec_alloc_context3(decoder));
  if (!codec || avcodec_parameters_to_context(codec.get(), stream->codecpar) < 0) {
    return ::testing::AssertionFailure() << "avcodec_parameters_to_context";
  }
  codec->thread_count = 1;
  if (avcodec_open2(codec.get(), decoder, nullptr) < 0) {
    return ::testing::AssertionFailure() << "avcodec_open2";
  }
  video->codec = stream->codecpar->codec_id;
  video->frame_rate = stream->avg_frame_rate;
  video->width = stream->codecpar->width;
  video->height = stream->codecpar->height;
  std::unique_ptr<AVPacket, PacketDeleter> packet(av_packet_alloc());
  std::unique_ptr<AVFrame, FrameDeleter> frame(av_frame_alloc());
  if (!packet || !frame) return ::testing::AssertionFailure() << "alloc";
  for (;;) {
    const int ret = av_read_frame(input.get(), packet.get());
    if (ret == AVERROR_EOF) break;
    if (ret < 0) return ::testing::AssertionFailure() << "av_read_frame " << ret;
    if (packet->stream_index == index) {
      const int sent = avcodec_send_packet(codec.get(), packet.get());
      av_packet_unref(packet.get());
      if (sent < 0) return ::testing::AssertionFailure() << "avcodec_send_packet " << sent;
      auto received = receive_frames(codec.get(), frame.get(), video);
      if (!received) return received;
    } else {
      av_packet_unref(packet.get());
    }
  }
  if (avcodec_send_packet(codec.get(), nullptr) < 0) {
    return ::testing::AssertionFailure() << "flush";
  }
  return receive_frames(codec.get(), frame.get(), video);
}

// ---- Comparisons.

// Mean of |a - b| over every sample of two equally sized frames.
double mean_abs_diff(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  if (a.size() != b.size() || a.empty()) return 1e9;
  double sum = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i)
    sum += std::abs(static_cast<int>(a[i]) - static_cast<int>(b[i]));
  return sum / static_cast<double>(a.size());
}

// Largest difference of the per-channel means of two frames.
double channel_mean_diff(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  if (a.size() != b.size() || a.empty()) return 1e9;
  double worst = 0.0;
  for (std::size_t k = 0; k < 3; ++k) {
    double sa = 0.0;
    double sb = 0.0;
    for (std::size_t i = k; i < a.size(); i += 3) {
      sa += a[i];
      sb += b[i];
    }
    worst = std::max(worst, std::fabs(sa - sb) / static_cast<double>(a.size() / 3));
  }
  return worst;
}

// Tolerances for a lossy codec, from measured values (printed below as "[ measured ]") with
// headroom: libx264 at CRF 18 and mpeg4 at q=2 on the stand-in VAE's flat 8x8 blocks.
constexpr double kMaxMeanAbsDiff = 4.0;      // levels, averaged over a frame's samples
constexpr double kMaxChannelMeanDiff = 2.0;  // levels, per-channel means of a frame

AVCodecID expected_codec() {
  return avcodec_find_encoder_by_name("libx264") != nullptr ? AV_CODEC_ID_H264 : AV_CODEC_ID_MPEG4;
}

rvae::Result<rvae::DecodeOutput> decode_with(rvae::Client& client, const std::string& url,
                                             const std::vector<float>& latents,
                                             const rvae::Shape& shape, rvae::OutputType type) {
  rvae::DecodeOptions options;
  options.output_type = type;
  return client.decode(url, view_of(latents, shape), options);
}

TEST_F(Mp4Test, ClientGetsAnMp4WhoseFramesMatchTheUInt8Frames) {
  const rvae::Shape shape{1, 16, 3, 4, 6};  // T = 3: 4*(3-1)+1 = 9 frames of 48x32
  const std::vector<float> latents = make_latents(16 * 3 * 4 * 6, 11);
  rvae::Client client;
  const std::string url = endpoint_->url(kVideoPath);
  // The client accepts the reply only when it starts with an `ftyp` box.
  rvae::Result<rvae::DecodeOutput> mp4 =
      decode_with(client, url, latents, shape, rvae::OutputType::kMp4);
  ASSERT_TRUE(mp4) << mp4.error().what();
  EXPECT_EQ(mp4->type, rvae::OutputType::kMp4);
  rvae::Result<rvae::DecodeOutput> pixels =
      decode_with(client, url, latents, shape, rvae::OutputType::kUInt8);
  ASSERT_TRUE(pixels) << pixels.error().what();
  ASSERT_EQ(pixels->images.size(), 9u);

  DecodedVideo video;
  ASSERT_TRUE(read_mp4(mp4->encoded, &video));
  EXPECT_EQ(video.codec, expected_codec());
  EXPECT_EQ(video.frame_rate.num, 24 * video.frame_rate.den);  // 24 fps, as documented
  EXPECT_EQ(video.width, 48);
  EXPECT_EQ(video.height, 32);
  ASSERT_EQ(video.frames.size(), 9u);

  double worst_mean_abs = 0.0;
  double worst_channel_mean = 0.0;
  for (std::size_t f = 0; f < 9; ++f) {
    SCOPED_TRACE("frame " + std::to_string(f));
    const rvae::Image& reference = pixels->images[f];
    ASSERT_EQ(reference.width, 48);
    ASSERT_EQ(reference.height, 32);
    const std::vector<std::uint8_t> expected(reference.pixels.begin(), reference.pixels.end());
    const double mean_abs = mean_abs_diff(video.frames[f], expected);
    const double channel_mean = channel_mean_diff(video.frames[f], expected);
    EXPECT_LT(mean_abs, kMaxMeanAbsDiff);
    EXPECT_LT(channel_mean, kMaxChannelMeanDiff);
    worst_mean_abs = std::max(worst_mean_abs, mean_abs);
    worst_channel_mean = std::max(worst_channel_mean, channel_mean);
  }
  std::printf(
      "[ measured ] %s vs uint8: worst frame mean |diff| %.3f, worst channel-mean diff "
      "%.3f levels\n",
      avcodec_get_name(video.codec), worst_mean_abs, worst_channel_mean);

  // Latent frame 1 gives frames 1..4 and latent frame 2 frames 5..8: near-identical within a
  // group, clearly different across groups (the reference frames differ by far more).
  for (std::size_t f = 2; f <= 4; ++f)
    EXPECT_LT(mean_abs_diff(video.frames[f], video.frames[1]), kMaxMeanAbsDiff) << f;
  for (std::size_t f = 6; f <= 8; ++f)
    EXPECT_LT(mean_abs_diff(video.frames[f], video.frames[5]), kMaxMeanAbsDiff) << f;
  EXPECT_GT(mean_abs_diff(video.frames[0], video.frames[1]), 4 * kMaxMeanAbsDiff);
  EXPECT_GT(mean_abs_diff(video.frames[1], video.frames[5]), 4 * kMaxMeanAbsDiff);
}

TEST_F(Mp4Test, OneLatentFrameGivesAOneFrameVideo) {
  const rvae::Shape shape{1, 16, 1, 2, 2};
  const std::vector<float> latents = make_latents(16 * 4, 3);
  auto res = post(std::string(kVideoPath) + "?" + video_query("mp4", shape), to_body(latents),
                  "tensor/binary", "text/plain");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain", 0), 0u);
  const rvae::Bytes bytes(res->body.begin(), res->body.end());
  DecodedVideo video;
  ASSERT_TRUE(read_mp4(bytes, &video));
  ASSERT_EQ(video.frames.size(), 1u);
  EXPECT_EQ(video.width, 16);
  EXPECT_EQ(video.height, 16);
}

TEST_F(Mp4Test, ConcurrentRequestsGetTheSameFile) {
  const rvae::Shape shape{1, 16, 2, 2, 3};
  const std::vector<float> latents = make_latents(16 * 2 * 6, 5);
  rvae::Client client;
  rvae::DecodeOptions options;
  options.output_type = rvae::OutputType::kMp4;
  const std::vector<rvae::TensorView> views(4, view_of(latents, shape));
  std::vector<rvae::Result<rvae::DecodeOutput> > outs =
      client.decode_batch(endpoint_->url(kVideoPath), views, options);
  ASSERT_EQ(outs.size(), 4u);
  for (const auto& out : outs) {
    ASSERT_TRUE(out) << out.error().what();
    EXPECT_EQ(out->encoded, outs[0]->encoded);  // one encoder thread: deterministic
  }
  DecodedVideo video;
  ASSERT_TRUE(read_mp4(outs[0]->encoded, &video));
  EXPECT_EQ(video.frames.size(), 5u);
}

TEST_F(Mp4Test, BatchOfTwoIsRefused) {
  const rvae::Shape shape{2, 16, 2, 1, 1};
  const std::vector<float> latents = make_latents(64, 2);
  EXPECT_EQ(refused(kVideoPath, video_query("mp4", shape), to_body(latents)),
            "output_type=mp4 returns one video: it needs batch 1, got latents of shape "
            "[2,16,2,1,1].");
  rvae::Client client;
  rvae::Result<rvae::DecodeOutput> out =
      decode_with(client, endpoint_->url(kVideoPath), latents, shape, rvae::OutputType::kMp4);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), rvae::ErrorCode::kInvalidArgument);
  EXPECT_EQ(out.error().http_status(), 400);
  EXPECT_NE(out.error().server_message().find("it needs batch 1"), std::string::npos)
      << out.error().server_message();
}

TEST_F(Mp4Test, ImageLatentsAreRefused) {
  // A video model keeps its 5-D rule; an image model has no video to give.
  EXPECT_EQ(refused(kVideoPath, video_query("mp4", {1, 16, 2, 2}), to_body(make_latents(64, 1))),
            "hunyuan-video decodes 5-D latents [B, C, T, h, w]; got [1,16,2,2].");
  EXPECT_EQ(
      refused("/sd15/decode/", video_query("mp4", {1, 4, 2, 2}), to_body(make_latents(16, 1))),
      "output_type=mp4 returns a video: it needs a video model; sd15 decodes images.");
}

TEST_F(Mp4Test, NeedsAcceptTextPlain) {
  const rvae::Shape shape{1, 16, 2, 1, 1};
  const std::string body = to_body(make_latents(32, 1));
  EXPECT_EQ(refused(kVideoPath, video_query("mp4", shape), body, "tensor/binary"),
            "output_type=mp4 needs `Accept: text/plain`, got `tensor/binary`.");
  const RawReply none =
      raw_post(endpoint_->port(), std::string(kVideoPath) + "?" + video_query("mp4", shape), body,
               {"Content-Type: tensor/binary"});
  EXPECT_EQ(none.status, 400);
  EXPECT_EQ(error_text(none.body), "output_type=mp4 needs `Accept: text/plain`, got ``.");
}

TEST_F(Mp4Test, FileOverTheReplyCapIsRefused) {
  // One 8x8 frame is 192 bytes raw, but an MP4 carries several hundred bytes of boxes.
  rvae::reference::ReferenceEndpointOptions options;
  options.max_reply_bytes = 300;
  start_with(options);
  const std::string text =
      refused(kVideoPath, video_query("mp4", {1, 16, 1, 1, 1}), to_body(make_latents(16, 1)));
  EXPECT_EQ(text.rfind("The MP4 file has ", 0), 0u) << text;
  EXPECT_NE(text.find("more than the cap of 300 bytes."), std::string::npos) << text;
}

TEST_F(Mp4Test, EncoderFailureIsA500WithAJsonError) {
  // The endpoint's writer puts its temporary file in $TMPDIR; a missing one fails the encode.
  // The worker reads the variable only while serving the request posted below.
  const char* old_value = std::getenv("TMPDIR");
  const std::string saved = old_value != nullptr ? old_value : "";
  ASSERT_EQ(::setenv("TMPDIR", "/nonexistent-rvae-mp4-test", 1), 0);
  auto res = post(std::string(kVideoPath) + "?" + video_query("mp4", {1, 16, 1, 1, 1}),
                  to_body(make_latents(16, 1)), "tensor/binary", "text/plain");
  if (old_value != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(error_text(res->body).rfind("MP4 encoding failed: cannot create a temporary file "
                                        "/nonexistent-rvae-mp4-test/rvae-mp4-",
                                        0),
            0u)
      << res->body;
}

// ---- The writer alone: the fallback encoder and every error path.

class Mp4WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = "/tmp/rvae-mp4-dir-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    settings_.temp_dir = dir_;
  }
  void TearDown() override {
    if (!dir_.empty()) ::rmdir(dir_.c_str());  // Fails (harmlessly) if a file was left behind.
  }

  // Names in the temp directory (the writer must leave none behind).
  std::vector<std::string> leftovers() const {
    std::vector<std::string> names;
    DIR* dir = ::opendir(dir_.c_str());
    if (dir == nullptr) return {"<cannot open>"};
    while (const dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
    return names;
  }

  // Frames of flat 8x8 blocks, each block a different colour, every frame a different pattern.
  static std::vector<std::uint8_t> blocks(std::size_t frames, int width, int height) {
    std::vector<std::uint8_t> rgb;
    for (std::size_t f = 0; f < frames; ++f) {
      for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
          const auto block = static_cast<unsigned>((y / 8) * 7 + (x / 8) * 3) + 5 * f;
          rgb.push_back(static_cast<std::uint8_t>(30 + (block * 37) % 200));
          rgb.push_back(static_cast<std::uint8_t>(30 + (block * 59) % 200));
          rgb.push_back(static_cast<std::uint8_t>(30 + (block * 83) % 200));
        }
      }
    }
    return rgb;
  }

  std::string dir_;
  rvae::reference::Mp4Settings settings_;
};

TEST_F(Mp4WriterTest, DefaultEncoderIsLibx264WhenAvailable) {
  EXPECT_EQ(rvae::reference::mp4_encoder_name(rvae::reference::Mp4Settings{}.encoders),
            expected_codec() == AV_CODEC_ID_H264 ? "libx264" : "mpeg4");
  EXPECT_EQ(rvae::reference::mp4_encoder_name({"no-such-encoder", "mpeg4"}), "mpeg4");
  EXPECT_EQ(rvae::reference::mp4_encoder_name({"no-such-encoder"}), "");
}

TEST_F(Mp4WriterTest, Mpeg4FallbackRoundTrips) {
  settings_.encoders = {"mpeg4"};
  const std::vector<std::uint8_t> rgb = blocks(5, 32, 16);
  rvae::Result<rvae::Bytes> mp4 =
      rvae::reference::encode_mp4(rgb.data(), rgb.size(), 5, 32, 16, settings_);
  ASSERT_TRUE(mp4) << mp4.error().what();
  EXPECT_TRUE(leftovers().empty());
  ASSERT_GE(mp4->size(), 8u);
  EXPECT_EQ(std::string(mp4->begin() + 4, mp4->begin() + 8), "ftyp");
  DecodedVideo video;
  ASSERT_TRUE(read_mp4(*mp4, &video));
  EXPECT_EQ(video.codec, AV_CODEC_ID_MPEG4);
  EXPECT_EQ(video.frame_rate.num, 24 * video.frame_rate.den);
  ASSERT_EQ(video.frames.size(), 5u);
  const std::size_t frame_bytes = 32 * 16 * 3;
  double worst = 0.0;
  for (std::size_t f = 0; f < 5; ++f) {
    const std::vector<std::uint8_t> expected(
        rgb.begin() + static_cast<std::ptrdiff_t>(f * frame_bytes),
        rgb.begin() + static_cast<std::ptrdiff_t>((f + 1) * frame_bytes));
    const double diff = mean_abs_diff(video.frames[f], expected);
    EXPECT_LT(diff, kMaxMeanAbsDiff) << f;
    EXPECT_LT(channel_mean_diff(video.frames[f], expected), kMaxChannelMeanDiff) << f;
    worst = std::max(worst, diff);
  }
  std::printf("[ measured ] mpeg4 q=2 on 8x8 blocks: worst frame mean |diff| %.3f levels\n", worst);
}

TEST_F(Mp4WriterTest, BadArgumentsAreInvalid) {
  const std::vector<std::uint8_t> rgb = blocks(2, 16, 16);
  auto code = [&](std::size_t bytes, std::size_t frames, int width, int height) {
    rvae::Result<rvae::Bytes> out =
        rvae::reference::encode_mp4(rgb.data(), bytes, frames, width, height, settings_);
    return out ? std::string("ok")
               : std::string(rvae::to_string(out.error().code())) + ": " + out.error().message();
  };
  EXPECT_EQ(code(rgb.size(), 2, 15, 16),
            "InvalidArgument: MP4 frames must have positive even sizes (yuv420p), got 15x16.");
  EXPECT_EQ(code(rgb.size(), 2, 16, 0),
            "InvalidArgument: MP4 frames must have positive even sizes (yuv420p), got 16x0.");
  EXPECT_EQ(code(0, 0, 16, 16), "InvalidArgument: An MP4 needs 1 to 2147483647 frames, got 0.");
  EXPECT_EQ(code(rgb.size() - 1, 2, 16, 16),
            "InvalidArgument: MP4 input has 1535 bytes, but 2 RGB frames of 16x16 need 2 x 768.");
  EXPECT_EQ(code(rgb.size(), 2, 32768, 16),
            "InvalidArgument: MP4 frames of 32768x16 exceed 16384 pixels a side.");
  settings_.frames_per_second = 0;
  EXPECT_EQ(code(rgb.size(), 2, 16, 16),
            "InvalidArgument: MP4 frame rate must be positive, got 0.");
  EXPECT_EQ(rvae::reference::encode_mp4(nullptr, 3, 1, 2, 2, settings_).error().message(),
            "MP4 input is a null buffer.");
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(Mp4WriterTest, NoEncoderIsInternal) {
  settings_.encoders = {"no-such-encoder", "nor-this-one"};
  const std::vector<std::uint8_t> rgb = blocks(1, 16, 16);
  rvae::Result<rvae::Bytes> out =
      rvae::reference::encode_mp4(rgb.data(), rgb.size(), 1, 16, 16, settings_);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), rvae::ErrorCode::kInternal);
  EXPECT_EQ(out.error().message(),
            "MP4 encoding failed: libavcodec has none of the encoders [no-such-encoder, "
            "nor-this-one].");
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(Mp4WriterTest, MissingTempDirIsInternal) {
  settings_.temp_dir = dir_ + "/missing";
  const std::vector<std::uint8_t> rgb = blocks(1, 16, 16);
  rvae::Result<rvae::Bytes> out =
      rvae::reference::encode_mp4(rgb.data(), rgb.size(), 1, 16, 16, settings_);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), rvae::ErrorCode::kInternal);
  EXPECT_EQ(
      out.error().message().rfind(
          "MP4 encoding failed: cannot create a temporary file " + dir_ + "/missing/rvae-mp4-", 0),
      0u)
      << out.error().message();
  EXPECT_NE(out.error().message().find("No such file or directory"), std::string::npos);
}

TEST_F(Mp4WriterTest, OverTheCapIsResourceExhaustedAndTheFileIsRemoved) {
  settings_.max_bytes = 16;
  const std::vector<std::uint8_t> rgb = blocks(3, 16, 16);
  rvae::Result<rvae::Bytes> out =
      rvae::reference::encode_mp4(rgb.data(), rgb.size(), 3, 16, 16, settings_);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), rvae::ErrorCode::kResourceExhausted);
  EXPECT_NE(out.error().message().find("more than the cap of 16 bytes."), std::string::npos)
      << out.error().message();
  EXPECT_TRUE(leftovers().empty());  // The file was written in full, then removed.
}

#endif  // RVAE_HAVE_FFMPEG

}  // namespace
}  // namespace rvae::testing_test
