// Retry arithmetic and Retry-After parsing. Dates are converted with our own civil-calendar
// arithmetic: strptime and timegm depend on the locale or are not portable.
#include "api/retry_schedule.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "core/text.hpp"
#include "rvae/retry.hpp"

namespace rvae::detail {
namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kSecondsPerDay = 86'400;

constexpr std::array<std::string_view, 7> kShortDays = {"Mon", "Tue", "Wed", "Thu",
                                                        "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool is_leap_year(std::int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(std::int64_t year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && is_leap_year(year)) return 29;
  return kDays[static_cast<std::size_t>(month - 1)];
}

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). Counts in 400-year eras,
// each exactly 146097 days long, with years starting in March so the leap day comes last.
std::int64_t days_from_civil(std::int64_t year, int month, int day) {
  const std::int64_t y = month <= 2 ? year - 1 : year;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t year_of_era = y - era * 400;
  const std::int64_t month_from_march = month > 2 ? month - 3 : month + 9;
  const std::int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  const std::int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146'097 + day_of_era - 719'468;
}

// The Gregorian year containing day `days` since 1970-01-01 (inverse of days_from_civil).
std::int64_t year_from_days(std::int64_t days) {
  const std::int64_t z = days + 719'468;
  const std::int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const std::int64_t day_of_era = z - era * 146'097;
  const std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
  const std::int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t month_from_march = (5 * day_of_year + 2) / 153;
  // Years start in March here, so January and February belong to the next civil year.
  return year_of_era + era * 400 + (month_from_march >= 10 ? 1 : 0);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A strict left-to-right reader of one date form; any mismatch makes it fail for good.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  bool literal(std::string_view expected) {
    if (text_.substr(pos_, expected.size()) != expected) return false;
    pos_ += expected.size();
    return true;
  }

  std::optional<int> digits(std::size_t count) {
    if (text_.size() - pos_ < count) return std::nullopt;
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const char c = text_[pos_ + i];
      if (!is_digit(c)) return std::nullopt;
      value = value * 10 + (c - '0');
    }
    pos_ += count;
    return value;
  }

  // Index of the name in `names` that the text continues with. No name is a prefix of another
  // in any table, so the first match is the only one.
  template <std::size_t N>
  std::optional<int> name(const std::array<std::string_view, N>& names) {
    for (std::size_t i = 0; i < N; ++i) {
      if (literal(names[i])) return static_cast<int>(i);
    }
    return std::nullopt;
  }

  bool at_end() const { return pos_ == text_.size(); }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

