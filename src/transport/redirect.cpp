#include "transport/redirect.hpp"

#include <string>

#include "http/retryable.hpp"
#include "transport/url.hpp"

namespace rvae::transport {
namespace {

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

Error redirect_error(std::string message) {
  return Error(ErrorCode::kUnavailable, std::move(message))
      .with_retryable(http::is_retryable(http::NetworkFailure::kRedirect));
}

}  // namespace

bool is_redirect_status(int status) noexcept {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

Result<std::optional<RedirectStep>> next_redirect(std::string_view method, int status,
                                                  std::string_view request_url,
                                                  std::string_view location, int followed,
                                                  std::string_view origin) {
  if (!is_redirect_status(status) || location.empty()) return std::optional<RedirectStep>();
  // Only the target's path is named: its query may carry a signed token.
  const std::string from = redact_url(request_url);
  const std::string to = redact_url(location);
  const bool keeps_method = status == 307 || status == 308 || method == "GET";
  if (!keeps_method) {
    return redirect_error("the endpoint " + from + " answered HTTP " + std::to_string(status) +
                          ", a redirect to " + to + " that would resend the " +
                          std::string(method) +
                          " as a GET without its body; use the target URL as the endpoint");
  }
  if (followed >= kMaxRedirects) {
    return redirect_error("too many redirects from " + from + " (more than " +
                          std::to_string(kMaxRedirects) + "; the last one to " + to + ")");
  }
  if (!starts_with_nocase(location, "http://") && !starts_with_nocase(location, "https://")) {
    return redirect_error("the endpoint " + from + " redirects to " + to +
                          ", which is not an http(s) URL");
  }
  RedirectStep step;
  step.url = std::string(location);
  step.send_token = origin_of(location) == origin;
  return std::optional<RedirectStep>(std::move(step));
}

}  // namespace rvae::transport
