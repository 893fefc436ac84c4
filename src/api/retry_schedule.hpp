// When and whether a failed call is sent again: the pure arithmetic behind rvae::RetryPolicy,
// kept apart from the client so every rule can be tested with fixed clocks and random bits.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/retryable.hpp"
#include "rvae/retry.hpp"

namespace rvae::detail {

/// The longest wait a Retry-After header can ask for; larger values (and dates further ahead)
/// are cut to this, so a broken or hostile server cannot park a call for days.
inline constexpr std::chrono::milliseconds kMaxRetryAfter = std::chrono::hours(24);

/// The statuses retried are those of the one list in http/retryable.hpp.
using http::is_retryable_status;

/// Upper bound of the wait after `failed_attempts` failures (1 = after the first):
/// min(max_backoff, initial_backoff * multiplier^(failed_attempts - 1)), truncated to whole
/// milliseconds. Saturates at max_backoff instead of overflowing. A multiplier below 1 (or NaN)
/// counts as 1, negative durations as 0, and failed_attempts below 1 as 1.
std::chrono::milliseconds backoff_bound(const RetryPolicy& policy, int failed_attempts);

/// Full jitter: a uniform draw in [0, backoff_bound] made from `random_bits` (e.g. the output of
/// std::mt19937_64), so callers own the randomness and tests are deterministic. The modulo bias
/// is below bound / 2^64, negligible for any real bound.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int failed_attempts,
                                        std::uint64_t random_bits);

/// The wait a Retry-After header value asks for (RFC 9110 §10.2.3), measured from `now`:
/// delta-seconds (digits only) or an HTTP-date in IMF-fixdate, RFC 850 or asctime form, with
/// optional surrounding whitespace. A date in the past gives 0; anything longer than
/// kMaxRetryAfter gives kMaxRetryAfter. Anything else (empty, signed, fractional, a malformed or
/// impossible date) gives nullopt. Names (days, months, "GMT") are case-sensitive as in the RFC;
/// the day name is checked to be a day name but not against the date.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

/// Outcome of decide_retry.
struct RetryDecision {
  bool retry = false;
  /// The wait before the next attempt when retry is true. When the deadline refuses the retry,
  /// the wait that would have been needed; otherwise 0.
  std::chrono::milliseconds delay{0};
  /// One line saying why (for logs); never contains secrets.
  std::string reason;
};

/// Whether to send the call again after `attempts_made` attempts (the first included) failed.
/// No retry when the failure is not `retryable`, when max_attempts (at least 1) are used up, when
/// an honoured Retry-After is not shorter than the time left, or when now + delay would reach
/// `deadline`. The delay is the jittered backoff, raised to Retry-After when the policy honours
/// it; an ignored Retry-After plays no part at all.
RetryDecision decide_retry(const RetryPolicy& policy, int attempts_made, bool retryable,
                           std::optional<std::chrono::milliseconds> retry_after,
                           std::chrono::steady_clock::time_point now,
                           std::chrono::steady_clock::time_point deadline,
                           std::uint64_t random_bits);

}  // namespace rvae::detail
