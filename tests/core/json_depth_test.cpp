#include "core/json_depth.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rvae::detail {
namespace {

TEST(JsonDepthTest, CountsNestingOfObjectsAndArrays) {
  EXPECT_EQ(json_nesting_depth("42"), 0u);
  EXPECT_EQ(json_nesting_depth(R"({"a": [1, {"b": []}]})"), 4u);
  EXPECT_EQ(json_nesting_depth("[[],[[]],[]]"), 3u);
}

TEST(JsonDepthTest, IgnoresBracketsInsideStrings) {
  EXPECT_EQ(json_nesting_depth(R"({"text": "[[[{{{ \" ]]] "})"), 1u);
}

TEST(JsonDepthTest, HandlesHostileDepthWithoutRecursion) {
  const std::string deep(1'000'000, '[');
  EXPECT_EQ(json_nesting_depth(deep), 1'000'000u);
  EXPECT_EQ(json_nesting_depth("]]]]"), 0u);
}

}  // namespace
}  // namespace rvae::detail
