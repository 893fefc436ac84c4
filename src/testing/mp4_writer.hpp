// RGB frames -> an MP4 file, for the reference endpoint's output_type=mp4. Built only with FFmpeg
// (RVAE_HAVE_FFMPEG). The FFmpeg code is a module (librvae_mp4.so, src/testing/mp4_module/)
// that these functions load with dlopen on first use, so nothing links FFmpeg but the module;
// RVAE_MP4_MODULE names it explicitly, else it is looked for beside the program, in the install
// layout, and in the build tree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rvae/bytes.hpp"
#include "rvae/error.hpp"

namespace rvae::reference {

/// The frame rate of every MP4 the reference endpoint writes: 24 fps, the common film rate (the
/// service's own rate is not published).
inline constexpr int kMp4FramesPerSecond = 24;

/// How encode_mp4 writes a file.
struct Mp4Settings {
  int frames_per_second = kMp4FramesPerSecond;
  /// libavcodec encoders to try, in order: H.264 through libx264 when libavcodec was built with
  /// it, else FFmpeg's own MPEG-4 Part 2 encoder (always built in).
  std::vector<std::string> encoders = {"libx264", "mpeg4"};
  /// Directory of the temporary file the muxer writes (it must seek back to write the `moov`
  /// box). Empty: $TMPDIR, else /tmp.
  std::string temp_dir;
  /// Larger files are refused with ResourceExhausted.
  std::size_t max_bytes = std::size_t{1} << 30;
};

/// The encoder encode_mp4 would pick from `encoders` ("" when libavcodec has none of them, or
/// the MP4 module cannot be loaded).
std::string mp4_encoder_name(const std::vector<std::string>& encoders);

/// Encodes `frames` RGB frames (`rgb`: [frames, height, width, 3] uint8, row-major) as yuv420p
/// video in an MP4 file, one frame per 1/frames_per_second s, and returns the file's bytes.
/// Errors: InvalidArgument for odd or non-positive sizes, no frames, or a buffer that does not
/// hold exactly the frames; ResourceExhausted when the file exceeds max_bytes; Internal when
/// no encoder is available, the MP4 module cannot be loaded, the temporary file cannot be made,
/// or an FFmpeg call fails. The
/// temporary file is removed on every path.
Result<Bytes> encode_mp4(const std::uint8_t* rgb, std::size_t rgb_bytes, std::size_t frames,
                         int width, int height, const Mp4Settings& settings = {});

}  // namespace rvae::reference
