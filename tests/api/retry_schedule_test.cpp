#include "api/retry_schedule.hpp"

#include <time.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <random>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rvae/retry.hpp"

namespace rvae::detail {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using SysTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;

// Sun, 06 Nov 1994 08:49:37 GMT, by hand: 1970..1993 is 24 years with 6 leap days (8766 days),
// 1 Jan..6 Nov 1994 is 304 + 5 days, so 9075 days * 86400 + 8 h 49 min 37 s = 784111777.
constexpr std::int64_t kRfcExampleEpoch = 784'111'777;
// 2025-01-01T00:00:00Z: 55 years with 14 leap days = 20089 days.
constexpr std::int64_t kJan2025Epoch = 20'089LL * 86'400;

SysTime at(std::int64_t epoch_seconds) {
  return SysTime(seconds(epoch_seconds));
}

// ---------------------------------------------------------------------------------------------
TEST(IsRetryableStatus, OnlyTransientStatuses) {
  for (int status : {408, 429, 502, 503, 504})
    EXPECT_TRUE(is_retryable_status(status)) << status;
  for (int status : {0, 200, 204, 301, 400, 401, 403, 404, 409, 413, 422, 500, 501, 505, 599})
    EXPECT_FALSE(is_retryable_status(status)) << status;
}

// ---------------------------------------------------------------------------------------------
TEST(BackoffBound, DefaultPolicyDoublesUpToTheCap) {
  const RetryPolicy policy;  // 500 ms, x2, cap 30 s
  const std::array<std::int64_t, 9> expected = {500,   1000,  2000,  4000, 8000,
                                                16000, 30000, 30000, 30000};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(backoff_bound(policy, static_cast<int>(i) + 1).count(), expected[i]) << i;
  }
}

TEST(BackoffBound, FractionalMultiplierTruncatesToWholeMilliseconds) {
  RetryPolicy policy;
  policy.initial_backoff = milliseconds(1000);
  policy.multiplier = 1.5;
  policy.max_backoff = milliseconds(1'000'000);
  // 1000 * 1.5^k = 1000, 1500, 2250, 3375, 5062.5
  EXPECT_EQ(backoff_bound(policy, 1).count(), 1000);
  EXPECT_EQ(backoff_bound(policy, 2).count(), 1500);
  EXPECT_EQ(backoff_bound(policy, 3).count(), 2250);
  EXPECT_EQ(backoff_bound(policy, 4).count(), 3375);
  EXPECT_EQ(backoff_bound(policy, 5).count(), 5062);
}

TEST(BackoffBound, AttemptsBelowOneCountAsOne) {
  const RetryPolicy policy;
  EXPECT_EQ(backoff_bound(policy, 0).count(), 500);
  EXPECT_EQ(backoff_bound(policy, -7).count(), 500);
  EXPECT_EQ(backoff_bound(policy, std::numeric_limits<int>::min()).count(), 500);
}

TEST(BackoffBound, HugeGrowthSaturatesAtTheCap) {
  RetryPolicy policy;
  EXPECT_EQ(backoff_bound(policy, std::numeric_limits<int>::max()), policy.max_backoff);
  policy.multiplier = 1e300;
  EXPECT_EQ(backoff_bound(policy, 1).count(), 500);
  EXPECT_EQ(backoff_bound(policy, 3), policy.max_backoff);
  policy.multiplier = std::numeric_limits<double>::infinity();
  EXPECT_EQ(backoff_bound(policy, 1).count(), 500);
  EXPECT_EQ(backoff_bound(policy, 2), policy.max_backoff);
  // A cap at the very top of the range must not overflow either.
  policy.multiplier = 2.0;
  policy.max_backoff = milliseconds::max();
  EXPECT_EQ(backoff_bound(policy, 2).count(), 1000);
  EXPECT_EQ(backoff_bound(policy, 5000), milliseconds::max());
  // 500 * 2^54 = 9007199254740992000 < 2^63 - 1: still exact, still below the cap.
  EXPECT_EQ(backoff_bound(policy, 55).count(), 9'007'199'254'740'992'000LL);
}

