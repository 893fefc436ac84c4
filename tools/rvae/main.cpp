// rvae: decode and encode with remote VAE endpoints, serve the reference endpoint, run the demo.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "args.hpp"
#include "commands.hpp"
#include "console.hpp"
#include "report.hpp"
#include "rvae/client.hpp"
#include "rvae/error.hpp"

namespace {

#ifndef RVAE_CLI_SERVER_COMMANDS
#define RVAE_CLI_SERVER_COMMANDS 1
#endif
// The build flag that left the server commands out (set by CMakeLists.txt).
#ifndef RVAE_CLI_NO_SERVER_FLAG
#define RVAE_CLI_NO_SERVER_FLAG "-DRVAE_CLI_SERVER_COMMANDS=OFF"
#endif

const char* const kUsageClient =
    "usage: rvae <command> [options]\n"
    "       rvae --version | --help\n"
    "\n"
    "commands:\n"
    "  decode   latents file -> image, tensor, frames or MP4 via a remote VAE endpoint\n"
    "  encode   image -> latents file via a remote VAE endpoint\n"
    "  preview  latents file -> approximate image, computed locally and at once (no network)\n"
    "  presets  list the model presets (endpoints, factors, channels, cap)\n"
    "  check    is an Open Inference model ready; its inputs and outputs\n";
// The commands that run the reference endpoint in-process; a client-only build
// (-DRVAE_CLI_SERVER_COMMANDS=OFF) leaves them out, and with them libmicrohttpd.
const char* const kServerCommands[] = {"serve", "demo", "bench", "tile-bench"};
#if RVAE_CLI_SERVER_COMMANDS
const char* const kUsageServer =
    "  serve    run the reference endpoint (stand-in VAE, same protocol)\n"
    "  demo     image round trips, tiling and video chunking on an in-process reference endpoint\n"
    "  bench    concurrency throughput against an in-process reference endpoint\n"
    "  tile-bench  tiled decode/encode quality, wall time and memory (BENCHMARKS.md)\n";
#else
const char* const kUsageServer = "";
#endif
const char* const kUsageEnd =
    "\n"
    "'rvae <command> --help' describes each. Exit codes: 0 ok, 1 runtime error, 2 usage error,\n"
    "130 interrupted. Environment: RVAE_TOKEN, HF_TOKEN, RVAE_ENDPOINT, RVAE_PRESETS.\n";

bool is_server_command(const std::string& command) {
  return std::find(std::begin(kServerCommands), std::end(kServerCommands), command) !=
         std::end(kServerCommands);
}

}  // namespace

int main(int argc, char** argv) {
  rvae::cli::prepare_standard_streams();
  std::vector<std::string> args = rvae::cli::utf8_arguments(argc, argv);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsageClient << kUsageServer << kUsageEnd;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "-V") {
    std::cout << "rvae " << rvae::version() << "\n";
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "decode") return rvae::cli::decode_command(args);
    if (command == "encode") return rvae::cli::encode_command(args);
    if (command == "presets") return rvae::cli::presets_command(args);
    if (command == "preview") return rvae::cli::preview_command(args);
    if (command == "check") return rvae::cli::check_command(args);
#if RVAE_CLI_SERVER_COMMANDS
    if (command == "serve") return rvae::cli::serve_command(args);
    if (command == "demo") return rvae::cli::demo_command(args);
    if (command == "bench") return rvae::cli::bench_command(args);
    if (command == "tile-bench") return rvae::cli::tile_bench_command(args);
#endif
    if (is_server_command(command)) {
      std::cerr << "rvae " << command
                << ": this rvae was built without the server commands (" RVAE_CLI_NO_SERVER_FLAG
                   ")\n";
      return 2;
    }
    std::cerr << "rvae: unknown command '" << command << "'\n"
              << kUsageClient << kUsageServer << kUsageEnd;
    return 2;
  } catch (const rvae::cli::UsageError& error) {
    std::cerr << "rvae " << command << ": " << error.message << " (see rvae " << command
              << " --help)\n";
    return 2;
  } catch (const rvae::Error& error) {
    std::cerr << "rvae " << command << ": " << rvae::cli::describe(error) << "\n";
    return 1;
  } catch (const std::exception& error) {
    std::cerr << "rvae " << command << ": " << error.what() << "\n";
    return 1;
  }
}
