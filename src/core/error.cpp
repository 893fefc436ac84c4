#include "rvae/error.hpp"

#include <utility>

namespace rvae {

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "InvalidArgument";
    case ErrorCode::kDeadlineExceeded:
      return "DeadlineExceeded";
    case ErrorCode::kUnavailable:
      return "Unavailable";
    case ErrorCode::kResourceExhausted:
      return "ResourceExhausted";
    case ErrorCode::kUnauthenticated:
      return "Unauthenticated";
    case ErrorCode::kPermissionDenied:
      return "PermissionDenied";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kDataLoss:
      return "DataLoss";
    case ErrorCode::kInternal:
      return "Internal";
    case ErrorCode::kCancelled:
      return "Cancelled";
  }
  return "Unknown";
}

Error::Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {
  refresh_what();
}

Error& Error::with_http_status(int status) & {
  http_status_ = status;
  refresh_what();
  return *this;
}
Error&& Error::with_http_status(int status) && {
  return std::move(with_http_status(status));
}

Error& Error::with_server_message(std::string message) & {
  server_message_ = std::move(message);
  refresh_what();
  return *this;
}
Error&& Error::with_server_message(std::string message) && {
  return std::move(with_server_message(std::move(message)));
}

Error& Error::with_retryable(bool retryable) & {
  retryable_ = retryable;
  return *this;
}
Error&& Error::with_retryable(bool retryable) && {
  return std::move(with_retryable(retryable));
}

void Error::refresh_what() {
  what_ = to_string(code_);
  what_ += ": ";
  what_ += message_;
  if (http_status_ != 0) what_ += " (HTTP " + std::to_string(http_status_) + ")";
  if (!server_message_.empty()) what_ += ": server said: " + server_message_;
}

}  // namespace rvae
