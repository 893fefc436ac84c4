// rvae check: is an Open Inference model ready, on each replica, and what does it take and give.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "common.hpp"

namespace rvae::cli {
namespace {

const char* const kUsage =
    "usage: rvae check [--protocol auto|open-inference] [--timeout SECONDS] [--token-file PATH]\n"
    "                  [--allow-http-token] [--json] URL...\n"
    "\n"
    "Asks an Open Inference model (a URL ending in /v2/models/NAME, several URLs for replicas)\n"
    "whether it is ready (GET .../ready) and prints its metadata: platform, versions, input and\n"
    "output tensors with their datatypes and shapes (-1: any size). One attempt per replica.\n"
    "--json prints one JSON object instead. Exit codes: 0 when at least one replica is ready, 1\n"
    "when none is (or the check failed), 2 usage error.\n";

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

nlohmann::json tensors_json(const std::vector<TensorInfo>& tensors) {
  nlohmann::json out = nlohmann::json::array();
  for (const TensorInfo& tensor : tensors)
    out.push_back({{"name", tensor.name}, {"datatype", tensor.datatype}, {"shape", tensor.shape}});
  return out;
}

void print_text(const EndpointStatus& status) {
  for (const ReplicaStatus& replica : status.replicas) {
    std::cout << replica.url << ": " << (replica.ready ? "ready" : "not ready");
    if (!replica.detail.empty()) std::cout << " (" << replica.detail << ")";
    std::cout << "\n";
    if (!replica.model) continue;
    const ModelInfo& model = *replica.model;
    std::cout << "  model " << model.name << ", platform " << model.platform;
    if (!model.versions.empty()) {
      std::cout << ", versions";
      for (const std::string& version : model.versions)
        std::cout << " " << version;
    }
    std::cout << "\n";
    for (const TensorInfo& tensor : model.inputs)
      std::cout << "  input  " << tensor.name << " " << tensor.datatype << " "
                << shape_text(tensor.shape) << "\n";
    for (const TensorInfo& tensor : model.outputs)
      std::cout << "  output " << tensor.name << " " << tensor.datatype << " "
                << shape_text(tensor.shape) << "\n";
  }
}

void print_json(const EndpointStatus& status) {
  nlohmann::json replicas = nlohmann::json::array();
  for (const ReplicaStatus& replica : status.replicas) {
    nlohmann::json one = {{"url", replica.url}, {"ready", replica.ready}};
    if (!replica.detail.empty()) one["detail"] = replica.detail;
    if (replica.model) {
      one["model"] = {{"name", replica.model->name},
                      {"platform", replica.model->platform},
                      {"versions", replica.model->versions},
                      {"inputs", tensors_json(replica.model->inputs)},
                      {"outputs", tensors_json(replica.model->outputs)}};
    }
    replicas.push_back(std::move(one));
  }
  std::cout << nlohmann::json({{"ready", status.ready()}, {"replicas", replicas}}).dump() << "\n";
}

}  // namespace

int check_command(const std::vector<std::string>& argv) {
  std::set<std::string> flags = kClientFlags;
  flags.insert({"help", "json"});
  const Args args(argv, {"protocol", "timeout", "token-file"}, flags);
  if (args.has("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (args.positionals().empty()) throw UsageError{"give the model's URL (.../v2/models/NAME)"};
  if (args.get("protocol").value_or("auto") == "hf") {
    throw UsageError{
        "rvae check asks Open Inference endpoints; Hugging Face's have no readiness "
        "route"};
  }
  Endpoint endpoint(args.positionals());
  if (args.get("protocol").value_or("auto") == "open-inference") {
    endpoint.with_protocol(WireProtocol::kOpenInference);
  } else if (args.get("protocol").value_or("auto") != "auto") {
    throw UsageError{"--protocol must be auto or open-inference"};
  }
  Client client(client_options(args));
  const EndpointStatus status = take(client.check(endpoint));
  if (args.has("json")) {
    print_json(status);
  } else {
    print_text(status);
  }
  return status.ready() ? 0 : 1;
}

}  // namespace rvae::cli
