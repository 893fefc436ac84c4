// rvae tile-bench: the numbers of BENCHMARKS.md's tiling section. Quality of tiled decode and
// encode against the whole image (context-mode reference endpoint, PROTOCOL.md §7, cap lifted
// for the whole), for naive tiling and rvae's; wall time of a tiled decode against one request at
// the cap with server latency added; peak RSS of a large decode against an external server.
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
// After windows.h.
#include <psapi.h>
#else
#include <sys/resource.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "image_quality.hpp"
#include "rvae/testing/reference_endpoint.hpp"
#include "rvae/tiled.hpp"

namespace rvae::cli {
namespace {

// The process's peak resident memory: getrusage's maximum RSS, Windows' peak working set.
#ifdef _WIN32
constexpr const char* kPeakMemoryName = "working set";
#else
constexpr const char* kPeakMemoryName = "RSS";
#endif
double peak_resident_mib() {
#ifdef _WIN32
  PROCESS_MEMORY_COUNTERS counters{};
  if (!::K32GetProcessMemoryInfo(::GetCurrentProcess(), &counters, sizeof(counters))) return 0;
  return static_cast<double>(counters.PeakWorkingSetSize) / (1024.0 * 1024.0);
#else
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux.
#endif
}

const char* const kUsage =
    "usage: rvae tile-bench [--size 4096] [--latency-ms 1000] [--runs 5]\n"
    "       rvae tile-bench --rss --endpoint URL [--size 8192] [--model sdxl]\n"
    "\n"
    "Without --rss: starts two in-process reference endpoints in context mode (PROTOCOL.md\n"
    "section 7), one capped at 2048 pixels and one without the cap, and reports for SDXL and\n"
    "Flux latents of --size pixels PSNR and largest error of naive tiling (no overlap, no colour\n"
    "treatment) and of rvae's against the whole decode; the relative RMS error of a tiled encode\n"
    "against the whole encode; and the wall time of a tiled decode against one 2048-pixel\n"
    "request, both with --latency-ms added by the server, --runs pairs back to back.\n"
    "With --rss: decodes smooth SDXL latents of --size pixels (uint8 output) tiled through the\n"
    "endpoint at URL (e.g. 'rvae serve --context' in another process) and prints this process's\n"
    "peak resident memory against the output's size.\n";

// Smooth latents (gradients and long waves; the tiling tests use the same recipe): tile means
// differ, as in real images, so colour drift shows. Raw latents for the preset's factors.
Tensor smooth_latents(const ModelPreset& preset, int h, int w, DType dtype) {
  const std::int64_t channels = preset.latent_channels;
  const double amplitude = channels <= 4 ? 0.15 : 1.0;
  std::vector<float> v(static_cast<std::size_t>(channels) * static_cast<std::size_t>(h) *
                       static_cast<std::size_t>(w));
  std::size_t i = 0;
  for (std::int64_t c = 0; c < channels; ++c) {
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const double u = static_cast<double>(x) / w, s = static_cast<double>(y) / h;
        const double phase = 0.7 * static_cast<double>(c) + 0.3;
        const double scaled = 0.9 * (u - 0.5) * std::cos(phase) +
                              0.8 * (s - 0.5) * std::sin(phase) +
                              0.5 * std::sin(6.28 * (1.3 * u + 0.7 * s) + phase) +
                              0.3 * std::cos(6.28 * 2.1 * s - phase);
        v[i++] = static_cast<float>(amplitude * scaled / preset.scaling_factor +
                                    preset.shift_factor.value_or(0.0));
      }
    }
  }
  Tensor floats = Tensor::from_floats({1, channels, h, w}, v).value();
  return convert(floats.view(), dtype).value();
}

