// Turns libcurl failures into rvae errors with messages fit to show a user.
#pragma once

#include <curl/curl.h>

#include <string>
#include <string_view>

#include "rvae/error.hpp"

namespace rvae::transport {

/// The URL without user:password and without its query, for messages and logs.
std::string redact_url(std::string_view url);

/// Maps a failed transfer to an ErrorCode (connect/resolve failures Unavailable, timeouts
/// DeadlineExceeded, a body cut short DataLoss, ...) and marks transient ones retryable.
Error error_from_curl(CURLcode code, const char* error_buffer, std::string_view url);

}  // namespace rvae::transport
