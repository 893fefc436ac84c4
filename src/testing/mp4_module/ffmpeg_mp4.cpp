// encode_mp4 on FFmpeg: swscale RGB24 -> yuv420p, libavcodec (libx264 or mpeg4), libavformat's
// mp4 muxer into a temporary file that is read back. Built only into the MP4 module, the one
// binary that links FFmpeg (see mp4_module_abi.h).
#include "testing/mp4_module/ffmpeg_mp4.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>
}

#include "core/try.hpp"

namespace rvae::reference::ffmpeg {
namespace {

// ---- Owners of FFmpeg objects, so every return path frees them.
struct FormatContextDeleter {
  void operator()(AVFormatContext* context) const noexcept {
    if (context->pb != nullptr) avio_closep(&context->pb);
    avformat_free_context(context);
  }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* context) const noexcept { avcodec_free_context(&context); }
};
struct FrameDeleter {
  void operator()(AVFrame* frame) const noexcept { av_frame_free(&frame); }
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const noexcept { av_packet_free(&packet); }
};
struct SwsContextDeleter {
  void operator()(SwsContext* context) const noexcept { sws_freeContext(context); }
};
using FormatContextPtr = std::unique_ptr<AVFormatContext, FormatContextDeleter>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using SwsContextPtr = std::unique_ptr<SwsContext, SwsContextDeleter>;

class Dictionary {
 public:
  Dictionary() = default;
  ~Dictionary() { av_dict_free(&dict_); }
  Dictionary(const Dictionary&) = delete;
  Dictionary& operator=(const Dictionary&) = delete;
  int set(const char* key, const char* value) { return av_dict_set(&dict_, key, value, 0); }
  AVDictionary** get() noexcept { return &dict_; }

 private:
  AVDictionary* dict_ = nullptr;
};

// A mkstemp file, closed and unlinked when this goes out of scope.
class TempFile {
 public:
  TempFile() = default;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  Result<void> create(const std::string& dir) {
    std::string base = dir;
    if (base.empty()) {
      const char* env = std::getenv("TMPDIR");
      base = env != nullptr && *env != '\0' ? env : "/tmp";
    }
    std::string pattern = base + "/rvae-mp4-XXXXXX";
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0) {
      const int code = errno;
      return Error(ErrorCode::kInternal, "MP4 encoding failed: cannot create a temporary file " +
                                             pattern + ": " + std::strerror(code) + ".");
    }
    fd_ = fd;
    path_ = std::move(pattern);
    return {};
  }

  const std::string& path() const noexcept { return path_; }

  // The whole file, refused when larger than max_bytes.
  Result<Bytes> read_all(std::size_t max_bytes) const {
    struct stat info {};
    if (::fstat(fd_, &info) != 0) {
      const int code = errno;
      return Error(ErrorCode::kInternal,
                   "MP4 encoding failed: cannot stat " + path_ + ": " + std::strerror(code) + ".");
    }
    const auto size = static_cast<std::uint64_t>(info.st_size);
    if (info.st_size <= 0) {
      return Error(ErrorCode::kInternal, "MP4 encoding failed: the muxer wrote an empty file.");
    }
    if (size > max_bytes) {
      return Error(ErrorCode::kResourceExhausted, "The MP4 file has " + std::to_string(size) +
                                                      " bytes, more than the cap of " +
                                                      std::to_string(max_bytes) + " bytes.");
    }
    Bytes out(static_cast<std::size_t>(size));
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n =
          ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int code = n < 0 ? errno : 0;
        return Error(ErrorCode::kInternal, "MP4 encoding failed: cannot read back " + path_ + ": " +
                                               (n < 0 ? std::strerror(code) : "short file") + ".");
      }
      done += static_cast<std::size_t>(n);
    }
    return out;
  }

 private:
  int fd_ = -1;
  std::string path_;
};

std::string av_error_text(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(code, text, sizeof(text)) < 0) return "FFmpeg error " + std::to_string(code);
  return text;
}

Error ffmpeg_error(const std::string& what, int code) {
  return Error(ErrorCode::kInternal, "MP4 encoding failed: " + what + ": " + av_error_text(code) +
                                         " (" + std::to_string(code) + ").");
}

Error out_of_memory(const std::string& what) {
  return ffmpeg_error(what, AVERROR(ENOMEM));
}

