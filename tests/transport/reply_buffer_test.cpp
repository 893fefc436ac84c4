#include "transport/reply_buffer.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace rvae::transport {
namespace {

TEST(AppendCappedTest, GrowsButNeverPastTheCap) {
  constexpr std::size_t kCap = 2'100'000;
  const std::vector<std::uint8_t> chunk(16384, 7);
  Bytes body;
  std::size_t appended = 0;
  while (appended + chunk.size() <= kCap) {
    ASSERT_TRUE(append_capped(body, chunk.data(), chunk.size(), kCap));
    appended += chunk.size();
    ASSERT_LE(body.capacity(), kCap);
  }
  EXPECT_EQ(body.size(), appended);
  EXPECT_EQ(body.back(), 7);
}

TEST(AppendCappedTest, RefusesWhatWouldPassTheCapAndKeepsTheBody) {
  Bytes body(90, 1);
  const std::vector<std::uint8_t> chunk(11, 2);
  EXPECT_FALSE(append_capped(body, chunk.data(), chunk.size(), 100));
  EXPECT_EQ(body.size(), 90u);
  EXPECT_TRUE(append_capped(body, chunk.data(), 10, 100));
  EXPECT_EQ(body.size(), 100u);
  EXPECT_FALSE(append_capped(body, chunk.data(), 1, 100));
  EXPECT_FALSE(append_capped(body, chunk.data(), 200, 100));
}

}  // namespace
}  // namespace rvae::transport
