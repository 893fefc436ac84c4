// What a readiness check of an endpoint finds (Client::check): for an Open Inference model,
// whether each replica serves it now, and the model's metadata.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rvae/client_options.hpp"
#include "rvae/export.h"

namespace rvae {

/// One tensor of a model, as its metadata describes it.
struct TensorInfo {
  std::string name;
  std::string datatype;             ///< As the server spells it: "FP16", "FP32", "BF16", ...
  std::vector<std::int64_t> shape;  ///< -1 for a variable dimension.
};

/// A model's metadata (`GET /v2/models/{name}`).
struct ModelInfo {
  std::string name;
  std::string platform;
  std::vector<std::string> versions;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
};

/// One replica's answer.
struct ReplicaStatus {
  std::string url;     ///< The replica's URL without credentials or query.
  bool ready = false;  ///< The model is ready to serve requests there.
  std::string detail;  ///< Why not (the server's message or the error); empty when ready.
  std::optional<ModelInfo> model;  ///< The metadata, when it could be read.
};

struct EndpointStatus {
  WireProtocol protocol = WireProtocol::kOpenInference;
  std::vector<ReplicaStatus> replicas;  ///< In the endpoint's order.
  /// True when at least one replica is ready (calls go to ready ones).
  bool ready() const noexcept {
    for (const ReplicaStatus& replica : replicas) {
      if (replica.ready) return true;
    }
    return false;
  }
};

}  // namespace rvae
