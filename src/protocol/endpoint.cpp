#include <string>

#include "protocol/protocol.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol {
namespace {

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && http::iequals(text.substr(0, prefix.size()), prefix);
}

}  // namespace

Result<void> validate_endpoint(std::string_view endpoint) {
  if (endpoint.empty()) return internal::invalid_argument("endpoint is empty");
  for (std::size_t i = 0; i < endpoint.size(); ++i) {
    const auto byte = static_cast<unsigned char>(endpoint[i]);
    if (byte <= 0x20 || byte == 0x7F) {
      return internal::invalid_argument(
          "endpoint contains a space or control character at offset " + std::to_string(i));
    }
    // A fragment would swallow the query parameters appended after it.
    if (byte == '#') {
      return internal::invalid_argument("endpoint contains a '#' fragment at offset " +
                                        std::to_string(i));
    }
  }
  std::size_t host_start = 0;
  if (starts_with_nocase(endpoint, "http://")) {
    host_start = 7;
  } else if (starts_with_nocase(endpoint, "https://")) {
    host_start = 8;
  } else {
    return internal::invalid_argument("endpoint must start with http:// or https://");
  }
  if (host_start == endpoint.size() || endpoint[host_start] == '/' || endpoint[host_start] == '?') {
    return internal::invalid_argument("endpoint has no host after the scheme");
  }
  return {};
}

std::string compose_url(std::string_view endpoint, std::string_view query) {
  std::string url(endpoint);
  if (query.empty()) return url;
  if (url.find('?') == std::string::npos) {
    url += '?';
  } else if (url.back() != '?' && url.back() != '&') {
    url += '&';
  }
  url += query;
  return url;
}

void add_scale_up_timeout(HttpRequest& request, std::chrono::seconds timeout) {
  request.headers.push_back({"X-Scale-Up-Timeout", std::to_string(timeout.count())});
}

}  // namespace rvae::protocol