Error invalid(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

// Chosen for a close match to the input: the stand-in VAE's flat 8x8 blocks compress well, and
// one thread keeps the output deterministic (and clear of unsynchronised encoder threads).
Result<void> configure_encoder(AVCodecContext* context, const AVCodec* codec, Dictionary& options) {
  context->thread_count = 1;
  // The encoders log to stderr (libx264 prints its settings on every open); a library must not
  // print, and every failure is returned anyway. This pushes this context's messages, fatal ones
  // included, down to debug level, below FFmpeg's default threshold, without touching the
  // process-wide log level.
  context->log_level_offset = AV_LOG_DEBUG - AV_LOG_FATAL;
  if (std::strcmp(codec->name, "libx264") == 0) {
    if (options.set("preset", "medium") < 0 || options.set("crf", "18") < 0) {
      return out_of_memory("setting libx264 options");
    }
  } else {
    // Constant quantiser 2 (`-q:v 2`): the default bit rate of 200 kb/s would blur the colours.
    context->flags |= AV_CODEC_FLAG_QSCALE;
    context->global_quality = FF_QP2LAMBDA * 2;
  }
  return {};
}

// Sends one frame (nullptr: flush) and writes every packet the encoder has ready.
Result<void> encode_and_write(AVCodecContext* codec_context, const AVFrame* frame,
                              AVFormatContext* format, const AVStream* stream, AVPacket* packet) {
  int ret = avcodec_send_frame(codec_context, frame);
  if (ret < 0) return ffmpeg_error("avcodec_send_frame", ret);
  for (;;) {
    ret = avcodec_receive_packet(codec_context, packet);
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return {};
    if (ret < 0) return ffmpeg_error("avcodec_receive_packet", ret);
    av_packet_rescale_ts(packet, codec_context->time_base, stream->time_base);
    packet->stream_index = stream->index;
    // Takes the packet's reference on success and failure alike.
    ret = av_interleaved_write_frame(format, packet);
    if (ret < 0) return ffmpeg_error("av_interleaved_write_frame", ret);
  }
}

Result<void> check_arguments(std::size_t rgb_bytes, std::size_t frames, int width, int height,
                             const Mp4Settings& settings) {
  if (width <= 0 || height <= 0 || width % 2 != 0 || height % 2 != 0) {
    return invalid("MP4 frames must have positive even sizes (yuv420p), got " +
                   std::to_string(width) + "x" + std::to_string(height) + ".");
  }
  constexpr int kMaxSide = 16384;
  if (width > kMaxSide || height > kMaxSide) {
    return invalid("MP4 frames of " + std::to_string(width) + "x" + std::to_string(height) +
                   " exceed " + std::to_string(kMaxSide) + " pixels a side.");
  }
  if (frames == 0 || frames > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return invalid("An MP4 needs 1 to " + std::to_string(std::numeric_limits<int>::max()) +
                   " frames, got " + std::to_string(frames) + ".");
  }
  if (settings.frames_per_second <= 0) {
    return invalid("MP4 frame rate must be positive, got " +
                   std::to_string(settings.frames_per_second) + ".");
  }
  const std::size_t frame_bytes =
      static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3;
  if (frames > std::numeric_limits<std::size_t>::max() / frame_bytes ||
      frames * frame_bytes != rgb_bytes) {
    return invalid("MP4 input has " + std::to_string(rgb_bytes) + " bytes, but " +
                   std::to_string(frames) + " RGB frames of " + std::to_string(width) + "x" +
                   std::to_string(height) + " need " + std::to_string(frames) + " x " +
                   std::to_string(frame_bytes) + ".");
  }
  return {};
}

}  // namespace

std::string mp4_encoder_name(const std::vector<std::string>& encoders) {
  for (const std::string& name : encoders) {
    if (avcodec_find_encoder_by_name(name.c_str()) != nullptr) return name;
  }
  return {};
}

