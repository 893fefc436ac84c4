// One SDXL 1024² decode returning float pixels, over the Hugging Face protocol or the Open
// Inference Protocol, against bench/canned_server.py (the same float16 pixels on both): wall time
// per call and this process's CPU time per call (every thread: the network thread parses and
// validates). scripts/bench-open-inference.sh runs it interleaved and takes medians.
//   rvae_bench_protocols BASE_URL hf|oip [CALLS]
// Prints one JSON line: {"protocol", "calls", "wall_ms_median", "wall_ms_best", "cpu_ms_per_call"}.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "rvae/rvae.hpp"

namespace {

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: rvae_bench_protocols BASE_URL hf|oip [CALLS]\n");
    return 2;
  }
  const std::string base = argv[1];
  const std::string protocol = argv[2];
  const int calls = argc > 3 ? std::atoi(argv[3]) : 30;
  if ((protocol != "hf" && protocol != "oip") || calls < 1) {
    std::fprintf(stderr, "protocol must be hf or oip, calls at least 1\n");
    return 2;
  }
  const std::string url =
      protocol == "hf" ? base + "sdxl/decode/" : base + "v2/models/vae_decoder";
  std::vector<float> values(4 * 128 * 128);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<float>((i * 7919) % 2000) / 1000.0f - 1.0f;
  const rvae::Tensor latents =
      rvae::convert(rvae::Tensor::from_floats({1, 4, 128, 128}, values).value().view(),
                    rvae::DType::kFloat16)
          .value();
  rvae::ClientOptions client_options;
  client_options.token_from_environment = false;
  rvae::Client client(client_options);
  rvae::DecodeOptions options = rvae::PresetRegistry::builtin().find("sdxl")->decode_options();
  options.output_type = rvae::OutputType::kFloatTensor;
  // Warm-up: the connection, and the model's metadata on the Open Inference Protocol.
  for (int i = 0; i < 3; ++i) {
    rvae::Result<rvae::DecodeOutput> output = client.decode(url, latents.view(), options);
    if (!output) {
      std::fprintf(stderr, "decode failed: %s\n", output.error().what());
      return 1;
    }
  }
  std::vector<double> walls;
  const double cpu_start = cpu_seconds();
  for (int i = 0; i < calls; ++i) {
    const auto start = std::chrono::steady_clock::now();
    rvae::Result<rvae::DecodeOutput> output = client.decode(url, latents.view(), options);
    const auto end = std::chrono::steady_clock::now();
    if (!output || output->tensor.shape() != rvae::Shape{1, 3, 1024, 1024}) {
      std::fprintf(stderr, "decode failed or wrong shape\n");
      return 1;
    }
    client.recycle(std::move(output->tensor).release_bytes());
    walls.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  const double cpu_ms = (cpu_seconds() - cpu_start) * 1000.0 / calls;
  std::sort(walls.begin(), walls.end());
  std::printf(
      "{\"protocol\": \"%s\", \"calls\": %d, \"wall_ms_median\": %.3f, \"wall_ms_best\": %.3f, "
      "\"cpu_ms_per_call\": %.3f}\n",
      protocol.c_str(), calls, walls[walls.size() / 2], walls.front(), cpu_ms);
  return 0;
}
