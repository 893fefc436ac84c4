// rvae serve: the reference endpoint as a standalone server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cctype>
#include <iostream>
#include <thread>

#include "commands.hpp"
#include "common.hpp"
#include "rvae/testing/reference_endpoint.hpp"

namespace rvae::cli {
namespace {

const char* const kUsage =
    "usage: rvae serve [--host 127.0.0.1] [--port 8000] [--model M --role decode|encode]\n"
    "                  [--latency-ms N] [--context] [--max-side N]\n"
    "\n"
    "Runs the reference endpoint: the remote VAE protocol with a deterministic stand-in VAE.\n"
    "Every model is served at /<model>/decode/ and /<model>/encode/ (sd15, sdxl, flux,\n"
    "hunyuan-video); --model and --role also bind / like a single-model endpoint. --port 0\n"
    "picks a free port. Prints the URL once listening; stops on SIGINT or SIGTERM.\n"
    "--context serves the stand-in with spatial context (PROTOCOL.md section 7: a blur and a\n"
    "per-request colour drift, as real VAEs have), to test tiling; --max-side N changes the cap\n"
    "on image sides (default 2048, as the service).\n";

// Why host:port cannot be listened on, asked of the kernel directly (the server's own error
// does not carry errno): "address already in use", "permission denied", ... or "" when a
// socket binds there now.
std::string bind_problem(const std::string& host, int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    return "'" + host + "' is not an IPv4 address";
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::strerror(errno);
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  std::string problem;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    problem = std::strerror(errno);
    for (char& c : problem)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  ::close(fd);
  return problem;
}

}  // namespace

int serve_command(const std::vector<std::string>& argv) {
  const Args args(argv, {"host", "port", "model", "role", "latency-ms", "max-side"},
                  {"help", "context"});
  if (args.has("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (!args.positionals().empty()) throw UsageError{"serve takes no positional arguments"};
  reference::ReferenceEndpointOptions options;
  options.host = args.get("host").value_or("127.0.0.1");
  options.port = args.get_int("port", 0, 65535).value_or(8000);
  options.spatial_context = args.has("context");
  options.max_image_side = args.get_int("max-side", 8, 65536).value_or(options.max_image_side);
  if (args.has("model") != args.has("role")) throw UsageError{"--model and --role go together"};
  if (std::optional<std::string> model = args.get("model")) {
    const std::string role = *args.get("role");
    if (role != "decode" && role != "encode") {
      throw UsageError{"--role must be decode or encode, got '" + role + "'"};
    }
    options.root =
        reference::RootBinding{*model, role == "decode" ? reference::EndpointRole::kDecode
                                                        : reference::EndpointRole::kEncode};
  }

  // Signals are taken by one thread with sigwait, which may then call stop() safely.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  reference::ReferenceEndpoint endpoint(options);
  if (Result<void> started = endpoint.start(); !started) {
    const std::string problem = bind_problem(options.host, options.port);
    if (problem.empty()) throw std::move(started).error();
    throw Error(ErrorCode::kUnavailable,
                "cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " +
                    problem +
                    (problem == "address already in use"
                         ? " (another program has that port; choose another with --port N, or "
                           "--port 0 for a free one)"
                         : ""));
  }
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