Result<Bytes> encode_mp4(const std::uint8_t* rgb, std::size_t rgb_bytes, std::size_t frames,
                         int width, int height, const Mp4Settings& settings) {
  if (rgb == nullptr && rgb_bytes != 0) return invalid("MP4 input is a null buffer.");
  RVAE_TRY(check_arguments(rgb_bytes, frames, width, height, settings));
  const std::string encoder_name = mp4_encoder_name(settings.encoders);
  const AVCodec* codec =
      encoder_name.empty() ? nullptr : avcodec_find_encoder_by_name(encoder_name.c_str());
  if (codec == nullptr) {
    std::string names;
    for (const std::string& name : settings.encoders)
      names += (names.empty() ? "" : ", ") + name;
    return Error(ErrorCode::kInternal,
                 "MP4 encoding failed: libavcodec has none of the encoders [" + names + "].");
  }

  // Declared first so it is removed after every FFmpeg object is gone.
  TempFile file;
  RVAE_TRY(file.create(settings.temp_dir));

  AVFormatContext* raw_format = nullptr;
  int ret = avformat_alloc_output_context2(&raw_format, nullptr, "mp4", file.path().c_str());
  FormatContextPtr format(raw_format);
  if (ret < 0) return ffmpeg_error("avformat_alloc_output_context2", ret);
  if (!format) return out_of_memory("avformat_alloc_output_context2");

  AVStream* stream = avformat_new_stream(format.get(), nullptr);
  if (stream == nullptr) return out_of_memory("avformat_new_stream");

  CodecContextPtr codec_context(avcodec_alloc_context3(codec));
  if (!codec_context) return out_of_memory("avcodec_alloc_context3");
  AVCodecContext* cc = codec_context.get();
  cc->width = width;
  cc->height = height;
  cc->pix_fmt = AV_PIX_FMT_YUV420P;
  cc->time_base = AVRational{1, settings.frames_per_second};
  cc->framerate = AVRational{settings.frames_per_second, 1};
  cc->gop_size = 12;
  // What swscale's default conversion below produces: BT.601 matrix, limited range.
  cc->colorspace = AVCOL_SPC_SMPTE170M;
  cc->color_range = AVCOL_RANGE_MPEG;
  if ((format->oformat->flags & AVFMT_GLOBALHEADER) != 0) {
    cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  }
  Dictionary codec_options;
  RVAE_TRY(configure_encoder(cc, codec, codec_options));
  ret = avcodec_open2(cc, codec, codec_options.get());
  if (ret < 0) return ffmpeg_error("avcodec_open2 (" + encoder_name + ")", ret);
  ret = avcodec_parameters_from_context(stream->codecpar, cc);
  if (ret < 0) return ffmpeg_error("avcodec_parameters_from_context", ret);
  stream->time_base = cc->time_base;
  stream->avg_frame_rate = cc->framerate;

  ret = avio_open(&format->pb, file.path().c_str(), AVIO_FLAG_WRITE);
  if (ret < 0) return ffmpeg_error("avio_open " + file.path(), ret);
  ret = avformat_write_header(format.get(), nullptr);
  if (ret < 0) return ffmpeg_error("avformat_write_header", ret);

  // The RGB input goes through an AVFrame too: swscale's SIMD code may read past the end of a
  // row, and av_frame_get_buffer pads for it.
  FramePtr rgb_frame(av_frame_alloc());
  FramePtr yuv_frame(av_frame_alloc());
  PacketPtr packet(av_packet_alloc());
  if (!rgb_frame || !yuv_frame || !packet) return out_of_memory("allocating frames");
  rgb_frame->format = AV_PIX_FMT_RGB24;
  rgb_frame->width = width;
  rgb_frame->height = height;
  ret = av_frame_get_buffer(rgb_frame.get(), 0);
  if (ret < 0) return ffmpeg_error("av_frame_get_buffer (RGB)", ret);
  yuv_frame->format = AV_PIX_FMT_YUV420P;
  yuv_frame->width = width;
  yuv_frame->height = height;
  ret = av_frame_get_buffer(yuv_frame.get(), 0);
  if (ret < 0) return ffmpeg_error("av_frame_get_buffer (YUV)", ret);

  // SWS_AREA: each chroma sample is the mean of its 2x2 pixels, so the stand-in VAE's 8x8 blocks
  // keep their colours exactly (bilinear would bleed neighbouring blocks into each other).
  SwsContextPtr sws(sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height,
                                   AV_PIX_FMT_YUV420P, SWS_AREA, nullptr, nullptr, nullptr));
  if (!sws) return Error(ErrorCode::kInternal, "MP4 encoding failed: sws_getContext failed.");
  const int* bt601 = sws_getCoefficients(SWS_CS_ITU601);
  // Source full-range RGB, destination limited-range YUV.
  if (sws_setColorspaceDetails(sws.get(), bt601, 1, bt601, 0, 0, 1 << 16, 1 << 16) < 0) {
    return Error(ErrorCode::kInternal,
                 "MP4 encoding failed: sws_setColorspaceDetails refused BT.601.");
  }

  const auto row_bytes = static_cast<std::size_t>(width) * 3;
  const std::size_t frame_bytes = row_bytes * static_cast<std::size_t>(height);
  for (std::size_t i = 0; i < frames; ++i) {
    ret = av_frame_make_writable(rgb_frame.get());
    if (ret < 0) return ffmpeg_error("av_frame_make_writable (RGB)", ret);
    ret = av_frame_make_writable(yuv_frame.get());
    if (ret < 0) return ffmpeg_error("av_frame_make_writable (YUV)", ret);
    const std::uint8_t* src = rgb + i * frame_bytes;
    for (int y = 0; y < height; ++y) {
      std::memcpy(rgb_frame->data[0] + static_cast<std::ptrdiff_t>(y) * rgb_frame->linesize[0],
                  src + static_cast<std::size_t>(y) * row_bytes, row_bytes);
    }
    ret = sws_scale(sws.get(), rgb_frame->data, rgb_frame->linesize, 0, height, yuv_frame->data,
                    yuv_frame->linesize);
    if (ret != height) {
      return ffmpeg_error("sws_scale", ret < 0 ? ret : AVERROR_BUG);
    }
    yuv_frame->pts = static_cast<std::int64_t>(i);
    RVAE_TRY(encode_and_write(cc, yuv_frame.get(), format.get(), stream, packet.get()));
  }
  RVAE_TRY(encode_and_write(cc, nullptr, format.get(), stream, packet.get()));
  ret = av_write_trailer(format.get());
  if (ret < 0) return ffmpeg_error("av_write_trailer", ret);
  // Closing flushes the last buffered bytes; its error is the last write's.
  ret = avio_closep(&format->pb);
  if (ret < 0) return ffmpeg_error("avio_closep", ret);
  return file.read_all(settings.max_bytes);
}

}  // namespace rvae::reference::ffmpeg