TEST(BackoffBound, MultiplierBelowOneOrNanCountsAsOne) {
  RetryPolicy policy;
  for (double multiplier : {1.0, 0.5, 0.0, -3.0, std::numeric_limits<double>::quiet_NaN()}) {
    policy.multiplier = multiplier;
    EXPECT_EQ(backoff_bound(policy, 1).count(), 500) << multiplier;
    EXPECT_EQ(backoff_bound(policy, 10).count(), 500) << multiplier;
  }
}

TEST(BackoffBound, NegativeDurationsCountAsZeroAndInitialAboveCapIsCapped) {
  RetryPolicy policy;
  policy.initial_backoff = milliseconds(-5);
  EXPECT_EQ(backoff_bound(policy, 1).count(), 0);
  EXPECT_EQ(backoff_bound(policy, 40).count(), 0);
  policy.initial_backoff = milliseconds(0);
  policy.multiplier = std::numeric_limits<double>::infinity();
  EXPECT_EQ(backoff_bound(policy, 40).count(), 0);  // not NaN-derived garbage
  policy.initial_backoff = milliseconds(500);
  policy.max_backoff = milliseconds(-1);
  EXPECT_EQ(backoff_bound(policy, 1).count(), 0);
  policy.max_backoff = milliseconds(200);
  EXPECT_EQ(backoff_bound(policy, 1).count(), 200);
}

