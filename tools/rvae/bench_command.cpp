// rvae bench: concurrency throughput against the reference endpoint with added latency, as a
// fraction of the ideal K / latency and against the same requests sent one at a time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "rvae/testing/reference_endpoint.hpp"

namespace rvae::cli {
namespace {

const char* const kUsage =
    "usage: rvae bench [--latency-ms 20] [--in-flight 1,4,16,64] [--requests-per-slot 8]\n"
    "                  [--sequential N]\n"
    "\n"
    "Measures decode throughput with K requests in flight against an in-process reference\n"
    "endpoint that adds --latency-ms to every request. Payloads are tiny ([1,4,8,8] float16\n"
    "latents, uint8 replies) so the server's own work is negligible. Each K runs K x\n"
    "--requests-per-slot requests; the baseline sends --sequential requests one at a time in the\n"
    "same run. Reports requests/s, the fraction of the ideal K / latency, and the speed-up.\n";

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> values;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    char* end = nullptr;
    const long value = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || value < 1 || value > 1024) {
      throw UsageError{"--in-flight needs numbers from 1 to 1024, got '" + item + "'"};
    }
    values.push_back(static_cast<int>(value));
  }
  if (values.empty()) throw UsageError{"--in-flight needs at least one number"};
  return values;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int bench_command(const std::vector<std::string>& argv) {
  const Args args(argv, {"latency-ms", "in-flight", "requests-per-slot", "sequential"}, {"help"});
  if (args.has("help")) {
    std::cout << kUsage;
    return 0;
  }
  const int latency_ms = args.get_int("latency-ms", 1, 10'000).value_or(20);
  const std::vector<int> levels = parse_list(args.get("in-flight").value_or("1,4,16,64"));
  const int per_slot = args.get_int("requests-per-slot", 1, 10'000).value_or(8);
  const int sequential = args.get_int("sequential", 1, 100'000).value_or(50);
  const int most = *std::max_element(levels.begin(), levels.end());

  reference::ReferenceEndpointOptions endpoint_options;
  // One server thread per open connection, so K connections never wait for a thread.
  endpoint_options.worker_threads = most + 4;
  // Connections stay open across the phases, as they would against a busy endpoint.
  endpoint_options.keep_alive_timeout = std::chrono::seconds(60);
  reference::ReferenceEndpoint endpoint(endpoint_options);
  take(endpoint.start());
  endpoint.set_latency(std::chrono::milliseconds(latency_ms));
  const std::string url = endpoint.url("/sd15/decode/");

  ClientOptions client_options;
  client_options.max_in_flight = static_cast<std::size_t>(most);
  client_options.token_from_environment = false;
  Client client(client_options);
  const Tensor latents = take(Tensor::zeros({1, 4, 8, 8}, DType::kFloat16));
  DecodeOptions options;
  options.output_type = OutputType::kUInt8;

  // Warm-up: opens connections so the first level does not pay for them alone.
  std::vector<TensorView> warm(static_cast<std::size_t>(most), latents.view());
  BatchOptions warm_batch;
  warm_batch.max_in_flight = static_cast<std::size_t>(most);
  for (Result<DecodeOutput>& result : client.decode_batch(url, warm, options, warm_batch)) {
    take(std::move(result));
  }

  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < sequential; ++i)
    take(client.decode(url, latents.view(), options));
  const double sequential_rate = sequential / seconds_since(start);

  std::printf("latency %d ms, payload [1,4,8,8] float16 -> uint8 [1,64,64,3]\n", latency_ms);
  std::printf("one at a time: %d requests, %.1f req/s (ideal %.1f)\n\n", sequential,
              sequential_rate, 1000.0 / latency_ms);
  std::printf("%6s %9s %10s %10s %12s %14s\n", "K", "requests", "req/s", "ideal", "of ideal",
              "vs one-by-one");
  for (int level : levels) {
    const std::size_t count = static_cast<std::size_t>(level) * static_cast<std::size_t>(per_slot);
    std::vector<TensorView> inputs(count, latents.view());
    BatchOptions batch;
    batch.max_in_flight = static_cast<std::size_t>(level);
    start = std::chrono::steady_clock::now();
    std::vector<Result<DecodeOutput>> results = client.decode_batch(url, inputs, options, batch);
    const double elapsed = seconds_since(start);
    for (Result<DecodeOutput>& result : results)
      take(std::move(result));
    const double rate = static_cast<double>(count) / elapsed;
    const double ideal = level * 1000.0 / latency_ms;
    std::printf("%6d %9zu %10.1f %10.1f %12.3f %13.2fx\n", level, count, rate, ideal, rate / ideal,
                rate / sequential_rate);
  }
  return 0;
}

}  // namespace rvae::cli
