#include "demo_video.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <utility>

#include "common.hpp"
#include "rvae/client.hpp"
#include "rvae/presets.hpp"
#include "rvae/testing/reference_endpoint.hpp"

namespace rvae::cli {
namespace {

// 13 latent frames of 12 x 12 give 49 frames of 96 x 96: a few chunks, a fraction of a second.
constexpr int kLatentFrames = 13;
constexpr int kLatentSide = 12;
// A reply cap of 17 frames: one of diffusers' 16-frame chunks and the extra frame before it.
constexpr int kBudgetFrames = 17;

// Smooth in space (gradients, long waves) and drifting per channel over the clip, so that every
// chunk's mean colour differs from the clip's: the error a chunk decoded alone makes.
Tensor drifting_clip(int channels, double scale) {
  std::vector<float> v;
  v.reserve(static_cast<std::size_t>(channels * kLatentFrames * kLatentSide * kLatentSide));
  for (int c = 0; c < channels; ++c) {
    for (int t = 0; t < kLatentFrames; ++t) {
      for (int y = 0; y < kLatentSide; ++y) {
        for (int x = 0; x < kLatentSide; ++x) {
          const double u = static_cast<double>(x) / kLatentSide;
          const double s = static_cast<double>(y) / kLatentSide;
          const double phase = 0.7 * c + 0.3 + 0.2 * t;
          const double value =
              0.9 * (u - 0.5) * std::cos(phase) + 0.8 * (s - 0.5) * std::sin(phase) +
              0.5 * std::sin(6.28 * (1.3 * u + 0.7 * s) + phase) +
              0.3 * std::cos(6.28 * 2.1 * s - phase) +
              0.6 * (static_cast<double>(t) / kLatentFrames - 0.5) * std::cos(1.3 * c);
          v.push_back(static_cast<float>(value / scale));
        }
      }
    }
  }
  return take(Tensor::from_floats({1, channels, kLatentFrames, kLatentSide, kLatentSide}, v));
}

// All frames one above the other, so one comparison covers the clip.
Image stack_frames(const std::vector<Image>& frames) {
  Image all;
  if (frames.empty()) return all;
  all.width = frames[0].width;
  all.channels = frames[0].channels;
  for (const Image& frame : frames) {
    all.height += frame.height;
    all.pixels.insert(all.pixels.end(), frame.pixels.begin(), frame.pixels.end());
  }
  return all;
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

VideoDemo run_video_demo() {
  const PresetRegistry presets = PresetRegistry::builtin();
  const ModelPreset& preset = *presets.find("hunyuan-video");
  VideoDemo demo;
  demo.width = demo.height = kLatentSide * 8;
  demo.frames = (kLatentFrames - 1) * 4 + 1;
  demo.budget_frames = kBudgetFrames;
  const std::uint64_t budget = static_cast<std::uint64_t>(kBudgetFrames) *
                               static_cast<std::uint64_t>(demo.width) *
                               static_cast<std::uint64_t>(demo.height) * 3;

  reference::ReferenceEndpointOptions whole_options;
  whole_options.spatial_context = true;
  whole_options.max_image_side = 8192;
  reference::ReferenceEndpoint whole_endpoint(whole_options);
  // A service that caps the bytes of a reply, as GPU memory caps a decode.
  reference::ReferenceEndpointOptions capped_options = whole_options;
  capped_options.max_reply_bytes = budget;
  reference::ReferenceEndpoint capped(capped_options);
  take(whole_endpoint.start());
  take(capped.start());
  Client client;
  const Tensor clip =
      drifting_clip(static_cast<int>(preset.latent_channels), preset.scaling_factor);
  DecodeOptions options = preset.decode_options();
  options.output_type = OutputType::kUInt8;
  options.tiling.chunk_mode = ChunkMode::kAuto;
  options.tiling.max_frames = 0;
  options.tiling.reply_budget_bytes = budget;

  for (const char* label : {"whole", "naive", "rvae"}) {
    const std::string name = label;
    reference::ReferenceEndpoint& endpoint = name == "whole" ? whole_endpoint : capped;
    DecodeOptions decode = options;
    VideoRun run;
    run.label = name;
    if (name == "whole") decode.tiling.chunk_mode = ChunkMode::kOff;
    if (name == "naive") decode.tiling.temporal_colour_reference = false;
    const auto start = std::chrono::steady_clock::now();
    if (name == "rvae") {
      // Frames arrive as each one's blend is complete, before the last chunk is in.
      decode.stream.on_frame = [&run, start](const FrameView& frame) {
        if (run.frames.empty()) run.first_frame_ms = milliseconds_since(start);
        run.frames.push_back(to_rgb(frame.image));  // a copy: the view is borrowed
      };
    }
    const std::uint64_t before = endpoint.stats().inference_requests;
    DecodeOutput decoded =
        take(client.decode(endpoint.url("/hunyuan-video/decode/"), clip.view(), decode));
    run.ms = milliseconds_since(start);
    run.requests = static_cast<int>(endpoint.stats().inference_requests - before);
    if (!decode.stream.active()) run.frames = std::move(decoded.images);
    if (name != "whole") {
      run.quality = compare_images(stack_frames(run.frames), stack_frames(demo.runs[0].frames));
    }
    demo.runs.push_back(std::move(run));
  }
  whole_endpoint.stop();
  capped.stop();
  return demo;
}

}  // namespace rvae::cli
