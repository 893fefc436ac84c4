#include "core/text.hpp"

#include <string_view>

#include <gtest/gtest.h>

namespace rvae::detail {
namespace {

TEST(Trim, RemovesSpacesTabsAndLineEndsAtBothEnds) {
  EXPECT_EQ(trim(" \thf_token \r\n"), "hf_token");
  EXPECT_EQ(trim("Retry-After: 5\r\n"), "Retry-After: 5");
  // A header line starting with a stray CR or LF is trimmed like one starting with a space.
  EXPECT_EQ(trim("\r\nX-Name"), "X-Name");
  EXPECT_EQ(trim("no-space"), "no-space");
}

TEST(Trim, KeepsInnerWhitespaceAndOtherCharacters) {
  EXPECT_EQ(trim("  a b\tc  "), "a b\tc");
  // Only HTTP's optional whitespace and line ends: form feeds and vertical tabs stay.
  EXPECT_EQ(trim("\fx\v"), "\fx\v");
  EXPECT_EQ(trim(std::string_view("\0x\0", 3)), std::string_view("\0x\0", 3));
}

TEST(Trim, BlankOrEmptyGivesEmpty) {
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim(" \t\r\n "), "");
}

TEST(Trim, ReturnsAViewIntoTheInput) {
  const std::string_view text = "  abc  ";
  const std::string_view trimmed = trim(text);
  EXPECT_EQ(trimmed.data(), text.data() + 2);
  EXPECT_EQ(trimmed.size(), 3u);
}

}  // namespace
}  // namespace rvae::detail
