// The service's query typing (PROTOCOL.md §2): all digits -> int, true/false -> bool, else string;
// one occurrence -> scalar, several -> list in order.
#include "testing/query_params.hpp"

#include <gtest/gtest.h>

namespace rvae::reference {
namespace {

TEST(QueryParams, TypesValuesAndKeepsRepeatedKeysInOrder) {
  const QueryParams params = QueryParams::parse(
      "shape=1&shape=4&shape=64&shape=32&dtype=float16&partial_postprocess=TrUe&x=false&f=0.18215");
  const QueryValue* shape = params.find("shape");
  ASSERT_NE(shape, nullptr);
  ASSERT_EQ(shape->items.size(), 4u);
  EXPECT_TRUE(shape->is_list());
  const std::int64_t expected[] = {1, 4, 64, 32};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(shape->items[i].kind, QueryScalar::Kind::kInt);
    EXPECT_EQ(shape->items[i].int_value, expected[i]);
  }
  EXPECT_EQ(params.get_string("dtype").value(), std::optional<std::string>("float16"));
  EXPECT_EQ(params.get_bool("partial_postprocess").value(), std::optional<bool>(true));
  EXPECT_EQ(params.get_bool("x").value(), std::optional<bool>(false));
  EXPECT_DOUBLE_EQ(params.get_number("f").value().value(), 0.18215);
  EXPECT_EQ(params.find("missing"), nullptr);
  EXPECT_FALSE(params.get_string("missing").value().has_value());
}

TEST(QueryParams, OneElementShapeIsABareInt) {
  const QueryParams params = QueryParams::parse("shape=64");
  const QueryValue* shape = params.find("shape");
  ASSERT_NE(shape, nullptr);
  EXPECT_FALSE(shape->is_list());
  EXPECT_EQ(shape->items.front().kind, QueryScalar::Kind::kInt);
  EXPECT_EQ(shape->python_str(), "64");
}

TEST(QueryParams, PercentDecodingAndPythonRepr) {
  const QueryParams params = QueryParams::parse("a=x%20y+z&a=7&a=True&b=%zz&c&d=");
  const QueryValue* a = params.find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->items[0].text, "x y z");
  EXPECT_EQ(a->python_str(), "['x y z', 7, True]");
  EXPECT_EQ(params.find("b")->items.front().text, "%zz");  // Malformed escapes stay literal.
  EXPECT_EQ(params.find("c")->items.front().text, "");
  EXPECT_EQ(params.find("d")->items.front().kind, QueryScalar::Kind::kString);
  EXPECT_EQ(QueryParams::parse("q=it's").find("q")->items.front().text, "it's");
  EXPECT_EQ(QueryParams::parse("q=it's&q=1").find("q")->python_str(), "['it\\'s', 1]");
  EXPECT_EQ(QueryParams::parse("n=007").find("n")->python_str(), "7");
}

TEST(QueryParams, TypedGettersRefuseOtherTypes) {
  const QueryParams params =
      QueryParams::parse("s=1&b=yes&i=abc&n=abc&l=1&l=2&big=99999999999999999999&inf=inf&t=true");
  Result<std::optional<std::string>> s = params.get_string("s");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(), "Query parameter `s` must be a single string, got `1`.");
  EXPECT_FALSE(params.get_bool("b"));
  EXPECT_FALSE(params.get_int("i"));
  EXPECT_FALSE(params.get_int("l"));
  EXPECT_FALSE(params.get_int("big"));
  EXPECT_FALSE(params.get_number("n"));
  EXPECT_FALSE(params.get_number("inf"));
  EXPECT_FALSE(params.get_number("t"));
  Result<std::optional<double>> list = params.get_number("l");
  ASSERT_FALSE(list);
  EXPECT_NE(list.error().message().find("[1, 2]"), std::string::npos);
  EXPECT_DOUBLE_EQ(QueryParams::parse("x=-1.5e-1").get_number("x").value().value(), -0.15);
  EXPECT_EQ(QueryParams::parse("x=12").get_number("x").value().value(), 12.0);
}

TEST(QueryParams, RawQueryOfTarget) {
  EXPECT_EQ(raw_query_of("/sdxl/decode/?a=1&b=2"), "a=1&b=2");
  EXPECT_EQ(raw_query_of("/sdxl/decode/"), "");
  EXPECT_EQ(raw_query_of("/?a=1#frag"), "a=1");
}

}  // namespace
}  // namespace rvae::reference
