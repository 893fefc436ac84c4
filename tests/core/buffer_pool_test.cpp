#include "core/buffer_pool.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace rvae::detail {
namespace {

TEST(BufferPoolTest, HandsBackTheSmallestBufferThatFits) {
  BufferPool pool(4, 1 << 20);
  Bytes small;
  small.reserve(1000);
  Bytes large;
  large.reserve(5000);
  const std::uint8_t* small_data = small.data();
  const std::uint8_t* large_data = large.data();
  pool.give(std::move(large));
  pool.give(std::move(small));
  EXPECT_EQ(pool.pooled_buffers(), 2u);
  Bytes got = pool.take(900);
  EXPECT_EQ(got.data(), small_data);
  EXPECT_TRUE(got.empty());
  Bytes unknown = pool.take(0);  // Unknown size: the largest.
  EXPECT_EQ(unknown.data(), large_data);
  EXPECT_EQ(pool.pooled_buffers(), 0u);
  Bytes fresh = pool.take(100);
  EXPECT_GE(fresh.capacity(), 100u);
}

TEST(BufferPoolTest, BodiesStartEmptyAndImagesKeepTheGivenSize) {
  BufferPool pool(4, 1 << 20);
  Bytes image(3000, 7);
  const std::uint8_t* image_data = image.data();
  pool.give(std::move(image));
  // A reply body is appended to: it must start empty whatever it held.
  Bytes body = pool.take(2000);
  EXPECT_EQ(body.data(), image_data);
  EXPECT_TRUE(body.empty());
  body.assign(2500, 9);
  pool.give(std::move(body));
  // A decoder overwrites what it keeps: resizing to at most the given size writes nothing.
  Bytes pixels = pool.take_unzeroed(2000);
  EXPECT_EQ(pixels.data(), image_data);
  EXPECT_EQ(pixels.size(), 2500u);
  // A fresh one is empty, with the room asked for.
  Bytes fresh = pool.take_unzeroed(100);
  EXPECT_TRUE(fresh.empty());
  EXPECT_GE(fresh.capacity(), 100u);
}

TEST(BufferPoolTest, KeepsWithinItsCountAndByteLimits) {
  BufferPool pool(2, 10'000);
  for (int i = 0; i < 3; ++i) {
    Bytes buffer;
    buffer.reserve(1000);
    pool.give(std::move(buffer));
  }
  EXPECT_EQ(pool.pooled_buffers(), 2u);
  BufferPool small_pool(8, 1500);
  Bytes big;
  big.reserve(2000);
  small_pool.give(std::move(big));
  EXPECT_EQ(small_pool.pooled_buffers(), 0u);
  small_pool.give(Bytes());  // Nothing to keep.
  EXPECT_EQ(small_pool.pooled_buffers(), 0u);
}

}  // namespace
}  // namespace rvae::detail
