// rvae serve: the reference endpoint as a standalone server.
#include <initializer_list>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "bind_problem.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "interrupt.hpp"
#include "rvae/testing/reference_endpoint.hpp"

namespace rvae::cli {
namespace {

const char* const kUsage =
    "usage: rvae serve [--host 127.0.0.1] [--port 8000] [--model M --role decode|encode]\n"
    "                  [--latency-ms N] [--context] [--max-side N] [--max-frames N]\n"
    "                  [--oip-input-datatype FP16|FP32|BF16]\n"
    "                  [--oip-output-datatype FP32|FP16|UINT8]\n"
    "\n"
    "Runs the reference endpoint: the remote VAE protocol with a deterministic stand-in VAE.\n"
    "Every model is served at /<model>/decode/ and /<model>/encode/ (sd15, sdxl, flux,\n"
    "hunyuan-video, wan2.1, qwen-image); --model and --role also bind / like a single-model\n"
    "endpoint. The same port answers the Open Inference Protocol (KServe v2, as Triton):\n"
    "/v2/models/<model>_decoder and /v2/models/<model>_encoder. --port 0 picks a free port.\n"
    "Prints the URL once listening; stops on SIGINT or SIGTERM (on Windows: Ctrl-C, Ctrl-Break\n"
    "or closing the console).\n"
    "--context serves the stand-in with spatial context (PROTOCOL.md section 7: a blur and a\n"
    "per-request colour drift, as real VAEs have; for video, section 7.1: causal in time, the\n"
    "whole clip's colour drift), to test tiling and temporal chunking; --max-side N changes the\n"
    "cap on image sides (default 2048, as the service); --max-frames N refuses decodes of more\n"
    "than N output frames (default 0: no cap).\n"
    "--oip-input-datatype names the datatype every Open Inference model takes (default FP16;\n"
    "others are refused, as Triton does); --oip-output-datatype the decoders' output (default\n"
    "FP32; UINT8 gives post-processed pixels, channels last).\n"
#if !RVAE_CLI_SERVE_MP4
    // Windows builds, and others without FFmpeg.
    "This build serves no MP4 (built without FFmpeg): a decode asking for MP4 output is\n"
    "refused with an error; frames and tensors are served as everywhere.\n"
#endif
    ;

// An Open Inference Protocol datatype flag: one of `allowed`, spelled as the protocol spells it.
DType datatype_flag(const Args& args, const std::string& flag,
                    std::initializer_list<const char*> allowed, DType fallback) {
  const std::optional<std::string> value = args.get(flag);
  if (!value) return fallback;
  std::string names;
  for (const char* name : allowed) {
    if (*value == name) {
      if (*value == "FP32") return DType::kFloat32;
      if (*value == "FP16") return DType::kFloat16;
      if (*value == "BF16") return DType::kBFloat16;
      return DType::kUInt8;
    }
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  throw UsageError{"--" + flag + " must be one of " + names + ", got '" + *value + "'"};
}

}  // namespace

int serve_command(const std::vector<std::string>& argv) {
  const Args args(argv,
                  {"host", "port", "model", "role", "latency-ms", "max-side", "max-frames",
                   "oip-input-datatype", "oip-output-datatype"},
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
  options.max_frames = args.get_int("max-frames", 0, 1 << 20).value_or(0);
  options.oip_input_datatype =
      datatype_flag(args, "oip-input-datatype", {"FP16", "FP32", "BF16"}, DType::kFloat16);
  options.oip_decoder_output_datatype =
      datatype_flag(args, "oip-output-datatype", {"FP32", "FP16", "UINT8"}, DType::kFloat32);
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

  // Before the server's threads start (see StopRequests); its wait() may then call stop().
  StopRequests stop_requests;

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
  stop_requests.wait();
  endpoint.stop();
  std::cout << "stopped" << std::endl;
  return 0;
}

}  // namespace rvae::cli
