// Turns libcurl failures into rvae errors with messages fit to show a user.
#pragma once

#include <curl/curl.h>

#include <string_view>

#include "http/retryable.hpp"
#include "rvae/error.hpp"

namespace rvae::transport {

/// What libcurl's code means for the caller.
http::NetworkFailure classify_curl(CURLcode code) noexcept;

/// Maps a failed transfer to an Error naming what happened and where (resolve/connect failures
/// Unavailable, timeouts DeadlineExceeded, a body cut short DataLoss, ...), retryable exactly
/// for the conditions of http/retryable.hpp. `in_headers` says the reply's headers had not
/// all arrived yet (libcurl reports a header over its limit as out of memory; the message then
/// names the limit, not libcurl's text).
Error error_from_curl(CURLcode code, const char* error_buffer, std::string_view url,
                      bool in_headers);

}  // namespace rvae::transport
