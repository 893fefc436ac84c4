// rvae_error and the status codes: every failure of the C API is reported through here.
#include <string>

#include "capi/capi.hpp"

namespace rvae::capi {

int status_of(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return RVAE_ERR_INVALID_ARGUMENT;
    case ErrorCode::kDeadlineExceeded:
      return RVAE_ERR_DEADLINE_EXCEEDED;
    case ErrorCode::kUnavailable:
      return RVAE_ERR_UNAVAILABLE;
    case ErrorCode::kResourceExhausted:
      return RVAE_ERR_RESOURCE_EXHAUSTED;
    case ErrorCode::kUnauthenticated:
      return RVAE_ERR_UNAUTHENTICATED;
    case ErrorCode::kPermissionDenied:
      return RVAE_ERR_PERMISSION_DENIED;
    case ErrorCode::kNotFound:
      return RVAE_ERR_NOT_FOUND;
    case ErrorCode::kDataLoss:
      return RVAE_ERR_DATA_LOSS;
    case ErrorCode::kInternal:
      return RVAE_ERR_INTERNAL;
    case ErrorCode::kCancelled:
      return RVAE_ERR_CANCELLED;
  }
  return RVAE_ERR_INTERNAL;
}

int fail(rvae_error** err, const Error& error) noexcept {
  if (err != nullptr) {
    // Out of memory while reporting an error: the status still says what happened.
    *err = new (std::nothrow) rvae_error{error};
  }
  return status_of(error.code());
}

int fail(rvae_error** err, ErrorCode code, const std::string& message) noexcept {
  try {
    return fail(err, Error(code, message));
  } catch (...) {
    if (err != nullptr) *err = nullptr;
    return status_of(code);
  }
}

int succeed(rvae_error** err) noexcept {
  if (err != nullptr) *err = nullptr;
  return RVAE_OK;
}

}  // namespace rvae::capi

extern "C" {

const char* rvae_error_message(const rvae_error* e) {
  return e ? e->error.what() : "";
}

int rvae_error_code(const rvae_error* e) {
  return e ? rvae::capi::status_of(e->error.code()) : RVAE_ERR_INVALID_ARGUMENT;
}

int rvae_error_http_status(const rvae_error* e) {
  return e ? e->error.http_status() : 0;
}

const char* rvae_error_server_message(const rvae_error* e) {
  return e ? e->error.server_message().c_str() : "";
}

int rvae_error_retryable(const rvae_error* e) {
  return e && e->error.retryable() ? 1 : 0;
}

void rvae_error_free(rvae_error* e) {
  delete e;
}

const char* rvae_status_name(int status) {
  if (status == RVAE_OK) return "OK";
  if (status < RVAE_ERR_INVALID_ARGUMENT || status > RVAE_ERR_CANCELLED) return "Unknown";
  // The C codes are rvae::ErrorCode's values plus one (checked by the C API tests).
  return rvae::to_string(static_cast<rvae::ErrorCode>(status - 1));
}

const char* rvae_version(void) {
  return rvae::version();
}

}  // extern "C"
