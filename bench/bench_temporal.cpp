// Issue 21's temporal chunking measurements (scripts/bench-temporal.sh, BENCHMARKS.md):
//  (a) chunked against whole on the PROTOCOL.md §7.1 oracle (reference endpoints in context
//      mode; the chunked one capped at 17 frames a request), PSNR and largest error in 8-bit
//      levels, for diffusers' plain scheme ("naive") and rvae's (colour reference);
//  (b) the wall time of a 129-frame decode chunked in parallel against one request, both with
//      the same server latency per request, measured in the same run.
//   rvae_bench_temporal [LATENCY_MS=2000] [SIDE=32]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "rvae/client.hpp"
#include "rvae/presets.hpp"
#include "rvae/testing/reference_endpoint.hpp"
#include "rvae/tiled.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Smooth latents whose colour drifts over the clip (as the tests' drifting_latents), raw for
// HunyuanVideo's scaling factor.
rvae::Tensor drifting_clip(int frames, int side, double scale) {
  const int channels = 16;
  std::vector<float> v;
  v.reserve(static_cast<std::size_t>(channels * frames * side * side));
  for (int c = 0; c < channels; ++c) {
    for (int t = 0; t < frames; ++t) {
      for (int y = 0; y < side; ++y) {
        for (int x = 0; x < side; ++x) {
          const double u = static_cast<double>(x) / side, s = static_cast<double>(y) / side;
          const double phase = 0.7 * c + 0.3 + 0.2 * t;
          const double value = 0.9 * (u - 0.5) * std::cos(phase) +
                               0.8 * (s - 0.5) * std::sin(phase) +
                               0.5 * std::sin(6.28 * (1.3 * u + 0.7 * s) + phase) +
                               0.3 * std::cos(6.28 * 2.1 * s - phase) +
                               0.6 * (static_cast<double>(t) / frames - 0.5) * std::cos(1.3 * c);
          v.push_back(static_cast<float>(value / scale));
        }
      }
    }
  }
  return rvae::Tensor::from_floats({1, channels, frames, side, side}, v).value();
}

struct Error {
  double psnr = 200.0;
  int max_levels = 0;
};

Error compare(const rvae::DecodeOutput& a, const rvae::DecodeOutput& b) {
  double sum = 0.0;
  std::size_t n = 0;
  Error e;
  for (std::size_t i = 0; i < std::min(a.images.size(), b.images.size()); ++i) {
    const auto& p = a.images[i].pixels;
    const auto& q = b.images[i].pixels;
    for (std::size_t j = 0; j < std::min(p.size(), q.size()); ++j, ++n) {
      const int d = static_cast<int>(p[j]) - static_cast<int>(q[j]);
      sum += static_cast<double>(d) * d;
      e.max_levels = std::max(e.max_levels, std::abs(d));
    }
  }
  if (sum > 0) e.psnr = 10.0 * std::log10(255.0 * 255.0 * static_cast<double>(n) / sum);
  return e;
}

