// Replica choice and circuit breaking. All state sits behind one mutex: the work per call is a
// scan of a handful of URLs, far cheaper than the HTTP request it decides about.
#include "api/replica_tracker.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace rvae::detail {
namespace {

using Clock = ReplicaTracker::Clock;

// now + cooldown, saturating at the end of the clock instead of wrapping.
Clock::time_point add_saturating(Clock::time_point now, std::chrono::milliseconds cooldown) {
  constexpr auto kMaxCooldown =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::duration::max());
  if (cooldown >= kMaxCooldown) return Clock::time_point::max();
  const auto step = std::chrono::duration_cast<Clock::duration>(cooldown);
  if (now > Clock::time_point::max() - step) return Clock::time_point::max();
  return now + step;
}

}  // namespace

ReplicaTracker::ReplicaTracker(std::chrono::milliseconds cooldown, int failures_to_trip)
    : cooldown_(std::max(cooldown, std::chrono::milliseconds(0))),
      failures_to_trip_(std::max(failures_to_trip, 1)) {}

std::size_t ReplicaTracker::choose(const std::vector<std::string>& urls, Clock::time_point now) {
  if (urls.empty()) return 0;
  const std::lock_guard<std::mutex> lock(mutex_);

  std::vector<Replica*> candidates;
  candidates.reserve(urls.size());
  bool any_healthy = false;
  for (const std::string& url : urls) {
    Replica& replica = replicas_.try_emplace(url).first->second;
    candidates.push_back(&replica);
    any_healthy = any_healthy || now >= replica.tripped_until;
  }

  // Lexicographic keys; strict < keeps the lowest index on a full tie.
  std::size_t best = urls.size();
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Replica& r = *candidates[i];
    if (any_healthy && now < r.tripped_until) continue;
    if (best == urls.size()) {
      best = i;
      continue;
    }
    const Replica& b = *candidates[best];
    const bool better =
        any_healthy
            ? std::tie(r.in_flight, r.last_chosen) < std::tie(b.in_flight, b.last_chosen)
            : std::tie(r.tripped_until, r.last_chosen) < std::tie(b.tripped_until, b.last_chosen);
    if (better) best = i;
  }

  Replica& chosen = *candidates[best];
  ++chosen.in_flight;
  chosen.last_chosen = ++choices_;
  return best;
}

void ReplicaTracker::finish(const std::string& url, Outcome outcome, Clock::time_point now) {
  const std::lock_guard<std::mutex> lock(mutex_);
  Replica& replica = replicas_.try_emplace(url).first->second;
  if (replica.in_flight > 0) --replica.in_flight;
  switch (outcome) {
    case Outcome::kSuccess:
      replica.consecutive_failures = 0;
      replica.tripped_until = Clock::time_point::min();
      break;
    case Outcome::kRetryableFailure:
      if (replica.consecutive_failures < failures_to_trip_) ++replica.consecutive_failures;
      if (replica.consecutive_failures >= failures_to_trip_) {
        // max: a late report with an older `now` must not shorten a trip.
        replica.tripped_until = std::max(replica.tripped_until, add_saturating(now, cooldown_));
      }
      break;
    case Outcome::kOtherFailure:
      break;
  }
}

std::size_t ReplicaTracker::in_flight(const std::string& url) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto it = replicas_.find(url);
  return it == replicas_.end() ? 0 : it->second.in_flight;
}

bool ReplicaTracker::tripped(const std::string& url, Clock::time_point now) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto it = replicas_.find(url);
  return it != replicas_.end() && now < it->second.tripped_until;
}

}  // namespace rvae::detail
