// rvae demo's video part: a short HunyuanVideo clip decoded through reference endpoints in
// context mode (PROTOCOL.md section 7.1), where a chunk of frames sent alone comes back with its
// own colours, as from a real VAE: whole, chunked naively (diffusers' scheme) and by rvae.
#pragma once

#include <string>
#include <vector>

#include "image_quality.hpp"
#include "rvae/image.hpp"

namespace rvae::cli {

/// One decode of the clip.
struct VideoRun {
  std::string label;  ///< "whole", "naive" or "rvae"
  int requests = 0;   ///< Requests the endpoint answered (rvae's colour reference included).
  double ms = 0;
  /// From the call's start to the first frame handed out; only rvae's run streams its frames.
  double first_frame_ms = 0;
  ImageQuality quality;  ///< Against the whole decode (unset for it).
  std::vector<Image> frames;
};

struct VideoDemo {
  int frames = 0;
  int width = 0, height = 0;
  int budget_frames = 0;       ///< The chunking endpoint's reply cap, in frames of this size.
  std::vector<VideoRun> runs;  ///< whole, naive, rvae.
};

/// Synthesised smooth latents whose colour drifts over time (HunyuanVideo has no encoder), decoded
/// whole by an endpoint without a reply cap, then chunked naively and by rvae (its frames
/// streamed as their blend completes) through one that caps a reply's bytes.
VideoDemo run_video_demo();

}  // namespace rvae::cli
