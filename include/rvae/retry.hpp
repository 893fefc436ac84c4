// When a failed request is sent again.
#pragma once

#include <chrono>

#include "rvae/export.h"

namespace rvae {

/// Retries of one call. Only transient failures are retried: connection failures, timeouts, a
/// broken or cut-short reply, and HTTP 408, 429, 502, 503, 504; never other 4xx. Delays grow
/// exponentially with full jitter (a uniform draw between 0 and the current step), capped; a
/// Retry-After header (seconds or HTTP date) is honoured when longer. The call's deadline bounds
/// everything: no attempt starts, and no wait is scheduled, past it.
struct RetryPolicy {
  /// Attempts in all, the first included; 1 disables retries.
  int max_attempts = 5;
  /// Upper bound of the first delay; the bound grows by `multiplier` per attempt.
  std::chrono::milliseconds initial_backoff{500};
  double multiplier = 2.0;
  /// The bound never exceeds this.
  std::chrono::milliseconds max_backoff{30'000};
  /// Wait at least what the server's Retry-After asks (still bounded by the deadline).
  bool honor_retry_after = true;
};

}  // namespace rvae