Image smooth_image(int side) {
  Image image;
  image.width = image.height = side;
  image.channels = 3;
  image.pixels.resize(static_cast<std::size_t>(side) * static_cast<std::size_t>(side) * 3);
  for (int y = 0; y < side; ++y) {
    for (int x = 0; x < side; ++x) {
      const double u = static_cast<double>(x) / side, v = static_cast<double>(y) / side;
      for (int k = 0; k < 3; ++k) {
        const double value = 128 + 70 * (u - 0.5) * (k - 1) + 60 * (v - 0.5) +
                             40 * std::sin(6.28 * (1.2 * u + 0.8 * v) + k);
        image.pixels[(static_cast<std::size_t>(y) * static_cast<std::size_t>(side) +
                      static_cast<std::size_t>(x)) *
                         3 +
                     static_cast<std::size_t>(k)] =
            static_cast<std::uint8_t>(std::lround(std::clamp(value, 0.0, 255.0)));
      }
    }
  }
  return image;
}

double relative_rms(const Tensor& a, const Tensor& b) {
  const std::vector<float> x = a.to_floats(), y = b.to_floats();
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    diff += (x[i] - y[i]) * static_cast<double>(x[i] - y[i]);
    norm += static_cast<double>(y[i]) * y[i];
  }
  return std::sqrt(diff / norm);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <typename T>
T must(Result<T> result, const char* what) {
  if (!result)
    throw Error(result.error().code(), std::string(what) + ": " + result.error().message());
  return std::move(result).value();
}

int run_rss(const Args& args) {
  const std::optional<std::string> endpoint = args.get("endpoint");
  if (!endpoint) throw UsageError{"--rss needs --endpoint URL"};
  const int side = args.get_int("size", 16, 65536).value_or(8192);
  const PresetRegistry presets = PresetRegistry::builtin();
  const ModelPreset* preset = presets.find(args.get("model").value_or("sdxl"));
  if (preset == nullptr) throw UsageError{"unknown --model"};
  Tensor latents = smooth_latents(*preset, side / 8, side / 8, DType::kFloat16);
  DecodeOptions options = preset->decode_options();
  options.output_type = OutputType::kUInt8;
  Client client;
  const auto start = std::chrono::steady_clock::now();
  DecodeOutput out = must(client.decode(*endpoint, latents.view(), options), "tiled decode");
  const double seconds = seconds_since(start);
  const double peak_mib = peak_resident_mib();
  const double output_mib = static_cast<double>(out.images.at(0).pixels.size()) / (1024.0 * 1024.0);
  std::printf(
      "%dx%d %s decode, %d requests, %.1f s: peak %s %.0f MiB; output %.0f MiB "
      "(%.2fx the output)\n",
      side, side, preset->name.c_str(), out.timings.attempts, seconds, kPeakMemoryName, peak_mib,
      output_mib, peak_mib / output_mib);
  return 0;
}

}  // namespace