// ---------------------------------------------------------------------------------------------
TEST(BackoffDelay, MapsRandomBitsOntoTheClosedRange) {
  RetryPolicy policy;
  policy.initial_backoff = milliseconds(999);
  policy.max_backoff = milliseconds(100'000);
  EXPECT_EQ(backoff_delay(policy, 1, 0).count(), 0);
  EXPECT_EQ(backoff_delay(policy, 1, 999).count(), 999);  // the bound itself is reachable
  EXPECT_EQ(backoff_delay(policy, 1, 1000).count(), 0);
  EXPECT_EQ(backoff_delay(policy, 1, 1234).count(), 234);
  // 18446744073709551615 mod 1000 is its last three digits.
  EXPECT_EQ(backoff_delay(policy, 1, std::numeric_limits<std::uint64_t>::max()).count(), 615);
}

TEST(BackoffDelay, ZeroBoundGivesZero) {
  RetryPolicy policy;
  policy.initial_backoff = milliseconds(0);
  EXPECT_EQ(backoff_delay(policy, 3, std::numeric_limits<std::uint64_t>::max()).count(), 0);
}

TEST(BackoffDelay, HugeBoundDoesNotWrap) {
  RetryPolicy policy;
  policy.max_backoff = milliseconds::max();
  policy.initial_backoff = milliseconds::max();
  const auto max_bits = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(backoff_delay(policy, 1, max_bits), milliseconds::max());
  EXPECT_EQ(backoff_delay(policy, 1, max_bits + 1).count(), 0);  // 2^63 mod (2^63)
}

TEST(BackoffDelay, FullJitterIsUniformOverTheBound) {
  const RetryPolicy policy;
  const int attempt = 7;  // bound 30000 ms
  const std::int64_t bound = 30'000;
  ASSERT_EQ(backoff_bound(policy, attempt).count(), bound);

  std::mt19937_64 rng(20240611);
  constexpr int kDraws = 100'000;
  constexpr int kBuckets = 10;
  std::array<int, kBuckets> buckets{};
  double sum = 0;
  std::int64_t lowest = bound;
  std::int64_t highest = 0;
  for (int i = 0; i < kDraws; ++i) {
    const std::int64_t delay = backoff_delay(policy, attempt, rng()).count();
    ASSERT_GE(delay, 0);
    ASSERT_LE(delay, bound);
    sum += static_cast<double>(delay);
    lowest = std::min(lowest, delay);
    highest = std::max(highest, delay);
    ++buckets[static_cast<std::size_t>(std::min<std::int64_t>(delay * kBuckets / bound, 9))];
  }
  // Uniform on [0, 30000]: mean 15000, sd 30000/sqrt(12) = 8660, sd of the mean 27.4; allow ~5.5
  // sd.
  EXPECT_NEAR(sum / kDraws, 15'000.0, 150.0);
  // Each bucket expects 10000 (sd ~95); 500 is > 5 sd.
  for (int count : buckets)
    EXPECT_NEAR(count, kDraws / kBuckets, 500);
  EXPECT_LT(lowest, 30);
  EXPECT_GT(highest, bound - 30);
}

// ---------------------------------------------------------------------------------------------
TEST(ParseRetryAfter, DeltaSeconds) {
  const SysTime now = at(kRfcExampleEpoch);
  EXPECT_EQ(parse_retry_after("120", now), milliseconds(120'000));
  EXPECT_EQ(parse_retry_after("0", now), milliseconds(0));
  EXPECT_EQ(parse_retry_after("007", now), milliseconds(7'000));
  EXPECT_EQ(parse_retry_after("  120\t", now), milliseconds(120'000));
  EXPECT_EQ(parse_retry_after("\t5\r\n", now), milliseconds(5'000));
}

TEST(ParseRetryAfter, HugeDeltaSecondsSaturateAtTheCap) {
  const SysTime now = at(kRfcExampleEpoch);
  ASSERT_EQ(kMaxRetryAfter, milliseconds(86'400'000));
  EXPECT_EQ(parse_retry_after("86399", now), milliseconds(86'399'000));
  EXPECT_EQ(parse_retry_after("86400", now), kMaxRetryAfter);
  EXPECT_EQ(parse_retry_after("86401", now), kMaxRetryAfter);
  EXPECT_EQ(parse_retry_after("99999999999999999999999999999999", now), kMaxRetryAfter);
}

TEST(ParseRetryAfter, ImfFixdate) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", at(kRfcExampleEpoch - 120)),
            milliseconds(120'000));
  EXPECT_EQ(parse_retry_after("  Sun, 06 Nov 1994 08:49:37 GMT \r\n", at(kRfcExampleEpoch - 1)),
            milliseconds(1'000));
}

TEST(ParseRetryAfter, Rfc850Date) {
  // In 1994, "94" is 1994.
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", at(kRfcExampleEpoch - 120)),
            milliseconds(120'000));
  // 2025-01-01T00:01:00Z, read in 2025.
  EXPECT_EQ(parse_retry_after("Wednesday, 01-Jan-25 00:01:00 GMT", at(kJan2025Epoch)),
            milliseconds(60'000));
}

TEST(ParseRetryAfter, Rfc850TwoDigitYearsMoreThanFiftyYearsAheadMeanThePast) {
  const SysTime now = at(kJan2025Epoch);
  // Read in 2025: "75" is 2075 (50 years ahead, not more) -> far future -> the cap.
  EXPECT_EQ(parse_retry_after("Tuesday, 01-Jan-75 00:00:00 GMT", now), kMaxRetryAfter);
  // "76" would be 2076, more than 50 years ahead, so it is 1976 -> past -> 0.
  EXPECT_EQ(parse_retry_after("Thursday, 01-Jan-76 00:00:00 GMT", now), milliseconds(0));
  // "94" is 1994 -> past.
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), milliseconds(0));
}

TEST(ParseRetryAfter, Rfc850TwoDigitYearAcrossACenturyBoundary) {
  // Read at 1999-12-31T23:59:00Z (946684800 - 60: 10957 days to 2000-01-01), "00" is 2000.
  EXPECT_EQ(parse_retry_after("Saturday, 01-Jan-00 00:00:00 GMT", at(946'684'800 - 60)),
            milliseconds(60'000));
  // Read at 2000-01-01T00:00:00Z, "99" is 1999 -> 60 s in the past.
  EXPECT_EQ(parse_retry_after("Friday, 31-Dec-99 23:59:00 GMT", at(946'684'800)), milliseconds(0));
}

TEST(ParseRetryAfter, AsctimeDate) {
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", at(kRfcExampleEpoch - 120)),
            milliseconds(120'000));
  // A two-digit day, across midnight: from 1994-11-06 09:00:00 (784111777 + 623 s) to
  // 1994-11-07 08:49:37 is 86400 - 623 = 85777 s.
  EXPECT_EQ(parse_retry_after("Mon Nov  7 08:49:37 1994", at(kRfcExampleEpoch + 623)),
            milliseconds(85'777'000));
  EXPECT_EQ(parse_retry_after("Wed Nov 16 08:49:37 1994", at(kRfcExampleEpoch + 10 * 86'400 - 9)),
            milliseconds(9'000));
}

TEST(ParseRetryAfter, AllThreeFormsOfOneDateAgree) {
  const SysTime now = at(kRfcExampleEpoch - 3600);
  const auto imf = parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now);
  const auto rfc850 = parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now);
  const auto asctime = parse_retry_after("Sun Nov  6 08:49:37 1994", now);
  ASSERT_TRUE(imf && rfc850 && asctime);
  EXPECT_EQ(*imf, hours(1));
  EXPECT_EQ(*rfc850, hours(1));
  EXPECT_EQ(*asctime, hours(1));
}

TEST(ParseRetryAfter, PastDateGivesZero) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", at(kRfcExampleEpoch)),
            milliseconds(0));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", at(kRfcExampleEpoch + 1)),
            milliseconds(0));
  EXPECT_EQ(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", at(kJan2025Epoch)), milliseconds(0));
}

TEST(ParseRetryAfter, FarFutureDateSaturatesAtTheCap) {
  EXPECT_EQ(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", at(kJan2025Epoch)), kMaxRetryAfter);
  EXPECT_EQ(parse_retry_after("Mon, 07 Nov 1994 08:49:38 GMT", at(kRfcExampleEpoch)),
            kMaxRetryAfter);  // 24 h + 1 s
}

TEST(ParseRetryAfter, SubSecondNowRoundsTheWaitUp) {
  // The date is whole seconds; a `now` 1.5 ms before it must wait 2 ms, never less.
  const SysTime date = at(kRfcExampleEpoch);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", date - milliseconds(1500)),
            milliseconds(1500));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
                              date - std::chrono::duration_cast<SysTime::duration>(
                                         std::chrono::microseconds(1500))),
            milliseconds(2));
}

TEST(ParseRetryAfter, LeapSecondAndLeapDays) {
  // 08:49:60 is 08:50:00, 23 s after 08:49:37.
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:60 GMT", at(kRfcExampleEpoch - 120)),
            milliseconds(143'000));
  // 1996 and 2000 are leap years; 1995 and 1900 are not.
  const SysTime now = at(0);
  EXPECT_TRUE(parse_retry_after("Thu, 29 Feb 1996 00:00:00 GMT", now).has_value());
  EXPECT_TRUE(parse_retry_after("Tue, 29 Feb 2000 00:00:00 GMT", now).has_value());
  EXPECT_FALSE(parse_retry_after("Wed, 29 Feb 1995 00:00:00 GMT", now).has_value());
  EXPECT_FALSE(parse_retry_after("Thu, 29 Feb 1900 00:00:00 GMT", now).has_value());
  // Across 2000-02-29: 2000-02-28T12:00Z to 2000-03-01T00:00Z is 36 h -> over the cap; use
  // 2000-02-29T12:00Z (epoch 951825600: 10957 days to 2000-01-01, +59 days, +12 h) -> 12 h.
  EXPECT_EQ(parse_retry_after("Wed, 01 Mar 2000 00:00:00 GMT", at(951'825'600)), hours(12));
}

TEST(ParseRetryAfter, RejectsEverythingElse) {
  const SysTime now = at(kRfcExampleEpoch - 120);
  const char* const kInvalid[] = {
      "",
      "   ",
      "-1",
      "+5",
      "1.5",
      "5s",
      "0x10",
      "1 2",
      "soon",
      "١٢",  // non-ASCII digits
      // IMF-fixdate variants
      "Sun, 06 Nov 1994 08:49:37 UTC",
      "Sun, 06 Nov 1994 08:49:37 gmt",
      "sun, 06 Nov 1994 08:49:37 GMT",
      "Sun, 06 nov 1994 08:49:37 GMT",
      "Sun 06 Nov 1994 08:49:37 GMT",
      "Sun,  06 Nov 1994 08:49:37 GMT",
      "Sun, 6 Nov 1994 08:49:37 GMT",
      "Sun, 06 Nov 94 08:49:37 GMT",
      "Sun, 06 Nov 1994 8:49:37 GMT",
      "Sun, 06 Nov 1994 08:49 GMT",
      "Sun, 06 Nov 1994 08:49:37",
      "Sun, 06 Nov 1994 08:49:37 GMT extra",
      "Sun, 06 Nov 1994 08:49:37 GMTX",
      "Sun, 06 Nov 1994\t08:49:37 GMT",
      "Sun, 06 November 1994 08:49:37 GMT",
      "Sunday, 06 Nov 1994 08:49:37 GMT",
      "Fun, 06 Nov 1994 08:49:37 GMT",
      "Sun, 06 Foo 1994 08:49:37 GMT",
      "Sun, 00 Nov 1994 08:49:37 GMT",
      "Sun, 31 Nov 1994 08:49:37 GMT",
      "Sun, 32 Dec 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994 24:00:00 GMT",
      "Sun, 06 Nov 1994 08:60:00 GMT",
      "Sun, 06 Nov 1994 08:49:61 GMT",
      "Sun, 06 Nov 1994 08:49:3a GMT",
      "Sun, 06 Nov 19x4 08:49:37 GMT",
      // RFC 850 variants
      "Sunday, 06-Nov-1994 08:49:37 GMT",
      "Sun, 06-Nov-94 08:49:37 GMT",
      "Sunday, 06 Nov 94 08:49:37 GMT",
      "Sunday, 6-Nov-94 08:49:37 GMT",
      "Sunday, 06-Nov-94 08:49:37",
      "Sunday, 31-Apr-94 08:49:37 GMT",
      "Someday, 06-Nov-94 08:49:37 GMT",
      // asctime variants
      "Sun Nov 6 08:49:37 1994",
      "Sun Nov  06 08:49:37 1994",
      "Sun Nov   6 08:49:37 1994",
      "Sun Nov  6 08:49:37 94",
      "Sun Nov  6 08:49:37 1994 GMT",
      "Sun Nov  0 08:49:37 1994",
      "Sunday Nov  6 08:49:37 1994",
  };
  for (const char* value : kInvalid) {
    EXPECT_EQ(parse_retry_after(value, now), std::nullopt) << '"' << value << '"';
  }
}

// Cross-checks the calendar arithmetic against the C library: random instants are formatted
// (with our own English names, independent of the locale) by gmtime_r (gmtime_s on Windows)
// and read back.
TEST(ParseRetryAfter, RoundTripsInstantsFormattedByGmtime) {
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kLongDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::mt19937_64 rng(7);
  // 1900-01-01 .. 2255: system_clock counts nanoseconds in 64 bits, so `now` ends in 2262.
#ifdef _WIN32
  // Windows' gmtime_s refuses instants before 1970.
  std::uniform_int_distribution<std::int64_t> instants(0, 9'000'000'000LL);
#else
  std::uniform_int_distribution<std::int64_t> instants(-2'208'988'800LL, 9'000'000'000LL);
#endif
  for (int i = 0; i < 3000; ++i) {
    const std::int64_t epoch = instants(rng);
    const auto t = static_cast<time_t>(epoch);
    struct tm parts {};
#ifdef _WIN32
    ASSERT_EQ(gmtime_s(&parts, &t), 0);
#else
    ASSERT_NE(gmtime_r(&t, &parts), nullptr);
#endif
    const int wait_s = static_cast<int>(rng() % 86'400);
    const SysTime now = at(epoch - wait_s);

    char imf[64];
    std::snprintf(imf, sizeof imf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[parts.tm_wday],
                  parts.tm_mday, kMonths[parts.tm_mon], parts.tm_year + 1900, parts.tm_hour,
                  parts.tm_min, parts.tm_sec);
    EXPECT_EQ(parse_retry_after(imf, now), milliseconds(wait_s * 1000LL)) << imf;

    char asc[64];
    std::snprintf(asc, sizeof asc, "%s %s %2d %02d:%02d:%02d %04d", kDays[parts.tm_wday],
                  kMonths[parts.tm_mon], parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                  parts.tm_year + 1900);
    EXPECT_EQ(parse_retry_after(asc, now), milliseconds(wait_s * 1000LL)) << asc;

    // Two-digit years are read relative to `now`, less than a day earlier, so the century
    // must come out right, also across a century boundary.
    char rfc850[64];
    std::snprintf(rfc850, sizeof rfc850, "%s, %02d-%s-%02d %02d:%02d:%02d GMT",
                  kLongDays[parts.tm_wday], parts.tm_mday, kMonths[parts.tm_mon],
                  (parts.tm_year + 1900) % 100, parts.tm_hour, parts.tm_min, parts.tm_sec);
    EXPECT_EQ(parse_retry_after(rfc850, now), milliseconds(wait_s * 1000LL)) << rfc850;
  }
}

// ---------------------------------------------------------------------------------------------
class DecideRetry : public ::testing::Test {
 protected:
  RetryPolicy policy_;  // 5 attempts, 500 ms x2 up to 30 s, honours Retry-After
  const SteadyTime now_ = SteadyTime(hours(1000));
};

TEST_F(DecideRetry, NotRetryable) {
  const RetryDecision d = decide_retry(policy_, 1, false, std::nullopt, now_, now_ + hours(1), 0);
  EXPECT_FALSE(d.retry);
  EXPECT_EQ(d.delay.count(), 0);
  EXPECT_THAT(d.reason, HasSubstr("not retryable"));
}

TEST_F(DecideRetry, AttemptsUsedUp) {
  const RetryDecision d = decide_retry(policy_, 5, true, std::nullopt, now_, now_ + hours(1), 0);
  EXPECT_FALSE(d.retry);
  EXPECT_THAT(d.reason, HasSubstr("5 of 5"));
  EXPECT_FALSE(decide_retry(policy_, 6, true, std::nullopt, now_, now_ + hours(1), 0).retry);
  EXPECT_TRUE(decide_retry(policy_, 4, true, std::nullopt, now_, now_ + hours(1), 0).retry);

  policy_.max_attempts = 1;  // retries disabled
  EXPECT_FALSE(decide_retry(policy_, 1, true, std::nullopt, now_, now_ + hours(1), 0).retry);
  policy_.max_attempts = 0;  // nonsense counts as 1
  const RetryDecision zero = decide_retry(policy_, 1, true, std::nullopt, now_, now_ + hours(1), 0);
  EXPECT_FALSE(zero.retry);
  EXPECT_THAT(zero.reason, HasSubstr("1 of 1"));
}

TEST_F(DecideRetry, RetriesWithTheJitteredBackoff) {
  // After 1 failure the bound is 500: bits 400 -> 400 % 501 = 400.
  RetryDecision d = decide_retry(policy_, 1, true, std::nullopt, now_, now_ + seconds(10), 400);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, milliseconds(400));
  EXPECT_THAT(d.reason, HasSubstr("attempt 2 of 5"));
  // After 3 failures the bound is 2000: bits 2000 + 2001 -> 2000.
  d = decide_retry(policy_, 3, true, std::nullopt, now_, now_ + seconds(10), 4001);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, milliseconds(2000));
}

TEST_F(DecideRetry, HonouredRetryAfterRaisesTheDelay) {
  RetryDecision d = decide_retry(policy_, 1, true, seconds(3), now_, now_ + seconds(10), 0);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, seconds(3));
  // A shorter Retry-After does not shorten the backoff.
  d = decide_retry(policy_, 1, true, milliseconds(100), now_, now_ + seconds(10), 400);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, milliseconds(400));
  // A negative one (a caller bug) counts as 0.
  d = decide_retry(policy_, 1, true, milliseconds(-100), now_, now_ + seconds(10), 400);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, milliseconds(400));
}

TEST_F(DecideRetry, IgnoredRetryAfterPlaysNoPart) {
  policy_.honor_retry_after = false;
  RetryDecision d = decide_retry(policy_, 1, true, seconds(3), now_, now_ + seconds(10), 0);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay.count(), 0);
  d = decide_retry(policy_, 1, true, hours(2), now_, now_ + seconds(10), 7);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, milliseconds(7));
}

TEST_F(DecideRetry, RetryAfterBeyondTheDeadlineRefusesAndSaysSo) {
  for (milliseconds asked : {milliseconds(2000), milliseconds(5000)}) {
    const RetryDecision d = decide_retry(policy_, 1, true, asked, now_, now_ + seconds(2), 0);
    EXPECT_FALSE(d.retry) << asked.count();
    EXPECT_EQ(d.delay, asked);
    EXPECT_THAT(d.reason, HasSubstr("Retry-After"));
  }
  EXPECT_TRUE(decide_retry(policy_, 1, true, milliseconds(1999), now_, now_ + seconds(2), 0).retry);
}

TEST_F(DecideRetry, BackoffReachingTheDeadlineRefuses) {
  // bits 400 -> delay 400 ms.
  RetryDecision d =
      decide_retry(policy_, 1, true, std::nullopt, now_, now_ + milliseconds(400), 400);
  EXPECT_FALSE(d.retry);
  EXPECT_EQ(d.delay, milliseconds(400));
  EXPECT_THAT(d.reason, HasSubstr("deadline would pass before the next attempt"));
  EXPECT_TRUE(
      decide_retry(policy_, 1, true, std::nullopt, now_, now_ + milliseconds(401), 400).retry);
  // Sub-millisecond deadlines: now + 400 ms is before now + 400 ms + 1 ns, but reaches
  // now + 399.9 ms.
  EXPECT_TRUE(decide_retry(policy_, 1, true, std::nullopt, now_,
                           now_ + milliseconds(400) + nanoseconds(1), 400)
                  .retry);
  EXPECT_FALSE(decide_retry(policy_, 1, true, std::nullopt, now_,
                            now_ + milliseconds(400) - nanoseconds(100'000), 400)
                   .retry);
}

TEST_F(DecideRetry, PassedDeadlineRefusesEvenAZeroDelay) {
  for (SteadyTime deadline : {now_, now_ - seconds(1)}) {
    const RetryDecision d = decide_retry(policy_, 1, true, std::nullopt, now_, deadline, 0);
    EXPECT_FALSE(d.retry);
    EXPECT_THAT(d.reason, HasSubstr("deadline"));
  }
}

TEST_F(DecideRetry, UnboundedDeadlineDoesNotOverflow) {
  const SteadyTime far = SteadyTime::max();
  EXPECT_TRUE(decide_retry(policy_, 1, true, hours(24), now_, far, 0).retry);
  const SteadyTime before_epoch = SteadyTime(-hours(5));
  const RetryDecision d = decide_retry(policy_, 1, true, hours(24), before_epoch, far, 0);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, hours(24));
}

}  // namespace
}  // namespace rvae::detail