rvae::DecodeOutput must(rvae::Result<rvae::DecodeOutput> result, const char* what) {
  if (!result) {
    std::fprintf(stderr, "%s failed: %s\n", what, result.error().what());
    std::exit(1);
  }
  return std::move(result).value();
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int latency_ms = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int side = argc > 2 ? std::atoi(argv[2]) : 32;
  const rvae::PresetRegistry presets = rvae::PresetRegistry::builtin();
  const rvae::ModelPreset& preset = *presets.find("hunyuan-video");

  rvae::reference::ReferenceEndpointOptions capped_options;
  capped_options.spatial_context = true;
  capped_options.max_frames = 17;
  capped_options.max_image_side = 8192;
  rvae::reference::ReferenceEndpointOptions lifted_options = capped_options;
  lifted_options.max_frames = 0;
  // A service that caps the bytes of a reply instead: 17 frames as uint8.
  const std::uint64_t budget = 17ull * static_cast<std::uint64_t>(side * 8 * side * 8 * 3);
  rvae::reference::ReferenceEndpointOptions budget_options = lifted_options;
  budget_options.max_reply_bytes = budget;
  rvae::reference::ReferenceEndpoint capped(capped_options), lifted(lifted_options),
      budgeted(budget_options);
  if (!capped.start() || !lifted.start() || !budgeted.start()) {
    std::fprintf(stderr, "cannot start the reference endpoints\n");
    return 1;
  }
  rvae::Client client;
  const rvae::Tensor clip = drifting_clip(33, side, preset.scaling_factor);  // 129 frames
  rvae::DecodeOptions options = preset.decode_options();
  options.output_type = rvae::OutputType::kUInt8;
  options.tiling.max_image_side = 8192;
  options.tiling.max_frames = 17;

  // (a) Quality, no latency.
  rvae::DecodeOptions whole_options = options;
  whole_options.tiling.chunk_mode = rvae::ChunkMode::kOff;
  const rvae::DecodeOutput whole = must(
      client.decode(lifted.url("/hunyuan-video/decode/"), clip.view(), whole_options), "whole");
  rvae::DecodeOptions chunked_options = options;
  chunked_options.tiling.chunk_mode = rvae::ChunkMode::kOn;
  rvae::DecodeOptions naive_options = chunked_options;
  naive_options.tiling.temporal_colour_reference = false;
  const Error rvae_error = compare(
      must(client.decode(capped.url("/hunyuan-video/decode/"), clip.view(), chunked_options),
           "rvae chunking"),
      whole);
  const Error naive_error =
      compare(must(client.decode(capped.url("/hunyuan-video/decode/"), clip.view(), naive_options),
                   "naive chunking"),
              whole);
  rvae::DecodeOptions budget_chunked = options;
  budget_chunked.tiling.max_frames = 0;
  budget_chunked.tiling.reply_budget_bytes = budget;
  rvae::DecodeOptions budget_naive = budget_chunked;
  budget_naive.tiling.temporal_colour_reference = false;
  const Error budget_rvae = compare(
      must(client.decode(budgeted.url("/hunyuan-video/decode/"), clip.view(), budget_chunked),
           "rvae chunking (byte cap)"),
      whole);
  const Error budget_naive_error =
      compare(must(client.decode(budgeted.url("/hunyuan-video/decode/"), clip.view(), budget_naive),
                   "naive chunking (byte cap)"),
              whole);
  std::printf("quality, 129 frames of %dx%d, chunks of 16 frames against the whole decode:\n",
              side * 8, side * 8);
  std::printf("  endpoint capped at 17 frames' bytes (reference: every frame, 1/4 size)\n");
  std::printf("    naive (diffusers' scheme)  %6.2f dB  max %3d levels\n", budget_naive_error.psnr,
              budget_naive_error.max_levels);
  std::printf("    rvae (colour reference)    %6.2f dB  max %3d levels\n", budget_rvae.psnr,
              budget_rvae.max_levels);
  std::printf("  endpoint capped at 17 frames (reference: every frame, 1/4 size, as a mosaic)\n");
  std::printf("    naive (diffusers' scheme)  %6.2f dB  max %3d levels\n", naive_error.psnr,
              naive_error.max_levels);
  std::printf("    rvae (colour reference)    %6.2f dB  max %3d levels\n", rvae_error.psnr,
              rvae_error.max_levels);

  // (b) Wall time with the same latency per request on both servers.
  capped.set_latency(std::chrono::milliseconds(latency_ms));
  lifted.set_latency(std::chrono::milliseconds(latency_ms));
  const std::uint64_t before = capped.stats().inference_requests;
  auto start = Clock::now();
  must(client.decode(capped.url("/hunyuan-video/decode/"), clip.view(), chunked_options),
       "chunked");
  const double chunked_s = seconds_since(start);
  const std::uint64_t requests = capped.stats().inference_requests - before;
  start = Clock::now();
  must(client.decode(lifted.url("/hunyuan-video/decode/"), clip.view(), whole_options), "whole");
  const double whole_s = seconds_since(start);
  std::printf("wall time, %d ms server latency per request:\n", latency_ms);
  std::printf("  one request                %6.2f s\n", whole_s);
  std::printf("  chunked, %2llu requests      %6.2f s  (%.2fx the one request)\n",
              static_cast<unsigned long long>(requests), chunked_s, chunked_s / whole_s);
  return 0;
}
