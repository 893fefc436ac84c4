// rvae serve: the reference endpoint as a standalone server.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "commands.hpp"
#include "common.hpp"
#include "rvae/testing/reference_endpoint.hpp"

namespace rvae::cli {
namespace {

const char* const kUsage =
    "usage: rvae serve [--host 127.0.0.1] [--port 8000] [--model M --role decode|encode]\n"
    "                  [--latency-ms N]\n"
    "\n"
    "Runs the reference endpoint: the remote VAE protocol with a deterministic stand-in VAE.\n"
    "Every model is served at /<model>/decode/ and /<model>/encode/ (sd15, sdxl, flux,\n"
    "hunyuan-video); --model and --role also bind / like a single-model endpoint. --port 0\n"
    "picks a free port. Prints the URL once listening; stops on SIGINT or SIGTERM.\n";

}  // namespace

int serve_command(const std::vector<std::string>& argv) {
  const Args args(argv, {"host", "port", "model", "role", "latency-ms"}, {"help"});
  if (args.has("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (!args.positionals().empty()) throw UsageError{"serve takes no positional arguments"};
  testing::ReferenceEndpointOptions options;
  options.host = args.get("host").value_or("127.0.0.1");
  options.port = args.get_int("port", 0, 65535).value_or(8000);
  if (args.has("model") != args.has("role")) throw UsageError{"--model and --role go together"};
  if (std::optional<std::string> model = args.get("model")) {
    const std::string role = *args.get("role");
    if (role != "decode" && role != "encode") {
      throw UsageError{"--role must be decode or encode, got '" + role + "'"};
    }
    options.root = testing::RootBinding{
        *model, role == "decode" ? testing::EndpointRole::kDecode : testing::EndpointRole::kEncode};
  }

  // Signals are taken by one thread with sigwait, which may then call stop() safely.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  testing::ReferenceEndpoint endpoint(options);
  take(endpoint.start());
  if (std::optional<int> latency = args.get_int("latency-ms", 0, 600000)) {
    endpoint.set_latency(std::chrono::milliseconds(*latency));
  }
  std::cout << "serving " << endpoint.url("/") << std::endl;
  int received = 0;
  sigwait(&stop_signals, &received);
  endpoint.stop();
  std::cout << "stopped" << std::endl;
  return 0;
}

}  // namespace rvae::cli
