// The production client against a server in a child process (so the process CPU time measured
// here is the client's alone). Every figure is a ratio to a baseline measured in the same run:
//   cpu_ratio      CPU per request at K = 16 in flight / the same request sent serially
//                  (3 MiB uint8 replies, 20 ms server latency); target <= 1.5.
//   goodput_ratio  a 12 MiB uint8 decode reply / a raw libcurl GET of the same bytes from the
//                  same server; target >= 0.8.
//   of_ideal       requests per second at K = 16 with tiny replies and 20 ms latency / the ideal
//                  16 / 20 ms; target >= 0.9. of_serial_k: the same against 16 / the latency of
//                  one call measured alone in this run (what a loaded machine can give).
#include <benchmark/benchmark.h>
#include <curl/curl.h>
#define CPPHTTPLIB_LISTEN_BACKLOG 128  // Bursts of K connects otherwise lose SYNs.
#include <httplib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "rvae/rvae.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kLatencyMs = 20;
constexpr int kInFlight = 16;

// Reply bodies by path, and the latents that ask for them.
struct Reply {
  const char* path;
  const char* shape;
  std::size_t bytes;
};
constexpr Reply k3MiB{"/u8-3mib", "[1,1024,1024,3]", std::size_t{1024} * 1024 * 3};
constexpr Reply k12MiB{"/u8-12mib", "[1,2048,2048,3]", std::size_t{2048} * 2048 * 3};
constexpr Reply kTiny{"/u8-tiny", "[1,16,8,3]", 16 * 8 * 3};

[[noreturn]] void serve(int port_pipe) {
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(64); };
  // Without it Nagle's algorithm holds each small reply for the client's delayed ACK (~40 ms);
  // and httplib closes a connection after 5 requests by default.
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(100000);
  for (const Reply& reply : {k3MiB, k12MiB, kTiny}) {
    auto body = std::make_shared<std::string>(reply.bytes, '\x5a');
    const std::string shape = reply.shape;
    server.Post(reply.path, [body, shape](const httplib::Request& request, httplib::Response& out) {
      const int latency = request.has_param("latency_ms")
                              ? std::atoi(request.get_param_value("latency_ms").c_str())
                              : 0;
      // The simulated model's work, not synchronisation.
      if (latency > 0) std::this_thread::sleep_for(std::chrono::milliseconds(latency));
      out.set_header("shape", shape);
      out.set_header("dtype", "uint8");
      out.set_content(*body, "tensor/binary");
    });
    server.Get(reply.path, [body](const httplib::Request&, httplib::Response& out) {
      out.set_content(*body, "application/octet-stream");
    });
  }
  const int port = server.bind_to_any_port("127.0.0.1");
  if (::write(port_pipe, &port, sizeof(port)) != static_cast<ssize_t>(sizeof(port))) _exit(1);
  ::close(port_pipe);
  server.listen_after_bind();
  _exit(0);
}

// The server process, started on first use (before this process has any other thread) and
// stopped at exit.
class ServerProcess {
 public:
  static const ServerProcess& get() {
    static ServerProcess process;
    return process;
  }
  std::string url(const Reply& reply, int latency_ms) const {
    return "http://127.0.0.1:" + std::to_string(port_) + reply.path +
           "?latency_ms=" + std::to_string(latency_ms);
  }
  std::string raw_url(const Reply& reply) const {
    return "http://127.0.0.1:" + std::to_string(port_) + reply.path;
  }
  ~ServerProcess() {
    if (child_ > 0) {
      ::kill(child_, SIGTERM);
      ::waitpid(child_, nullptr, 0);
    }
  }

 private:
  ServerProcess() {
    int fds[2];
    if (::pipe(fds) != 0) std::abort();
    child_ = ::fork();
    if (child_ == 0) {
      ::close(fds[0]);
      serve(fds[1]);
    }
    ::close(fds[1]);
    if (::read(fds[0], &port_, sizeof(port_)) != static_cast<ssize_t>(sizeof(port_))) std::abort();
    ::close(fds[0]);
  }
  pid_t child_ = -1;
  int port_ = -1;
};

double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

long minor_faults() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

rvae::ClientOptions bench_options() {
  rvae::ClientOptions options;
  options.token_from_environment = false;
  options.retry.initial_backoff = std::chrono::milliseconds(1);
  return options;
}

