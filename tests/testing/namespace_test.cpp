// The reference endpoint lives in rvae::reference: inside namespace rvae, `testing` is
// GoogleTest's own (an rvae::testing namespace shadowed it, so tests had to spell ::testing::).
#include <gtest/gtest.h>

#include <type_traits>

#include "rvae/testing/reference_endpoint.hpp"

namespace rvae {
namespace {

class NamespaceTest : public testing::Test {};

TEST_F(NamespaceTest, TestingInsideRvaeIsGoogleTest) {
  EXPECT_TRUE((std::is_same_v<testing::Test, ::testing::Test>));
  reference::ReferenceEndpoint endpoint{reference::ReferenceEndpointOptions{}};
  ASSERT_TRUE(endpoint.start());
  EXPECT_GT(endpoint.port(), 0);
}

}  // namespace
}  // namespace rvae
