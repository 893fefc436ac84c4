// rvae/version.h: generated from the build's project(VERSION), it must name the library it
// ships with. The test build passes its own RVAE_VERSION_STRING with -D, so it is dropped before
// the header is included: what is checked is the header's.
#undef RVAE_VERSION_STRING
#include "rvae/version.h"

#include <gtest/gtest.h>

#include <string>

#include "rvae/rvae.h"
#include "rvae/rvae.hpp"

namespace {

#define RVAE_TEST_STR(x) #x
#define RVAE_TEST_XSTR(x) RVAE_TEST_STR(x)
constexpr char kFromNumbers[] = RVAE_TEST_XSTR(RVAE_VERSION_MAJOR) "." RVAE_TEST_XSTR(
    RVAE_VERSION_MINOR) "." RVAE_TEST_XSTR(RVAE_VERSION_PATCH);

constexpr bool same(const char* a, const char* b) {
  return *a == *b && (*a == '\0' || same(a + 1, b + 1));
}
static_assert(same(kFromNumbers, RVAE_VERSION_STRING),
              "RVAE_VERSION_STRING is not MAJOR.MINOR.PATCH");
// Plain integers, usable in #if.
#if RVAE_VERSION_MAJOR < 0 || RVAE_VERSION_MINOR < 0 || RVAE_VERSION_PATCH < 0
#error "version numbers must be non-negative integers"
#endif

TEST(Version, HeaderNamesTheLinkedLibrary) {
  EXPECT_STREQ(rvae_version(), RVAE_VERSION_STRING);
  EXPECT_STREQ(rvae::version(), RVAE_VERSION_STRING);
  EXPECT_EQ(std::to_string(RVAE_VERSION_MAJOR) + "." + std::to_string(RVAE_VERSION_MINOR) + "." +
                std::to_string(RVAE_VERSION_PATCH),
            rvae_version());
}

}  // namespace
