// Errors as values: rvae::Error and rvae::Result<T>.
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "rvae/export.h"

namespace rvae {

/// Canonical error codes (abseil's vocabulary). Each tells the caller what to do next.
enum class ErrorCode {
  kInvalidArgument,    ///< The caller's input (or a file it named) is wrong; retrying won't help.
  kDeadlineExceeded,   ///< A timeout elapsed; a retry with more time may help.
  kUnavailable,        ///< The service or the network is down for now; a retry may help.
  kResourceExhausted,  ///< Rate limit or a size cap was hit.
  kUnauthenticated,    ///< Missing or bad token (HTTP 401).
  kPermissionDenied,   ///< Token lacks access (HTTP 403).
  kNotFound,           ///< Endpoint or file not found.
  kDataLoss,           ///< A reply or file was cut short or does not match what it claims.
  kInternal,           ///< The server (or this library) broke an invariant.
  kCancelled,          ///< The caller cancelled the operation.
};

/// Stable name of a code, e.g. "InvalidArgument".
RVAE_API const char* to_string(ErrorCode code) noexcept;

/// What went wrong. Copyable; also thrown by Result::value() on an error, so it derives from
/// std::exception. Messages never contain secrets (tokens, Authorization headers).
class RVAE_API Error : public std::exception {
 public:
  /// An error with a code and a one-line message naming the cause (no secrets in it).
  Error(ErrorCode code, std::string message);

  ErrorCode code() const noexcept { return code_; }
  /// One line naming the cause, without the code prefix.
  const std::string& message() const noexcept { return message_; }
  /// HTTP status of the reply that caused this error; 0 when no reply was involved.
  int http_status() const noexcept { return http_status_; }
  /// The server's own message (the `error` field of a JSON body, or a cleaned-up excerpt of any
  /// other body); empty when there was none.
  const std::string& server_message() const noexcept { return server_message_; }
  /// True when sending the same request again may succeed (timeouts, 429, 502, 503, 504...).
  bool retryable() const noexcept { return retryable_; }

  /// Builders for the optional parts; each returns the same Error, for chaining.
  Error& with_http_status(int status) &;
  Error&& with_http_status(int status) &&;
  Error& with_server_message(std::string message) &;
  Error&& with_server_message(std::string message) &&;
  Error& with_retryable(bool retryable) &;
  Error&& with_retryable(bool retryable) &&;

  /// "Code: message" (plus the HTTP status and server message when present).
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  void refresh_what();

  ErrorCode code_;
  std::string message_;
  int http_status_ = 0;
  std::string server_message_;
  bool retryable_ = false;
  std::string what_;
};

/// Either a T or an Error, with the method names of std::expected.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, Error>, "Result<Error> is ambiguous");

 public:
  Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}      // NOLINT
  Result(Error error) : storage_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool has_value() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; throws the Error when there is none.
  T& value() & {
    throw_if_error();
    return std::get<0>(storage_);
  }
  /// The value; throws the Error when there is none.
  const T& value() const& {
    throw_if_error();
    return std::get<0>(storage_);
  }
  /// The value, moved out; throws the Error when there is none.
  T&& value() && {
    throw_if_error();
    return std::get<0>(std::move(storage_));
  }

  /// The error; throws std::bad_variant_access when there is a value instead.
  const Error& error() const& { return std::get<1>(storage_); }
  Error&& error() && { return std::get<1>(std::move(storage_)); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  /// The value, or `fallback` when there is an error.
  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(storage_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void throw_if_error() const {
    if (!has_value()) throw std::get<1>(storage_);
  }
  std::variant<T, Error> storage_;
};

/// Success without a value, or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  /// Success.
  Result() = default;
  Result(Error error) : error_(std::in_place, std::move(error)) {}  // NOLINT

  bool has_value() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  /// Throws the Error when there is one.
  void value() const {
    if (error_) throw *error_;
  }
  /// The error; throws std::bad_variant_access on a success, as Result<T>::error() does.
  const Error& error() const& {
    throw_if_success();
    return *error_;
  }
  Error&& error() && {
    throw_if_success();
    return std::move(*error_);
  }

 private:
  void throw_if_success() const {
    if (!error_) throw std::bad_variant_access();
  }
  std::optional<Error> error_;
};

}  // namespace rvae
