#include "transport/url.hpp"

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

std::string origin_of(std::string_view url) {
  const std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) return {};
  const std::string scheme = lower(url.substr(0, sep));
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
  std::string port_text(port);
  if (port_text.empty()) port_text = scheme == "https" ? "443" : scheme == "http" ? "80" : "";
  return scheme + "://" + lower(host) + ":" + port_text;
}

}  // namespace rvae::transport