struct DateTime {
  std::int64_t year = 0;
  int month = 0;  // 1..12
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// hour ":" minute ":" second; second 60 is a leap second (RFC 9110 §5.6.7).
bool read_time_of_day(Cursor& in, DateTime& out) {
  const auto hour = in.digits(2);
  if (!hour || !in.literal(":")) return false;
  const auto minute = in.digits(2);
  if (!minute || !in.literal(":")) return false;
  const auto second = in.digits(2);
  if (!second) return false;
  out.hour = *hour;
  out.minute = *minute;
  out.second = *second;
  return true;
}

bool read_month(Cursor& in, DateTime& out) {
  const auto month = in.name(kMonths);
  if (!month) return false;
  out.month = *month + 1;
  return true;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<DateTime> read_imf_fixdate(std::string_view text) {
  Cursor in(text);
  DateTime out;
  if (!in.name(kShortDays) || !in.literal(", ")) return std::nullopt;
  const auto day = in.digits(2);
  if (!day || !in.literal(" ") || !read_month(in, out) || !in.literal(" ")) return std::nullopt;
  const auto year = in.digits(4);
  if (!year || !in.literal(" ") || !read_time_of_day(in, out)) return std::nullopt;
  if (!in.literal(" GMT") || !in.at_end()) return std::nullopt;
  out.day = *day;
  out.year = *year;
  return out;
}

// "Sunday, 06-Nov-94 08:49:37 GMT". RFC 9110 §5.6.7: a two-digit year that would lie more than
// 50 years in the future means the most recent past year with those last two digits; otherwise
// the nearest year (so "00" read late in 1999 is 2000, not 1900).
std::optional<DateTime> read_rfc850_date(std::string_view text, std::int64_t current_year) {
  Cursor in(text);
  DateTime out;
  if (!in.name(kLongDays) || !in.literal(", ")) return std::nullopt;
  const auto day = in.digits(2);
  if (!day || !in.literal("-") || !read_month(in, out) || !in.literal("-")) return std::nullopt;
  const auto two_digit_year = in.digits(2);
  if (!two_digit_year || !in.literal(" ") || !read_time_of_day(in, out)) return std::nullopt;
  if (!in.literal(" GMT") || !in.at_end()) return std::nullopt;
  // The one year with these last two digits in (current - 50, current + 50].
  std::int64_t year = current_year - current_year % 100 + *two_digit_year;
  if (year > current_year + 50) year -= 100;
  if (year <= current_year - 50) year += 100;
  out.day = *day;
  out.year = year;
  return out;
}

// "Sun Nov  6 08:49:37 1994" (the day is space-padded; a zero-padded day is accepted too).
std::optional<DateTime> read_asctime_date(std::string_view text) {
  Cursor in(text);
  DateTime out;
  if (!in.name(kShortDays) || !in.literal(" ") || !read_month(in, out) || !in.literal(" ")) {
    return std::nullopt;
  }
  std::optional<int> day = in.literal(" ") ? in.digits(1) : in.digits(2);
  if (!day || !in.literal(" ") || !read_time_of_day(in, out) || !in.literal(" ")) {
    return std::nullopt;
  }
  const auto year = in.digits(4);
  if (!year || !in.at_end()) return std::nullopt;
  out.day = *day;
  out.year = *year;
  return out;
}

bool in_range(const DateTime& t) {
  return t.day >= 1 && t.day <= days_in_month(t.year, t.month) && t.hour <= 23 && t.minute <= 59 &&
         t.second <= 60;
}

std::int64_t to_epoch_seconds(const DateTime& t) {
  return days_from_civil(t.year, t.month, t.day) * kSecondsPerDay + t.hour * 3600 + t.minute * 60 +
         t.second;
}

std::optional<milliseconds> parse_delta_seconds(std::string_view digits) {
  constexpr std::int64_t kCapSeconds = kMaxRetryAfter.count() / 1000;
  std::int64_t seconds = 0;
  for (const char c : digits) {
    if (!is_digit(c)) return std::nullopt;
    // Keep scanning after saturating: "99999999999999999999x" is still garbage.
    if (seconds <= kCapSeconds) seconds = seconds * 10 + (c - '0');
  }
  return std::min(milliseconds(seconds * 1000), kMaxRetryAfter);
}

// deadline - now without overflow, at least zero.
std::chrono::steady_clock::duration time_left(std::chrono::steady_clock::time_point now,
                                              std::chrono::steady_clock::time_point deadline) {
  using Duration = std::chrono::steady_clock::duration;
  using Rep = Duration::rep;
  if (deadline <= now) return Duration::zero();
  const Rep d = deadline.time_since_epoch().count();
  const Rep n = now.time_since_epoch().count();
  if (n < 0 && d > std::numeric_limits<Rep>::max() + n) return Duration::max();
  return Duration(d - n);
}

std::string ms_text(milliseconds value) {
  return std::to_string(value.count()) + " ms";
}

}  // namespace

milliseconds backoff_bound(const RetryPolicy& policy, int failed_attempts) {
  const std::int64_t initial = std::max<std::int64_t>(policy.initial_backoff.count(), 0);
  const std::int64_t cap = std::max<std::int64_t>(policy.max_backoff.count(), 0);
  if (initial >= cap) return milliseconds(cap);
  if (initial == 0) return milliseconds(0);  // 0 * inf would be NaN below.
  const double multiplier = policy.multiplier > 1.0 ? policy.multiplier : 1.0;  // NaN -> 1
  const int steps = std::max(failed_attempts, 1) - 1;
  // In double, a huge power becomes inf instead of wrapping; the comparison then saturates.
  const double bound =
      static_cast<double>(initial) * std::pow(multiplier, static_cast<double>(steps));
  if (!(bound < static_cast<double>(cap))) return milliseconds(cap);
  return milliseconds(std::min(static_cast<std::int64_t>(bound), cap));
}

milliseconds backoff_delay(const RetryPolicy& policy, int failed_attempts,
                           std::uint64_t random_bits) {
  const auto bound = static_cast<std::uint64_t>(backoff_bound(policy, failed_attempts).count());
  // bound < 2^63, so bound + 1 cannot wrap.
  return milliseconds(static_cast<std::int64_t>(random_bits % (bound + 1)));
}

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              std::chrono::system_clock::time_point now) {
  const std::string_view text = trim(value);
  if (text.empty()) return std::nullopt;
  if (is_digit(text.front())) return parse_delta_seconds(text);

  const std::int64_t now_ms = std::chrono::floor<milliseconds>(now.time_since_epoch()).count();
  constexpr std::int64_t kMsPerDay = kSecondsPerDay * 1000;
  const std::int64_t now_days = now_ms / kMsPerDay - (now_ms % kMsPerDay < 0 ? 1 : 0);
  std::optional<DateTime> date = read_imf_fixdate(text);
  if (!date) date = read_rfc850_date(text, year_from_days(now_days));
  if (!date) date = read_asctime_date(text);
  if (!date || !in_range(*date)) return std::nullopt;

  // Dates span years 0..9999 (plus the RFC 850 century shift), so date_ms stays far inside
  // int64; only an extreme `now` could overflow the difference.
  const std::int64_t date_ms = to_epoch_seconds(*date) * 1000;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  if (now_ms > 0 && date_ms < kMin + now_ms) return milliseconds(0);
  if (now_ms < 0 && date_ms > kMax + now_ms) return kMaxRetryAfter;
  // The date has whole seconds, so date - floor(now) is the wait rounded up to a millisecond:
  // the server asked for "not before", never "a little before".
  const std::int64_t wait = date_ms - now_ms;
  if (wait <= 0) return milliseconds(0);
  return std::min(milliseconds(wait), kMaxRetryAfter);
}

