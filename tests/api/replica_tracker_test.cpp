#include "api/replica_tracker.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace rvae::detail {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using Time = ReplicaTracker::Clock::time_point;

const Time kT0 = Time(hours(100));
const std::vector<std::string> kUrls = {"http://a", "http://b", "http://c"};

TEST(ReplicaTracker, SingleUrlIsAlwaysChosenEvenWhenTripped) {
  ReplicaTracker tracker(seconds(5));
  const std::vector<std::string> one = {"http://only"};
  EXPECT_EQ(tracker.choose(one, kT0), 0u);
  tracker.finish("http://only", Outcome::kRetryableFailure, kT0);
  ASSERT_TRUE(tracker.tripped("http://only", kT0));
  EXPECT_EQ(tracker.choose(one, kT0), 0u);
  EXPECT_EQ(tracker.in_flight("http://only"), 1u);
}

TEST(ReplicaTracker, EmptyListGivesZeroAndCountsNothing) {
  ReplicaTracker tracker(seconds(5));
  EXPECT_EQ(tracker.choose({}, kT0), 0u);
  for (const auto& url : kUrls)
    EXPECT_EQ(tracker.in_flight(url), 0u);
}

TEST(ReplicaTracker, PicksTheFewestInFlight) {
  ReplicaTracker tracker(seconds(5));
  // Three calls in flight spread over the three replicas.
  EXPECT_EQ(tracker.choose(kUrls, kT0), 0u);
  EXPECT_EQ(tracker.choose(kUrls, kT0), 1u);
  EXPECT_EQ(tracker.choose(kUrls, kT0), 2u);
  for (const auto& url : kUrls)
    EXPECT_EQ(tracker.in_flight(url), 1u);
  // b finishes: it is now the least loaded, whatever the tie rule says.
  tracker.finish("http://b", Outcome::kSuccess, kT0);
  EXPECT_EQ(tracker.choose(kUrls, kT0), 1u);
  // b finishes, plus one stray finish: counts never go below 0.
  tracker.finish("http://b", Outcome::kSuccess, kT0);
  tracker.finish("http://b", Outcome::kSuccess, kT0);
  EXPECT_EQ(tracker.in_flight("http://b"), 0u);
  EXPECT_EQ(tracker.choose(kUrls, kT0), 1u);
}

TEST(ReplicaTracker, EqualReplicasTakeTurns) {
  ReplicaTracker tracker(seconds(5));
  std::array<int, 3> picks{};
  std::vector<std::size_t> order;
  for (int i = 0; i < 300; ++i) {
    const std::size_t index = tracker.choose(kUrls, kT0);
    ASSERT_LT(index, kUrls.size());
    ++picks[index];
    if (order.size() < 6) order.push_back(index);
    tracker.finish(kUrls[index], Outcome::kSuccess, kT0);
  }
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 0, 1, 2}));
  for (int count : picks)
    EXPECT_EQ(count, 100);
}

TEST(ReplicaTracker, LeastRecentlyChosenBreaksTiesAfterUnevenUse) {
  ReplicaTracker tracker(seconds(5));
  const std::vector<std::string> two = {"http://a", "http://b"};
  // a, then b; both finish. Next turn is a (chosen longer ago), then b again.
  ASSERT_EQ(tracker.choose(two, kT0), 0u);
  ASSERT_EQ(tracker.choose(two, kT0), 1u);
  tracker.finish("http://b", Outcome::kSuccess, kT0);
  tracker.finish("http://a", Outcome::kSuccess, kT0);
  EXPECT_EQ(tracker.choose(two, kT0), 0u);
  tracker.finish("http://a", Outcome::kSuccess, kT0);
  EXPECT_EQ(tracker.choose(two, kT0), 1u);
}

TEST(ReplicaTracker, RetryableFailureTripsAndTheReplicaIsSkipped) {
  ReplicaTracker tracker(seconds(5));
  ASSERT_EQ(tracker.choose(kUrls, kT0), 0u);
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  EXPECT_TRUE(tracker.tripped("http://a", kT0));
  EXPECT_EQ(tracker.in_flight("http://a"), 0u);
  // a has nothing in flight, b and c pile up, yet a is never chosen while tripped.
  for (int i = 0; i < 10; ++i) {
    const std::size_t index = tracker.choose(kUrls, kT0 + seconds(1));
    EXPECT_NE(index, 0u);
  }
  EXPECT_EQ(tracker.in_flight("http://b"), 5u);
  EXPECT_EQ(tracker.in_flight("http://c"), 5u);
}