// Latents whose uint8 decode is `reply` (8x the latent side, 3 channels).
rvae::Tensor latents_for(const Reply& reply) {
  const std::int64_t side = reply.bytes == k12MiB.bytes  ? 256
                            : reply.bytes == k3MiB.bytes ? 128
                                                         : 0;
  if (side == 0) return rvae::Tensor::zeros({1, 4, 2, 1}, rvae::DType::kFloat16).value();
  return rvae::Tensor::zeros({1, 4, side, side}, rvae::DType::kFloat16).value();
}

rvae::DecodeOptions uint8_decode() {
  rvae::DecodeOptions options;
  options.output_type = rvae::OutputType::kUInt8;
  return options;
}

void check(const rvae::Result<rvae::DecodeOutput>& result, benchmark::State& state) {
  if (!result) state.SkipWithError(result.error().what());
}

// Hands the pixels back to the client when `recycle`, as a throughput-minded caller does.
void finish(rvae::Client& client, rvae::Result<rvae::DecodeOutput>&& result, bool recycle,
            benchmark::State& state) {
  check(result, state);
  if (!result || !recycle) return;
  for (rvae::Image& image : result->images)
    client.recycle(std::move(image.pixels));
}

// CPU per request with K = 16 in flight, as a ratio to the same request sent serially.
// Argument 1: the caller gives each reply's pixels back with Client::recycle.
void BM_CpuPerRequestK16VsSerial(benchmark::State& state) {
  const bool recycle = state.range(0) != 0;
  const ServerProcess& server = ServerProcess::get();
  rvae::Client client(bench_options());
  const std::string url = server.url(k3MiB, kLatencyMs);
  const rvae::Tensor latents = latents_for(k3MiB);
  const std::vector<rvae::TensorView> batch(kInFlight * 2, latents.view());
  rvae::BatchOptions window;
  window.max_in_flight = kInFlight;
  check(client.decode(url, latents.view(), uint8_decode()), state);  // Connect once.
  double serial_cpu = 0;
  double parallel_cpu = 0;
  long serial_faults = 0;
  long parallel_faults = 0;
  std::size_t serial_requests = 0;
  std::size_t parallel_requests = 0;
  for (auto _ : state) {
    double start = process_cpu_seconds();
    long faults = minor_faults();
    for (int i = 0; i < kInFlight; ++i)
      finish(client, client.decode(url, latents.view(), uint8_decode()), recycle, state);
    serial_cpu += process_cpu_seconds() - start;
    serial_faults += minor_faults() - faults;
    serial_requests += kInFlight;
    start = process_cpu_seconds();
    faults = minor_faults();
    for (auto& result : client.decode_batch(url, batch, uint8_decode(), window))
      finish(client, std::move(result), recycle, state);
    parallel_cpu += process_cpu_seconds() - start;
    parallel_faults += minor_faults() - faults;
    parallel_requests += batch.size();
  }
  const double serial_per = serial_cpu / static_cast<double>(serial_requests);
  const double parallel_per = parallel_cpu / static_cast<double>(parallel_requests);
  state.counters["serial_cpu_us"] = serial_per * 1e6;
  state.counters["k16_cpu_us"] = parallel_per * 1e6;
  state.counters["cpu_ratio"] = parallel_per / serial_per;
  state.counters["serial_faults"] =
      static_cast<double>(serial_faults) / static_cast<double>(serial_requests);
  state.counters["k16_faults"] =
      static_cast<double>(parallel_faults) / static_cast<double>(parallel_requests);
}
BENCHMARK(BM_CpuPerRequestK16VsSerial)
    ->ArgName("recycle")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

size_t keep_bytes(char* data, size_t size, size_t count, void* user) {
  auto* buffer = static_cast<std::string*>(user);
  buffer->append(data, size * count);
  return size * count;
}

