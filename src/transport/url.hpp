// URL pieces the transport and the layers above need, without libcurl.
#pragma once

#include <string>
#include <string_view>

namespace rvae::transport {

/// The URL without user:password and without its query, for messages and logs.
std::string redact_url(std::string_view url);

/// "scheme://host:port" in lower case with the scheme's default port made explicit, so two
/// URLs share an origin exactly when a token may go to both. Empty when the URL has no
/// "scheme://".
std::string origin_of(std::string_view url);

/// The URL's scheme and host in lower case (an IPv6 literal keeps its brackets); empty when the
/// URL has no "scheme://".
struct SchemeAndHost {
  std::string scheme;
  std::string host;
};
SchemeAndHost scheme_and_host(std::string_view url);

}  // namespace rvae::transport
