#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include "protocol/protocol.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol {

// Reproduces Python's repr(float) (what the reference client's `requests` sends): the shortest
// digits that round-trip, fixed notation while the decimal exponent is in (-4, 16], scientific
// with a signed two-digit exponent outside it, and ".0" on integral values.
std::string format_double(double value) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  if (ec != std::errc()) return "nan";  // Unreachable: 64 chars always suffice.
  std::string_view sci(buf, static_cast<std::size_t>(end - buf));
  if (!std::isfinite(value)) return std::isnan(value) ? "nan" : std::string(sci);

  std::string out;
  if (sci.front() == '-') {
    out += '-';
    sci.remove_prefix(1);
  }
  const std::size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits += c;
  }
  int exponent = 0;
  std::string_view exp_text = sci.substr(e + 1);
  if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  // Python's decpt: the value is 0.<digits> * 10^decpt.
  const int decpt = exponent + 1;
  const int ndigits = static_cast<int>(digits.size());

  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (ndigits > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    out += exponent < 0 ? "e-" : "e+";
    const int magnitude = std::abs(exponent);
    if (magnitude < 10) out += '0';
    out += std::to_string(magnitude);
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-decpt), '0');
    out += digits;
  } else if (decpt >= ndigits) {
    out += digits;
    out.append(static_cast<std::size_t>(decpt - ndigits), '0');
    out += ".0";
  } else {
    out.append(digits, 0, static_cast<std::size_t>(decpt));
    out += '.';
    out.append(digits, static_cast<std::size_t>(decpt), std::string::npos);
  }
  return out;
}

std::string url_encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    }
  }
  return out;
}

namespace internal {

void QueryBuilder::add(std::string_view key, std::string_view value) {
  if (!query_.empty()) query_ += '&';
  query_ += key;
  query_ += '=';
  query_ += url_encode(value);
}

void QueryBuilder::add_shape(const Shape& shape) {
  for (std::int64_t dim : shape)
    add("shape", std::to_string(dim));
}

void QueryBuilder::add_factors(const std::optional<double>& scaling_factor,
                               const std::optional<double>& shift_factor) {
  if (scaling_factor) add("scaling_factor", format_double(*scaling_factor));
  if (shift_factor) add("shift_factor", format_double(*shift_factor));
}

Result<void> validate_factors(const std::optional<double>& scaling_factor,
                              const std::optional<double>& shift_factor) {
  if (scaling_factor) {
    if (!std::isfinite(*scaling_factor)) {
      return invalid_argument("scaling_factor must be finite");
    }
    if (*scaling_factor == 0.0) return invalid_argument("scaling_factor must not be 0");
  }
  if (shift_factor && !std::isfinite(*shift_factor)) {
    return invalid_argument("shift_factor must be finite");
  }
  return {};
}

}  // namespace internal
}  // namespace rvae::protocol