// A 12 MiB uint8 decode through the Client, against a raw libcurl GET of the same bytes.
void BM_Goodput12MiBVsRawCurl(benchmark::State& state) {
  const ServerProcess& server = ServerProcess::get();
  rvae::Client client(bench_options());
  const std::string url = server.url(k12MiB, 0);
  const rvae::Tensor latents = latents_for(k12MiB);
  CURL* raw = curl_easy_init();
  std::string raw_body;
  raw_body.reserve(k12MiB.bytes);
  const std::string raw_url = server.raw_url(k12MiB);
  curl_easy_setopt(raw, CURLOPT_URL, raw_url.c_str());
  curl_easy_setopt(raw, CURLOPT_WRITEFUNCTION, &keep_bytes);
  curl_easy_setopt(raw, CURLOPT_WRITEDATA, &raw_body);
  curl_easy_setopt(raw, CURLOPT_BUFFERSIZE, 512L * 1024);  // The client's own setting.
  // The same POST as the client's (latents up, pixels down) made with libcurl alone: separates
  // what the request itself costs from what the client adds.
  CURL* raw_post = curl_easy_init();
  std::string post_body;
  post_body.reserve(k12MiB.bytes);
  curl_easy_setopt(raw_post, CURLOPT_URL, url.c_str());
  curl_easy_setopt(raw_post, CURLOPT_POSTFIELDS, latents.data());
  curl_easy_setopt(raw_post, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(latents.view().size_bytes));
  curl_slist* no_expect = curl_slist_append(nullptr, "Expect:");
  no_expect = curl_slist_append(no_expect, "Content-Type: tensor/binary");
  curl_easy_setopt(raw_post, CURLOPT_HTTPHEADER, no_expect);
  curl_easy_setopt(raw_post, CURLOPT_WRITEFUNCTION, &keep_bytes);
  curl_easy_setopt(raw_post, CURLOPT_WRITEDATA, &post_body);
  curl_easy_setopt(raw_post, CURLOPT_BUFFERSIZE, 512L * 1024);
  double client_seconds = 0;
  double raw_seconds = 0;
  double post_seconds = 0;
  for (auto _ : state) {
    Clock::time_point start = Clock::now();
    rvae::Result<rvae::DecodeOutput> result = client.decode(url, latents.view(), uint8_decode());
    client_seconds += seconds_since(start);
    check(result, state);
    raw_body.clear();
    start = Clock::now();
    if (curl_easy_perform(raw) != CURLE_OK || raw_body.size() != k12MiB.bytes) {
      state.SkipWithError("raw libcurl GET failed");
    }
    raw_seconds += seconds_since(start);
    post_body.clear();
    start = Clock::now();
    if (curl_easy_perform(raw_post) != CURLE_OK || post_body.size() != k12MiB.bytes) {
      state.SkipWithError("raw libcurl POST failed");
    }
    post_seconds += seconds_since(start);
  }
  curl_easy_cleanup(raw);
  curl_easy_cleanup(raw_post);
  curl_slist_free_all(no_expect);
  const double mib = static_cast<double>(k12MiB.bytes) / (1 << 20);
  const double runs = static_cast<double>(state.iterations());
  state.counters["client_MiB_s"] = mib * runs / client_seconds;
  state.counters["raw_MiB_s"] = mib * runs / raw_seconds;
  state.counters["goodput_ratio"] = raw_seconds / client_seconds;
  state.counters["raw_post_MiB_s"] = mib * runs / post_seconds;
  state.counters["vs_raw_post"] = post_seconds / client_seconds;
}
BENCHMARK(BM_Goodput12MiBVsRawCurl)->Unit(benchmark::kMillisecond)->Iterations(20);

// Tiny replies at K = 16 with 20 ms latency: requests per second as a fraction of 16 / 20 ms.
void BM_TinyThroughputK16(benchmark::State& state) {
  const ServerProcess& server = ServerProcess::get();
  rvae::Client client(bench_options());
  const std::string url = server.url(kTiny, kLatencyMs);
  const rvae::Tensor latents = latents_for(kTiny);
  const std::vector<rvae::TensorView> batch(kInFlight * 10, latents.view());
  rvae::BatchOptions window;
  window.max_in_flight = kInFlight;
  check(client.decode(url, latents.view(), uint8_decode()), state);
  // The same request alone, in this run: what one call costs on this machine right now.
  constexpr int kSerial = 20;
  const Clock::time_point serial_start = Clock::now();
  for (int i = 0; i < kSerial; ++i)
    check(client.decode(url, latents.view(), uint8_decode()), state);
  const double serial_latency = seconds_since(serial_start) / kSerial;
  double seconds = 0;
  std::size_t requests = 0;
  for (auto _ : state) {
    const Clock::time_point start = Clock::now();
    for (const auto& result : client.decode_batch(url, batch, uint8_decode(), window))
      check(result, state);
    seconds += seconds_since(start);
    requests += batch.size();
  }
  const double per_second = static_cast<double>(requests) / seconds;
  state.counters["requests_s"] = per_second;
  state.counters["of_ideal"] = per_second / (kInFlight * 1000.0 / kLatencyMs);
  state.counters["serial_ms"] = serial_latency * 1e3;
  // Against K calls that each take what one serial call took in this run.
  state.counters["of_serial_k"] = per_second * serial_latency / kInFlight;
}
BENCHMARK(BM_TinyThroughputK16)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