TEST(ReplicaTracker, OtherFailuresDoNotTrip) {
  ReplicaTracker tracker(seconds(5));
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(tracker.choose({"http://a"}, kT0), 0u);
    tracker.finish("http://a", Outcome::kOtherFailure, kT0);
  }
  EXPECT_FALSE(tracker.tripped("http://a", kT0));
  EXPECT_EQ(tracker.in_flight("http://a"), 0u);
}

TEST(ReplicaTracker, TripsAfterTheConfiguredStreak) {
  ReplicaTracker tracker(seconds(5), 3);
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  EXPECT_FALSE(tracker.tripped("http://a", kT0));
  // A non-retryable answer neither counts nor breaks the streak.
  tracker.finish("http://a", Outcome::kOtherFailure, kT0);
  EXPECT_FALSE(tracker.tripped("http://a", kT0));
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  EXPECT_TRUE(tracker.tripped("http://a", kT0));
}

TEST(ReplicaTracker, SuccessResetsTheStreak) {
  ReplicaTracker tracker(seconds(5), 3);
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  tracker.finish("http://a", Outcome::kSuccess, kT0);
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  EXPECT_FALSE(tracker.tripped("http://a", kT0));
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  EXPECT_TRUE(tracker.tripped("http://a", kT0));
}

TEST(ReplicaTracker, SuccessLiftsATrip) {
  ReplicaTracker tracker(seconds(5));
  ASSERT_EQ(tracker.choose(kUrls, kT0), 0u);
  ASSERT_EQ(tracker.choose(kUrls, kT0), 1u);
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  ASSERT_TRUE(tracker.tripped("http://a", kT0));
  // A call that started on a before the trip still succeeds: a works.
  tracker.finish("http://a", Outcome::kSuccess, kT0 + seconds(1));
  EXPECT_FALSE(tracker.tripped("http://a", kT0 + seconds(1)));
}

TEST(ReplicaTracker, CooldownEndsExactlyOnTime) {
  ReplicaTracker tracker(seconds(5));
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  EXPECT_TRUE(tracker.tripped("http://a", kT0 + seconds(5) - nanoseconds(1)));
  EXPECT_FALSE(tracker.tripped("http://a", kT0 + seconds(5)));
  const std::vector<std::string> two = {"http://a", "http://b"};
  EXPECT_EQ(tracker.choose(two, kT0 + seconds(4)), 1u);
  // Back in rotation: a has nothing in flight, b has one.
  EXPECT_EQ(tracker.choose(two, kT0 + seconds(5)), 0u);
}

TEST(ReplicaTracker, EachFailureRestartsTheCooldown) {
  ReplicaTracker tracker(seconds(5));
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0 + seconds(3));
  EXPECT_TRUE(tracker.tripped("http://a", kT0 + seconds(7)));
  EXPECT_FALSE(tracker.tripped("http://a", kT0 + seconds(8)));
  // A late report stamped earlier does not shorten it.
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  EXPECT_TRUE(tracker.tripped("http://a", kT0 + seconds(7)));
}

TEST(ReplicaTracker, AfterTheCooldownOneFailureTripsAgain) {
  ReplicaTracker tracker(seconds(5), 3);
  for (int i = 0; i < 3; ++i)
    tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  ASSERT_TRUE(tracker.tripped("http://a", kT0));
  const Time later = kT0 + seconds(6);
  ASSERT_FALSE(tracker.tripped("http://a", later));
  tracker.finish("http://a", Outcome::kRetryableFailure, later);
  EXPECT_TRUE(tracker.tripped("http://a", later));
  EXPECT_FALSE(tracker.tripped("http://a", later + seconds(5)));
}

