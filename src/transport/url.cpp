#include "transport/url.hpp"

#include <optional>
#include <string>

namespace rvae::transport {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string redact_url(std::string_view url) {
  std::string_view rest = url;
  std::string scheme;
  if (const std::size_t sep = rest.find("://"); sep != std::string_view::npos) {
    scheme = std::string(rest.substr(0, sep + 3));
    rest.remove_prefix(sep + 3);
  }
  // The query carries only protocol parameters, but it is long and says nothing about the cause.
  if (const std::size_t query = rest.find_first_of("?#"); query != std::string_view::npos) {
    rest = rest.substr(0, query);
  }
  const std::size_t authority_end = rest.find('/');
  const std::string_view authority = rest.substr(0, authority_end);
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    rest.remove_prefix(at + 1);
  }
  return scheme + std::string(rest);
}

namespace {

struct Authority {
  std::string scheme;
  std::string_view host;
  std::string_view port;
};

std::optional<Authority> split_authority(std::string_view url) {
  const std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  Authority parts;
  parts.scheme = lower(url.substr(0, sep));
  std::string_view authority = url.substr(sep + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  // The port follows the last ':' unless that ':' is inside an IPv6 literal "[...]".
  std::string_view host = authority;
  std::string_view port;
  const std::size_t colon = authority.rfind(':');
  const std::size_t bracket = authority.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  parts.host = host;
  parts.port = port;
  return parts;
}

}  // namespace

std::string origin_of(std::string_view url) {
  const std::optional<Authority> parts = split_authority(url);
  if (!parts) return {};
  std::string port_text(parts->port);
  if (port_text.empty()) {
    port_text = parts->scheme == "https" ? "443" : parts->scheme == "http" ? "80" : "";
  }
  return parts->scheme + "://" + lower(parts->host) + ":" + port_text;
}

SchemeAndHost scheme_and_host(std::string_view url) {
  const std::optional<Authority> parts = split_authority(url);
  if (!parts) return {};
  return {parts->scheme, lower(parts->host)};
}

}  // namespace rvae::transport
