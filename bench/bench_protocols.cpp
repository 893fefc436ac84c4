// One SDXL 1024² decode returning float pixels, over the Hugging Face protocol and over the Open
// Inference Protocol, against bench/canned_server.py (the same float16 pixels on both): wall time
// and this process's CPU time (every thread: the network thread receives and validates) per call.
// The two protocols alternate call by call in one process, so drift of this shared machine
// touches both alike. scripts/bench-open-inference.sh runs it several times and takes medians.
//   rvae_bench_protocols BASE_URL [CALLS] [raw]
// `raw` sends the latents as they are (no factors, nothing to de-normalise on either protocol),
// to tell the protocol's own cost from that of de-normalising on the client.
// Prints one JSON line per protocol: {"protocol", "calls", "wall_ms_median", "wall_ms_best",
// "cpu_ms_per_call"}.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "rvae/rvae.hpp"

namespace {

double cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
}

struct Side {
  std::string name;
  std::string url;
  std::vector<double> walls;
  double cpu = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: rvae_bench_protocols BASE_URL [CALLS] [raw]\n");
    return 2;
  }
  const std::string base = argv[1];
  const int calls = argc > 2 ? std::atoi(argv[2]) : 30;
  const bool raw = argc > 3 && std::string(argv[3]) == "raw";
  if (calls < 1) {
    std::fprintf(stderr, "calls must be at least 1\n");
    return 2;
  }
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
  if (raw) options.scaling_factor.reset();
  const std::string suffix = raw ? "-raw" : "";
  std::vector<Side> sides = {{"hf" + suffix, base + "sdxl/decode/", {}, 0},
                             {"oip" + suffix, base + "v2/models/vae_decoder", {}, 0}};
  auto decode = [&](Side& side) {
    const double cpu_start = cpu_ms();
    const auto start = std::chrono::steady_clock::now();
    rvae::Result<rvae::DecodeOutput> output = client.decode(side.url, latents.view(), options);
    const auto end = std::chrono::steady_clock::now();
    if (!output || output->tensor.shape() != rvae::Shape{1, 3, 1024, 1024}) {
      std::fprintf(stderr, "%s: %s\n", side.name.c_str(),
                   output ? "wrong shape" : output.error().what());
      std::exit(1);
    }
    client.recycle(std::move(output->tensor).release_bytes());
    side.cpu += cpu_ms() - cpu_start;
    side.walls.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  };
  // Warm-up: connections, and the model's metadata on the Open Inference Protocol.
  for (int i = 0; i < 3; ++i) {
    for (Side& side : sides)
      decode(side);
  }
  for (Side& side : sides) {
    side.walls.clear();
    side.cpu = 0;
  }
  for (int i = 0; i < calls; ++i) {
    for (Side& side : sides)
      decode(side);
  }
  for (Side& side : sides) {
    std::sort(side.walls.begin(), side.walls.end());
    std::printf(
        "{\"protocol\": \"%s\", \"calls\": %d, \"wall_ms_median\": %.3f, \"wall_ms_best\": %.3f, "
        "\"cpu_ms_per_call\": %.3f}\n",
        side.name.c_str(), calls, side.walls[side.walls.size() / 2], side.walls.front(),
        side.cpu / calls);
  }
  return 0;
}
