#include "api/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

namespace rvae::detail {
namespace {

TEST(WorkerPoolTest, JobsRunOffThePostingThreadAndShutdownRunsThemAll) {
  std::atomic<int> ran{0};
  std::atomic<int> on_caller{0};
  const std::thread::id caller = std::this_thread::get_id();
  {
    WorkerPool pool(2);
    for (int i = 0; i < 100; ++i) {
      pool.post([&] {
        if (std::this_thread::get_id() == caller) ++on_caller;
        ++ran;
      });
    }
    pool.shutdown();
    EXPECT_EQ(ran.load(), 100);
  }
  EXPECT_EQ(on_caller.load(), 0);
}

TEST(WorkerPoolTest, JobsPostedByJobsDuringShutdownStillRun) {
  std::atomic<int> ran{0};
  WorkerPool pool(1);
  pool.post([&] {
    // Chained work, as a completion callback that starts the next call.
    pool.post([&] { pool.post([&] { ++ran; }); });
  });
  pool.shutdown();
  EXPECT_EQ(ran.load(), 1);
  // After shutdown a job runs where it is posted.
  pool.post([&] { ++ran; });
  EXPECT_EQ(ran.load(), 2);
}

TEST(WorkerPoolTest, AThrowingJobDoesNotStopTheOthers) {
  std::atomic<int> ran{0};
  WorkerPool pool(1);
  pool.post([] { throw std::runtime_error("a callback broke"); });
  pool.post([&] { ++ran; });
  pool.shutdown();
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace rvae::detail