RetryDecision decide_retry(const RetryPolicy& policy, int attempts_made, bool retryable,
                           std::optional<milliseconds> retry_after,
                           std::chrono::steady_clock::time_point now,
                           std::chrono::steady_clock::time_point deadline,
                           std::uint64_t random_bits) {
  if (!retryable) return {false, milliseconds(0), "the failure is not retryable"};
  const int max_attempts = std::max(policy.max_attempts, 1);
  if (attempts_made >= max_attempts) {
    return {false, milliseconds(0),
            "all attempts are used (" + std::to_string(attempts_made) + " of " +
                std::to_string(max_attempts) + ")"};
  }

  // For whole milliseconds d: now + d >= deadline exactly when d >= ceil(deadline - now).
  const milliseconds left_ms = std::chrono::ceil<milliseconds>(time_left(now, deadline));
  milliseconds delay = backoff_delay(policy, attempts_made, random_bits);
  if (policy.honor_retry_after && retry_after) {
    const milliseconds asked = std::max(*retry_after, milliseconds(0));
    if (asked >= left_ms) {
      return {false, asked,
              "Retry-After asks for " + ms_text(asked) + " but only " + ms_text(left_ms) +
                  " are left before the deadline"};
    }
    delay = std::max(delay, asked);
  }
  if (delay >= left_ms) {
    return {false, delay,
            "deadline would pass before the next attempt (wait " + ms_text(delay) + ", " +
                ms_text(left_ms) + " left)"};
  }
  return {true, delay,
          "retrying in " + ms_text(delay) + " (attempt " + std::to_string(attempts_made + 1) +
              " of " + std::to_string(max_attempts) + ")"};
}

}  // namespace rvae::detail
