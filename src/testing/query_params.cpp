#include "testing/query_params.hpp"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <locale>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace rvae::reference {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool equals_ignore_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

QueryScalar classify(std::string text) {
  QueryScalar scalar;
  bool all_digits = !text.empty();
  for (char c : text)
    all_digits = all_digits && c >= '0' && c <= '9';
  if (all_digits) {
    scalar.kind = QueryScalar::Kind::kInt;
    std::int64_t value = 0;
    for (char c : text) {
      const int digit = c - '0';
      if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) {
        scalar.int_overflow = true;
        break;
      }
      value = value * 10 + digit;
    }
    scalar.int_value = scalar.int_overflow ? 0 : value;
  } else if (equals_ignore_case(text, "true") || equals_ignore_case(text, "false")) {
    scalar.kind = QueryScalar::Kind::kBool;
    scalar.bool_value = equals_ignore_case(text, "true");
  }
  scalar.text = std::move(text);
  return scalar;
}

std::string scalar_str(const QueryScalar& scalar) {
  if (scalar.kind == QueryScalar::Kind::kBool) return scalar.bool_value ? "True" : "False";
  if (scalar.kind == QueryScalar::Kind::kInt) {
    // Python's int() drops leading zeros.
    const std::size_t first = scalar.text.find_first_not_of('0');
    return first == std::string::npos ? "0" : scalar.text.substr(first);
  }
  return scalar.text;
}

std::string scalar_repr(const QueryScalar& scalar) {
  if (scalar.kind != QueryScalar::Kind::kString) return scalar_str(scalar);
  std::string out = "'";
  for (char c : scalar.text) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

Error type_error(std::string_view key, std::string_view expected, const QueryValue& value) {
  return Error(ErrorCode::kInvalidArgument, "Query parameter `" + std::string(key) + "` must be " +
                                                std::string(expected) + ", got `" +
                                                value.python_str() + "`.");
}

// Python's float(): surrounding whitespace allowed, decimal or exponent notation, inf/nan words.
std::optional<double> parse_python_float(const std::string& text) {
  const std::size_t first = text.find_first_not_of(" \t\n\r\f\v");
  if (first == std::string::npos) return std::nullopt;
  const std::size_t last = text.find_last_not_of(" \t\n\r\f\v");
  const std::string trimmed = text.substr(first, last - first + 1);
  for (char c : trimmed) {
    const bool allowed = std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                         c == '+' || c == 'e' || c == 'E';
    if (!allowed) return std::nullopt;  // Also refuses "inf"/"nan": no use for factors.
  }
  std::istringstream stream(trimmed);
  stream.imbue(std::locale::classic());
  double value = 0.0;
  stream >> value;
  if (stream.fail() || !stream.eof()) return std::nullopt;
  return value;
}

}  // namespace

std::string QueryValue::python_str() const {
  if (items.size() == 1) return scalar_str(items.front());
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += scalar_repr(items[i]);
  }
  out += "]";
  return out;
}

QueryParams QueryParams::parse(std::string_view raw_query) {
  QueryParams params;
  std::size_t start = 0;
  while (start <= raw_query.size()) {
    std::size_t end = raw_query.find('&', start);
    if (end == std::string_view::npos) end = raw_query.size();
    const std::string_view pair = raw_query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const std::size_t equals = pair.find('=');
    std::string key = percent_decode(pair.substr(0, equals));
    std::string value =
        equals == std::string_view::npos ? std::string() : percent_decode(pair.substr(equals + 1));
    QueryScalar scalar = classify(std::move(value));
    bool found = false;
    for (auto& entry : params.entries_) {
      if (entry.first == key) {
        entry.second.items.push_back(std::move(scalar));
        found = true;
        break;
      }
    }
    if (!found) params.entries_.push_back({std::move(key), QueryValue{{std::move(scalar)}}});
  }
  return params;
}

const QueryValue* QueryParams::find(std::string_view key) const {
  for (const auto& entry : entries_) {
    if (entry.first == key) return &entry.second;
  }
  return nullptr;
}

Result<std::optional<std::string>> QueryParams::get_string(std::string_view key) const {
  const QueryValue* value = find(key);
  if (value == nullptr) return std::optional<std::string>();
  if (value->is_list() || value->items.front().kind != QueryScalar::Kind::kString) {
    return type_error(key, "a single string", *value);
  }
  return std::optional<std::string>(value->items.front().text);
}

Result<std::optional<bool>> QueryParams::get_bool(std::string_view key) const {
  const QueryValue* value = find(key);
  if (value == nullptr) return std::optional<bool>();
  if (value->is_list() || value->items.front().kind != QueryScalar::Kind::kBool) {
    return type_error(key, "True or False", *value);
  }
  return std::optional<bool>(value->items.front().bool_value);
}

Result<std::optional<std::int64_t>> QueryParams::get_int(std::string_view key) const {
  const QueryValue* value = find(key);
  if (value == nullptr) return std::optional<std::int64_t>();
  if (value->is_list() || value->items.front().kind != QueryScalar::Kind::kInt ||
      value->items.front().int_overflow) {
    return type_error(key, "a non-negative integer", *value);
  }
  return std::optional<std::int64_t>(value->items.front().int_value);
}

Result<std::optional<double>> QueryParams::get_number(std::string_view key) const {
  const QueryValue* value = find(key);
  if (value == nullptr) return std::optional<double>();
  if (!value->is_list()) {
    const QueryScalar& scalar = value->items.front();
    std::optional<double> number;
    if (scalar.kind != QueryScalar::Kind::kBool) number = parse_python_float(scalar.text);
    if (number && std::isfinite(*number)) return std::optional<double>(number);
  }
  return type_error(key, "a finite number", *value);
}

std::string_view raw_query_of(std::string_view target) noexcept {
  const std::size_t question = target.find('?');
  if (question == std::string_view::npos) return {};
  std::string_view query = target.substr(question + 1);
  const std::size_t fragment = query.find('#');
  return fragment == std::string_view::npos ? query : query.substr(0, fragment);
}

}  // namespace rvae::reference
