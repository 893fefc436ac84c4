#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "protocol/protocol.hpp"

namespace rvae::protocol {
namespace {

std::uint64_t bits_of(double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

// Expected strings are Python 3's repr() of the same values (what `requests` would send).
TEST(FormatDouble, MatchesPythonRepr) {
  EXPECT_EQ(format_double(0.18215), "0.18215");
  EXPECT_EQ(format_double(0.13025), "0.13025");
  EXPECT_EQ(format_double(0.3611), "0.3611");
  EXPECT_EQ(format_double(0.1159), "0.1159");
  EXPECT_EQ(format_double(0.476986), "0.476986");
  EXPECT_EQ(format_double(1.0), "1.0");
  EXPECT_EQ(format_double(123.0), "123.0");
  EXPECT_EQ(format_double(-2.5), "-2.5");
  EXPECT_EQ(format_double(1234.5678), "1234.5678");
  EXPECT_EQ(format_double(0.0), "0.0");
  EXPECT_EQ(format_double(-0.0), "-0.0");
  EXPECT_EQ(format_double(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(format_double(0.0001), "0.0001");
  EXPECT_EQ(format_double(1e-05), "1e-05");
  EXPECT_EQ(format_double(-1e-07), "-1e-07");
  EXPECT_EQ(format_double(1.5e-10), "1.5e-10");
  EXPECT_EQ(format_double(1e15), "1000000000000000.0");
  EXPECT_EQ(format_double(9007199254740992.0), "9007199254740992.0");
  EXPECT_EQ(format_double(1e16), "1e+16");
  EXPECT_EQ(format_double(1e22), "1e+22");
  EXPECT_EQ(format_double(1e100), "1e+100");
  EXPECT_EQ(format_double(5e-324), "5e-324");
  EXPECT_EQ(format_double(1.7976931348623157e308), "1.7976931348623157e+308");
}

void expect_round_trip(double value) {
  const std::string text = format_double(value);
  char* end = nullptr;
  const double parsed = std::strtod(text.c_str(), &end);
  EXPECT_EQ(end, text.c_str() + text.size()) << text;
  EXPECT_EQ(bits_of(parsed), bits_of(value)) << text;
  // Python's float repr always shows it is a float.
  EXPECT_NE(text.find_first_of(".e"), std::string::npos) << text;
}

TEST(FormatDouble, RoundTripsExactly) {
  for (double v : {0.18215, 0.13025, 0.3611, 0.1159, 0.476986, 1.0, 1e-05, 1e22, 0.1 + 0.2, -0.0,
                   5e-324, std::numeric_limits<double>::max(), std::numeric_limits<double>::min(),
                   std::numeric_limits<double>::epsilon(), 1.0 / 3.0, 2.0 / 3.0, 100.0, 1e-4,
                   9.999999999999999e15}) {
    expect_round_trip(v);
  }
  std::mt19937_64 rng(20240607);
  int tested = 0;
  while (tested < 20000) {
    const std::uint64_t bits = rng();
    double value;
    std::memcpy(&value, &bits, sizeof value);
    if (!std::isfinite(value)) continue;
    expect_round_trip(value);
    ++tested;
  }
  std::uniform_real_distribution<double> unit(-10.0, 10.0);
  for (int i = 0; i < 5000; ++i)
    expect_round_trip(unit(rng));
}

TEST(FormatDouble, IsShortest) {
  // A value typed with few digits comes back with exactly those digits.
  EXPECT_EQ(format_double(std::strtod("0.7", nullptr)), "0.7");
  EXPECT_EQ(format_double(std::strtod("3.14159", nullptr)), "3.14159");
}

TEST(UrlEncode, KeepsUnreservedAndEscapesTheRestInUppercaseHex) {
  EXPECT_EQ(url_encode("ABCXYZabcxyz0189-_.~"), "ABCXYZabcxyz0189-_.~");
  EXPECT_EQ(url_encode("1e+22"), "1e%2B22");
  EXPECT_EQ(url_encode("a b&c=d/e?f#g%"), "a%20b%26c%3Dd%2Fe%3Ff%23g%25");
  EXPECT_EQ(url_encode("\xC3\xA9"), "%C3%A9");
  EXPECT_EQ(url_encode(std::string_view("\0\xff", 2)), "%00%FF");
  EXPECT_EQ(url_encode(""), "");
}

}  // namespace
}  // namespace rvae::protocol
