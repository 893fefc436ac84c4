// Query parameters parsed the way the service's toolkit does (PROTOCOL.md §2): per key, in order;
// all-digit values are ints, true/false (any case) are booleans, anything else is a string; a key
// given once is a scalar, several times a list.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rvae/error.hpp"

namespace rvae::reference {

/// One value of a query parameter, typed as the service types it.
struct QueryScalar {
  enum class Kind { kInt, kBool, kString };
  Kind kind = Kind::kString;
  std::string text;            ///< The percent-decoded value.
  std::int64_t int_value = 0;  ///< kInt, when it fits (see int_overflow).
  bool int_overflow = false;   ///< kInt with more digits than an int64 holds.
  bool bool_value = false;     ///< kBool.
};

/// All values a key was given, in request order.
struct QueryValue {
  std::vector<QueryScalar> items;
  bool is_list() const noexcept { return items.size() > 1; }
  /// What Python's f-string shows: the scalar's str(), or a list's repr ("['a', 1, True]").
  std::string python_str() const;
};

/// The parsed query. Keys keep first-occurrence order; values keep request order.
class QueryParams {
 public:
  /// Parses a raw query string (the part after '?', percent-encoded, '+' meaning space). Never
  /// fails: a malformed escape is kept literally, as Python's unquote does.
  static QueryParams parse(std::string_view raw_query);

  const QueryValue* find(std::string_view key) const;

  /// A string scalar (the service compares these by exact text); ints and booleans are refused.
  Result<std::optional<std::string>> get_string(std::string_view key) const;
  /// A boolean scalar.
  Result<std::optional<bool>> get_bool(std::string_view key) const;
  /// A non-negative integer scalar.
  Result<std::optional<std::int64_t>> get_int(std::string_view key) const;
  /// A finite number: an int, or a string Python's float() accepts.
  Result<std::optional<double>> get_number(std::string_view key) const;

 private:
  std::vector<std::pair<std::string, QueryValue>> entries_;
};

/// The raw query of a request target ("/path?a=1" -> "a=1"; no '?' -> "").
std::string_view raw_query_of(std::string_view target) noexcept;

}  // namespace rvae::reference