TEST(ReplicaTracker, AllTrippedPicksTheEarliestRecovery) {
  ReplicaTracker tracker(seconds(5));
  // c trips first (until t0+5), a next (t0+6), b last (t0+7).
  tracker.finish("http://c", Outcome::kRetryableFailure, kT0);
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0 + seconds(1));
  tracker.finish("http://b", Outcome::kRetryableFailure, kT0 + seconds(2));
  EXPECT_EQ(tracker.choose(kUrls, kT0 + seconds(3)), 2u);
  // Load does not matter among tripped replicas: c stays first to recover.
  EXPECT_EQ(tracker.choose(kUrls, kT0 + seconds(3)), 2u);
  EXPECT_EQ(tracker.in_flight("http://c"), 2u);
  // Once c recovers it is the only healthy one.
  EXPECT_EQ(tracker.choose(kUrls, kT0 + seconds(5)), 2u);
  // c trips again (until t0+10): a (t0+6) is now the earliest.
  tracker.finish("http://c", Outcome::kRetryableFailure, kT0 + seconds(5));
  EXPECT_EQ(tracker.choose(kUrls, kT0 + seconds(5)), 0u);
}

TEST(ReplicaTracker, ZeroOrNegativeCooldownNeverSkips) {
  for (milliseconds cooldown : {milliseconds(0), milliseconds(-100)}) {
    ReplicaTracker tracker(cooldown);
    tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
    EXPECT_FALSE(tracker.tripped("http://a", kT0)) << cooldown.count();
    EXPECT_EQ(tracker.choose(kUrls, kT0), 0u);
  }
}

TEST(ReplicaTracker, NonPositiveStreakCountsAsOne) {
  ReplicaTracker tracker(seconds(5), 0);
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  EXPECT_TRUE(tracker.tripped("http://a", kT0));
}

TEST(ReplicaTracker, HugeCooldownSaturatesInsteadOfWrapping) {
  ReplicaTracker tracker(milliseconds::max());
  const Time late = Time::max() - seconds(1);
  tracker.finish("http://a", Outcome::kRetryableFailure, kT0);
  tracker.finish("http://b", Outcome::kRetryableFailure, late);
  EXPECT_TRUE(tracker.tripped("http://a", late));
  EXPECT_TRUE(tracker.tripped("http://b", late));
  ReplicaTracker hour(hours(1));
  hour.finish("http://a", Outcome::kRetryableFailure, late);
  EXPECT_TRUE(hour.tripped("http://a", late));
}

TEST(ReplicaTracker, UnknownUrlsAreHealthyAndIdle) {
  const ReplicaTracker tracker(seconds(5));
  EXPECT_EQ(tracker.in_flight("http://nowhere"), 0u);
  EXPECT_FALSE(tracker.tripped("http://nowhere", kT0));
}

TEST(ReplicaTracker, DuplicateUrlsShareOneCount) {
  ReplicaTracker tracker(seconds(5));
  const std::vector<std::string> twice = {"http://a", "http://a", "http://b"};
  EXPECT_EQ(tracker.choose(twice, kT0), 0u);
  // "a" (either index) now has one in flight; b has none.
  EXPECT_EQ(tracker.choose(twice, kT0), 2u);
  EXPECT_EQ(tracker.in_flight("http://a"), 1u);
  EXPECT_EQ(tracker.in_flight("http://b"), 1u);
}

// Several threads choose and finish at once (run under TSan too). Each thread holds at most two
// attempts, so no replica can ever show more than 2 * kThreads in flight, and all end at 0.
TEST(ReplicaTracker, ConcurrentUseKeepsCountsConsistent) {
  constexpr int kThreads = 4;
  constexpr int kIterations = 5000;
  ReplicaTracker tracker(milliseconds(3), 2);
  std::atomic<bool> over_limit{false};
  std::atomic<int> out_of_range{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        const Time now = kT0 + milliseconds(i);
        const std::size_t first = tracker.choose(kUrls, now);
        const std::size_t second = tracker.choose(kUrls, now);
        if (first >= kUrls.size() || second >= kUrls.size()) {
          ++out_of_range;
          return;
        }
        if (tracker.in_flight(kUrls[first]) > 2 * kThreads) over_limit = true;
        const auto outcome = static_cast<Outcome>((i + t) % 3);
        tracker.finish(kUrls[first], outcome, now);
        tracker.finish(kUrls[second], Outcome::kSuccess, now);
        (void)tracker.tripped(kUrls[first], now);
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(out_of_range.load(), 0);
  EXPECT_FALSE(over_limit.load());
  for (const auto& url : kUrls)
    EXPECT_EQ(tracker.in_flight(url), 0u) << url;
}

}  // namespace
}  // namespace rvae::detail
