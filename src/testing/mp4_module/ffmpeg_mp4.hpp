// The FFmpeg implementation behind rvae::reference::encode_mp4, compiled into the MP4 module only
// (its own namespace, so it never clashes with the loader's functions of the same names).
#pragma once

#include <string>
#include <vector>

#include "testing/mp4_writer.hpp"

namespace rvae::reference::ffmpeg {

/// See rvae::reference::mp4_encoder_name.
std::string mp4_encoder_name(const std::vector<std::string>& encoders);
/// See rvae::reference::encode_mp4.
Result<Bytes> encode_mp4(const std::uint8_t* rgb, std::size_t rgb_bytes, std::size_t frames,
                         int width, int height, const Mp4Settings& settings);

}  // namespace rvae::reference::ffmpeg
