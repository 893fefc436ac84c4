#include <string>

#include "protocol/protocol.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol {
namespace {

struct StatusClass {
  ErrorCode code;
  bool retryable;
};

// Codes follow abseil's promises: a retry is suggested only where the same request can
// succeed later without change (timeouts, rate limits, gateways and a starting endpoint).
StatusClass classify(int status) {
  switch (status) {
    case 400:
      return {ErrorCode::kInvalidArgument, false};
    case 401:
      return {ErrorCode::kUnauthenticated, false};
    case 403:
      return {ErrorCode::kPermissionDenied, false};
    case 404:
      return {ErrorCode::kNotFound, false};
    case 408:
      return {ErrorCode::kDeadlineExceeded, true};
    case 413:
      return {ErrorCode::kResourceExhausted, false};
    case 429:
      return {ErrorCode::kResourceExhausted, true};
    case 500:
      return {ErrorCode::kInternal, false};
    case 502:
    case 503:
      return {ErrorCode::kUnavailable, true};
    case 504:
      return {ErrorCode::kDeadlineExceeded, true};
    default:
      break;
  }
  if (status >= 400 && status < 500) return {ErrorCode::kInvalidArgument, false};
  // Other 5xx (501, 505, ...) and anything that is not an error status at all (1xx, 2xx other
  // than 200, an unfollowed 3xx redirect, nonsense): the service cannot serve this request as
  // addressed; retrying the same request will not change that.
  return {ErrorCode::kUnavailable, false};
}

}  // namespace

Error error_from_reply(const HttpResponse& response) {
  const StatusClass cls = classify(response.status);
  std::string message = "the endpoint answered HTTP " + std::to_string(response.status);
  // The Location is not echoed: redirect targets can carry signed tokens.
  if (response.status >= 300 && response.status < 400) {
    message += " (a redirect, not followed; check the endpoint URL)";
  }
  return Error(cls.code, std::move(message))
      .with_http_status(response.status)
      .with_server_message(internal::summarize_body(response.body, response.header("Content-Type")))
      .with_retryable(cls.retryable);
}

}  // namespace rvae::protocol
