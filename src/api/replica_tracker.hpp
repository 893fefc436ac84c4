// Health of each endpoint URL, shared by every call of one Client, so that calls spread over
// replicas and avoid one that keeps failing for a while (a small circuit breaker per URL).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace rvae::detail {

/// How an attempt against one URL ended.
enum class Outcome {
  kSuccess,           ///< The replica answered well: its failure count is reset.
  kRetryableFailure,  ///< Connection failure, timeout, 408/429/502/503/504: counts towards
                      ///< tripping.
  kOtherFailure,      ///< It answered, but e.g. 400/404: neither counts nor resets.
};

/// Per-URL in-flight counts and failure streaks. Thread-safe: every member locks one mutex, and
/// each call is O(number of URLs). Time is passed in, never read, so tests need no sleeps.
class ReplicaTracker {
 public:
  using Clock = std::chrono::steady_clock;

  /// A URL with `failures_to_trip` (at least 1) retryable failures in a row is skipped until
  /// `cooldown` (negative = 0) after the last of them. Once the cooldown ends it is chosen again,
  /// but keeps its streak: one more retryable failure trips it again at once.
  explicit ReplicaTracker(std::chrono::milliseconds cooldown, int failures_to_trip = 1);

  /// Picks the URL for the next attempt and counts it in flight (pair it with finish()).
  /// Among URLs not tripped: the fewest in flight; ties go to the one chosen least recently (a
  /// never-chosen one first, then the lowest index), so equal replicas take turns. When all are
  /// tripped: the one whose cooldown ends first (same tie rule). Never fails; a list of one
  /// always gives 0. `urls` must not be empty: for an empty list it returns 0 and counts
  /// nothing. A URL listed twice is one replica.
  std::size_t choose(const std::vector<std::string>& urls, Clock::time_point now);

  /// Ends an attempt that choose() started: one fewer in flight (never below 0), and the outcome
  /// updates the streak. kSuccess also lifts a trip (the replica demonstrably works).
  void finish(const std::string& url, Outcome outcome, Clock::time_point now);

  /// Attempts on `url` now in flight; 0 for an unknown URL.
  std::size_t in_flight(const std::string& url) const;
  /// Whether `url` is skipped at `now`; false for an unknown URL.
  bool tripped(const std::string& url, Clock::time_point now) const;

 private:
  struct Replica {
    std::size_t in_flight = 0;
    int consecutive_failures = 0;
    Clock::time_point tripped_until = Clock::time_point::min();  // skipped while now < this
    std::uint64_t last_chosen = 0;                               // 0 = never; else a sequence
  };

  mutable std::mutex mutex_;
  std::map<std::string, Replica, std::less<>> replicas_;
  std::uint64_t choices_ = 0;
  const std::chrono::milliseconds cooldown_;
  const int failures_to_trip_;
};

}  // namespace rvae::detail