int tile_bench_command(const std::vector<std::string>& argv) {
  const Args args(argv, {"size", "latency-ms", "runs", "endpoint", "model"}, {"help", "rss"});
  if (args.has("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (args.has("rss")) return run_rss(args);
  const int side = args.get_int("size", 16, 16384).value_or(4096);
  const int latency_ms = args.get_int("latency-ms", 0, 60000).value_or(1000);
  const int runs = args.get_int("runs", 1, 100).value_or(5);

  reference::ReferenceEndpointOptions capped_options;
  capped_options.spatial_context = true;
  capped_options.worker_threads = 16;  // a replica per tile in flight, as a scaled service has
  reference::ReferenceEndpoint capped(capped_options);
  reference::ReferenceEndpointOptions lifted_options = capped_options;
  lifted_options.max_image_side = 16384;
  reference::ReferenceEndpoint lifted(lifted_options);
  must(capped.start(), "start the capped endpoint");
  must(lifted.start(), "start the uncapped endpoint");
  Client client;
  const PresetRegistry presets = PresetRegistry::builtin();

  std::printf(
      "| latents | tiling | requests | PSNR (dB) | max error (levels) "
      "|\n|---|---|---:|---:|---:|\n");
  for (const char* name : {"sdxl", "flux"}) {
    const ModelPreset& preset = *presets.find(name);
    const Tensor latents = smooth_latents(preset, side / 8, side / 8, preset.dtype);
    const std::string path = std::string("/") + name + "/decode/";
    DecodeOptions options = preset.decode_options();
    options.output_type = OutputType::kUInt8;
    DecodeOptions whole_options = options;
    whole_options.tiling.mode = TileMode::kOff;
    const DecodeOutput whole =
        must(client.decode(lifted.url(path), latents.view(), whole_options), "whole decode");
    DecodeOptions naive = options;
    naive.tiling.overlap = 0;
    naive.tiling.colour_reference = false;
    for (const auto& [label, tiling] :
         {std::pair<const char*, DecodeOptions>{"naive", naive}, {"rvae", options}}) {
      const DecodeOutput tiled =
          must(client.decode(capped.url(path), latents.view(), tiling), "tiled decode");
      const ImageQuality q = compare_images(tiled.images.at(0), whole.images.at(0));
      std::printf("| %s %dx%d %s | %s | %d | %.1f | %d |\n", name, side, side,
                  std::string(dtype_name(preset.dtype)).c_str(), label, tiled.timings.attempts,
                  q.psnr, q.max_levels);
    }
  }

  {
    const ModelPreset& preset = *presets.find("sdxl");
    const Image image = smooth_image(side);
    EncodeOptions options = preset.encode_options();
    EncodeOptions whole_options = options;
    whole_options.tiling.mode = TileMode::kOff;
    const EncodeOutput whole =
        must(client.encode(lifted.url("/sdxl/encode/"), image, whole_options), "whole encode");
    EncodeOptions blend_only = options;
    blend_only.tiling.colour_reference = false;
    std::printf("\n| encode %dx%d sdxl | requests | relative RMS error |\n|---|---:|---:|\n", side,
                side);
    for (const auto& [label, tiling] :
         {std::pair<const char*, EncodeOptions>{"overlap blending alone", blend_only},
          {"rvae", options}}) {
      const EncodeOutput tiled =
          must(client.encode(capped.url("/sdxl/encode/"), image, tiling), "tiled encode");
      std::printf("| %s | %d | %.4f |\n", label, tiled.timings.attempts,
                  relative_rms(tiled.latents, whole.latents));
    }
  }

  {
    const ModelPreset& preset = *presets.find("sdxl");
    capped.set_latency(std::chrono::milliseconds(latency_ms));
    DecodeOptions options = preset.decode_options();
    options.output_type = OutputType::kUInt8;
    const Tensor one = smooth_latents(preset, 2048 / 8, 2048 / 8, DType::kFloat16);
    const Tensor big = smooth_latents(preset, side / 8, side / 8, DType::kFloat16);
    std::printf(
        "\n| wall time, %d ms server latency | one 2048x2048 request (s) | %dx%d tiled (s) | "
        "ratio |\n|---|---:|---:|---:|\n",
        latency_ms, side, side);
    std::vector<double> ratios;
    for (int run = 0; run < runs; ++run) {
      auto start = std::chrono::steady_clock::now();
      must(client.decode(capped.url("/sdxl/decode/"), one.view(), options), "2048 decode");
      const double baseline = seconds_since(start);
      start = std::chrono::steady_clock::now();
      must(client.decode(capped.url("/sdxl/decode/"), big.view(), options), "tiled decode");
      const double tiled = seconds_since(start);
      // Each pair back to back, so that a change of the machine's load hits both alike.
      ratios.push_back(tiled / baseline);
      std::printf("| run %d | %.2f | %.2f | %.2fx |\n", run + 1, baseline, tiled, ratios.back());
    }
    std::sort(ratios.begin(), ratios.end());
    std::printf("\nmedian ratio tiled / one request: %.2fx\n", ratios[ratios.size() / 2]);
  }
  return 0;
}

}  // namespace rvae::cli
