#include "rvae/cancel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace rvae {
namespace {

TEST(CancelTokenTest, CopiesShareTheFlagAndCallbacksRunOnce) {
  CancelToken token;
  CancelToken copy = token;
  int runs = 0;
  token.add_callback([&] { ++runs; });
  EXPECT_FALSE(copy.cancelled());
  copy.cancel();
  copy.cancel();
  EXPECT_TRUE(token.cancelled());
  EXPECT_EQ(runs, 1);
}

TEST(CancelTokenTest, RemovedCallbackDoesNotRun) {
  CancelToken token;
  int runs = 0;
  const std::uint64_t id = token.add_callback([&] { ++runs; });
  token.remove_callback(id);
  token.cancel();
  EXPECT_EQ(runs, 0);
}

TEST(CancelTokenTest, CallbackAddedAfterCancelRunsAtOnce) {
  CancelToken token;
  token.cancel();
  int runs = 0;
  EXPECT_EQ(token.add_callback([&] { ++runs; }), 0u);
  EXPECT_EQ(runs, 1);
}

TEST(CancelTokenTest, ConcurrentAddAndCancelRunEveryCallbackExactlyOnce) {
  CancelToken token;
  std::atomic<int> runs{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i)
        token.add_callback([&] { runs.fetch_add(1); });
    });
  }
  threads.emplace_back([&] { token.cancel(); });
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_EQ(runs.load(), 1000);
}

}  // namespace
}  // namespace rvae
