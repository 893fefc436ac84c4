// Which redirects a transfer follows. libcurl's own following turns a POST answered with
// 301/302/303 into a body-less GET and would accept whatever that GET returns as the reply, so
// the transport decides here and follows only what keeps the request intact.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "rvae/error.hpp"

namespace rvae::transport {

/// Most redirects one transfer follows.
inline constexpr int kMaxRedirects = 5;

/// True for the statuses that redirect: 301, 302, 303, 307, 308.
bool is_redirect_status(int status) noexcept;

/// Where to go next after a redirect reply.
struct RedirectStep {
  std::string url;
  /// False when the target's origin (scheme, host, port) differs from the first request's: the
  /// token must not follow it there.
  bool send_token = true;
};

/// For a reply with a redirect `status` to `request_url`, leading to `location` (absolute, as
/// libcurl resolved it; empty when the reply had none): the next step; nullopt when the reply
/// should be returned as it is (no Location); or an Error (Unavailable, not retryable) naming
/// the target when following would change the method or drop the body, when `followed` redirects
/// already reach kMaxRedirects, or when the target is not http(s). `origin` is that of the
/// transfer's first URL.
Result<std::optional<RedirectStep>> next_redirect(std::string_view method, int status,
                                                  std::string_view request_url,
                                                  std::string_view location, int followed,
                                                  std::string_view origin);

}  // namespace rvae::transport
