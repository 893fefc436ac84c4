// A model's routes from an endpoint URL: `.../v2/models/{name}[/versions/{digits}]`.
#include <algorithm>
#include <string>
#include <vector>

#include "protocol/open_inference.hpp"

namespace rvae::protocol::oip {
namespace {

bool is_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A path segment of RFC 3986 pchars (percent-encoding kept), not "." or "..", which a server
// or proxy would resolve away.
bool is_model_name(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  static constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:@";
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (alnum || kAllowed.find(c) != std::string_view::npos) continue;
    if (c == '%' && i + 2 < name.size() && is_hex(name[i + 1]) && is_hex(name[i + 2])) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

std::string with_query(std::string url, const std::string& query) {
  if (!query.empty()) url += "?" + query;
  return url;
}

}  // namespace

std::string ModelRoute::model_path() const {
  std::string path = base + "/v2/models/" + model;
  if (!version.empty()) path += "/versions/" + version;
  return path;
}
std::string ModelRoute::metadata_url() const {
  return with_query(model_path(), query);
}
std::string ModelRoute::ready_url() const {
  return with_query(model_path() + "/ready", query);
}
std::string ModelRoute::infer_url() const {
  return with_query(model_path() + "/infer", query);
}
std::string ModelRoute::server_ready_url() const {
  return with_query(base + "/v2/health/ready", query);
}

std::optional<ModelRoute> parse_model_route(std::string_view url) {
  // The fragment is no part of what is sent; validate_endpoint refuses it anyway.
  url = url.substr(0, url.find('#'));
  std::string_view query;
  if (const std::size_t q = url.find('?'); q != std::string_view::npos) {
    query = url.substr(q + 1);
    url = url.substr(0, q);
  }
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return std::nullopt;
  // The authority (userinfo, host, IPv6 literal, port) ends at the first '/'.
  const std::size_t path_start = url.find('/', scheme_end + 3);
  if (path_start == std::string_view::npos) return std::nullopt;
  std::string_view path = url.substr(path_start);
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);  // One trailing slash.

  std::vector<std::string_view> segments;  // path[0] is '/', so segments[0] is empty.
  for (std::size_t pos = 0; pos <= path.size();) {
    const std::size_t next = std::min(path.find('/', pos), path.size());
    segments.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  const std::size_t n = segments.size();
  ModelRoute route;
  std::size_t v2 = 0;  // Index of the "v2" segment.
  if (n >= 6 && segments[n - 2] == "versions" && is_digits(segments[n - 1]) &&
      segments[n - 4] == "models" && segments[n - 5] == "v2" && is_model_name(segments[n - 3])) {
    route.model = std::string(segments[n - 3]);
    route.version = std::string(segments[n - 1]);
    v2 = n - 5;
  } else if (n >= 4 && segments[n - 2] == "models" && segments[n - 3] == "v2" &&
             is_model_name(segments[n - 1])) {
    route.model = std::string(segments[n - 1]);
    v2 = n - 3;
  } else {
    return std::nullopt;
  }
  // The prefix before /v2: whole non-empty segments ("//v2" is not a model's path).
  for (std::size_t i = 1; i < v2; ++i) {
    if (segments[i].empty()) return std::nullopt;
  }
  std::string_view prefix =
      path.substr(0, static_cast<std::size_t>(segments[v2].data() - path.data()) - 1);
  route.base = std::string(url.substr(0, path_start)) + std::string(prefix);
  route.query = std::string(query);
  return route;
}

http::HttpRequest get_request() {
  http::HttpRequest request;
  request.method = "GET";
  request.headers.push_back({"Accept", "application/json"});
  return request;
}

}  // namespace rvae::protocol::oip
