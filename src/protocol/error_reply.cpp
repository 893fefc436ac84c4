#include <string>

#include "http/retryable.hpp"
#include "protocol/protocol.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol {
namespace {

// Codes follow abseil's promises; whether a retry may help comes from http/retryable.hpp.
ErrorCode classify(int status) {
  switch (status) {
    case 400:
      return ErrorCode::kInvalidArgument;
    case 401:
      return ErrorCode::kUnauthenticated;
    case 403:
      return ErrorCode::kPermissionDenied;
    case 404:
      return ErrorCode::kNotFound;
    case 408:
      return ErrorCode::kDeadlineExceeded;
    case 413:
    case 429:
      return ErrorCode::kResourceExhausted;
    case 500:
      return ErrorCode::kInternal;
    case 502:
    case 503:
      return ErrorCode::kUnavailable;
    case 504:
      return ErrorCode::kDeadlineExceeded;
    default:
      break;
  }
  if (status >= 400 && status < 500) return ErrorCode::kInvalidArgument;
  // Other 5xx (501, 505, ...) and anything that is not an error status at all (1xx, 2xx other
  // than 200, an unfollowed 3xx redirect, nonsense): the service cannot serve this request as
  // addressed.
  return ErrorCode::kUnavailable;
}

}  // namespace

Error error_from_reply(const HttpResponse& response) {
  const ErrorCode code = classify(response.status);
  std::string message = "the endpoint answered HTTP " + std::to_string(response.status);
  // The Location is not echoed: redirect targets can carry signed tokens.
  if (response.status >= 300 && response.status < 400) {
    message += " (a redirect, not followed; check the endpoint URL)";
  }
  return Error(code, std::move(message))
      .with_http_status(response.status)
      .with_server_message(internal::summarize_body(response.body, response.header("Content-Type")))
      .with_retryable(http::is_retryable_status(response.status));
}

}  // namespace rvae::protocol
