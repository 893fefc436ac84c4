#include "api/token_policy.hpp"

#include "transport/url.hpp"

namespace rvae::detail {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool is_domain_or_subdomain(std::string_view host, std::string_view domain) {
  if (host == domain) return true;
  return host.size() > domain.size() && ends_with(host, domain) &&
         host[host.size() - domain.size() - 1] == '.';
}

}  // namespace

bool is_huggingface_host(std::string_view host) {
  if (!host.empty() && host.back() == '.')
    host.remove_suffix(1);  // "huggingface.co." is the same host
  for (std::string_view domain : {"huggingface.co", "hf.co", "huggingface.cloud", "hf.space"}) {
    if (is_domain_or_subdomain(host, domain)) return true;
  }
  return false;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  // 127.0.0.0/8 in dotted form only: libcurl also parses "127.1" or "0x7f.1", but refusing a
  // token there only costs a user who writes such URLs a clear message.
  if (host.substr(0, 4) != "127.") return false;
  int dots = 0;
  for (const char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

Result<bool> token_goes_to(const ScopedToken& token, std::string_view url, bool allow_http) {
  if (token.token.empty()) return false;
  const transport::SchemeAndHost where = transport::scheme_and_host(url);
  if (token.scope == TokenScope::kHuggingFaceHosts) {
    return where.scheme == "https" && is_huggingface_host(where.host);
  }
  if (where.scheme == "https" || is_loopback_host(where.host) || allow_http) return true;
  return Error(ErrorCode::kInvalidArgument,
               "refusing to send the token in clear over http to " + where.host +
                   ": use https, or allow it explicitly (rvae: --allow-http-token)");
}

}  // namespace rvae::detail
