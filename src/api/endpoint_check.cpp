// Client::check: each replica's readiness route, then its metadata, one attempt each (a health
// check reports what is, it does not wait for a replica to recover).
#include <string>
#include <utility>

#include "api/engine.hpp"
#include "api/open_inference_calls.hpp"
#include "core/try.hpp"
#include "protocol/open_inference.hpp"
#include "transport/url.hpp"

namespace rvae::detail {

namespace oip = protocol::oip;
using transport::Clock;

namespace {

ModelInfo model_info(const oip::ModelMetadata& metadata) {
  ModelInfo info;
  info.name = metadata.name;
  info.platform = metadata.platform;
  info.versions = metadata.versions;
  for (const oip::TensorMetadata& tensor : metadata.inputs)
    info.inputs.push_back({tensor.name, tensor.datatype, tensor.shape});
  for (const oip::TensorMetadata& tensor : metadata.outputs)
    info.outputs.push_back({tensor.name, tensor.datatype, tensor.shape});
  return info;
}

}  // namespace

Result<EndpointStatus> Engine::check(const Endpoint& endpoint, const RequestControl& control) {
  RVAE_ASSIGN_OR_RETURN(const bool open_inference, speaks_open_inference(endpoint));
  if (!open_inference) {
    return Error(ErrorCode::kInvalidArgument,
                 "a readiness check needs an Open Inference model URL (.../v2/models/NAME): "
                 "Hugging Face endpoints have no readiness route");
  }
  if (std::optional<Error> refused = check_call(endpoint)) return std::move(*refused);
  RVAE_ASSIGN_OR_RETURN(std::vector<oip::ModelRoute> routes, open_inference_routes(endpoint));
  const Clock::time_point deadline = now_() + control.deadline.value_or(options_.deadline);
  auto get = std::make_shared<const http::HttpRequest>(oip::get_request());
  EndpointStatus status;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const std::string& url = endpoint.urls()[i];
    transport::TransferOptions limits;
    limits.deadline = deadline;
    limits.connect_timeout = options_.connect_timeout;
    limits.attempt_timeout = options_.attempt_timeout;
    limits.cancel = control.cancel;
    limits.send_token = token_goes_to(token_, url, options_.allow_token_over_http).value_or(false);
    ReplicaStatus replica;
    replica.url = transport::redact_url(url);
    transport::TransferResult ready = transport_->send(routes[i].ready_url(), get, limits);
    if (!ready.response) {
      replica.detail = ready.response.error().message();
    } else if (ready.response->status == 200) {
      replica.ready = true;
    } else {
      const Error refused = protocol::error_from_reply(*ready.response);
      replica.detail =
          refused.server_message().empty() ? refused.message() : refused.server_message();
    }
    if (ready.response) {
      transport::TransferResult read = transport_->send(routes[i].metadata_url(), get, limits);
      if (read.response) {
        Result<oip::ModelMetadata> metadata =
            oip::parse_metadata_reply(std::move(read.response).value());
        if (metadata) {
          replica.model = model_info(*metadata);
        } else if (replica.ready) {
          replica.ready = false;  // Ready, but calls could not use it.
          replica.detail = "its metadata is unusable: " + metadata.error().message();
        }
      }
    }
    if (control.cancel && control.cancel->cancelled()) {
      return Error(ErrorCode::kCancelled, "the check was cancelled");
    }
    status.replicas.push_back(std::move(replica));
  }
  return status;
}

}  // namespace rvae::detail
