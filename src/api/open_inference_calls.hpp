// Which endpoints speak the Open Inference Protocol, and where its routes are.
#pragma once

#include <vector>

#include "protocol/open_inference.hpp"
#include "rvae/client_options.hpp"
#include "rvae/error.hpp"

namespace rvae::detail {

/// True for an endpoint told to speak the Open Inference Protocol, or left to kAuto with model
/// URLs (`.../v2/models/NAME[/versions/N]`). InvalidArgument when kAuto replicas disagree.
Result<bool> speaks_open_inference(const Endpoint& endpoint);

/// Each replica's model routes; InvalidArgument naming the replica whose URL is not a model's.
Result<std::vector<protocol::oip::ModelRoute>> open_inference_routes(const Endpoint& endpoint);

}  // namespace rvae::detail
