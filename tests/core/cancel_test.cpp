#include "rvae/cancel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
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

TEST(CancelTokenTest, AChildIsCancelledWithItsParentButNotTheOtherWay) {
  CancelToken parent;
  CancelToken child = parent.child();
  CancelToken sibling = parent.child();
  sibling.cancel();
  EXPECT_FALSE(parent.cancelled());
  EXPECT_FALSE(child.cancelled());
  parent.cancel();
  EXPECT_TRUE(child.cancelled());
  // A child of a cancelled token starts cancelled.
  EXPECT_TRUE(parent.child().cancelled());
}

TEST(CancelTokenTest, ATokenFollowsEachOfItsParents) {
  CancelToken batch;
  CancelToken call;
  CancelToken first;
  first.follow(batch);
  first.follow(call);
  CancelToken second;
  second.follow(batch);
  second.follow(call);
  call.cancel();
  EXPECT_TRUE(first.cancelled());
  EXPECT_TRUE(second.cancelled());
  EXPECT_FALSE(batch.cancelled());
  first.follow(first);  // Following itself does nothing.
}

TEST(CancelTokenTest, AGoneChildLeavesNoCallbackOnItsParent) {
  CancelToken parent;
  std::weak_ptr<int> watched;
  {
    auto kept = std::make_shared<int>(1);
    watched = kept;
    CancelToken child = parent.child();
    child.add_callback([kept] {});
  }
  // The child's state, and what its callbacks held, went with its last copy, although the
  // parent lives on and was never cancelled.
  EXPECT_TRUE(watched.expired());
  int runs = 0;
  parent.add_callback([&runs] { ++runs; });
  parent.cancel();
  EXPECT_EQ(runs, 1);
}

TEST(CancelTokenTest, LinksAreSafeWhileParentsAndChildrenComeAndGoOnOtherThreads) {
  CancelToken parent;
  std::vector<std::thread> threads;
  std::atomic<int> cancelled{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        CancelToken child = parent.child();
        if (child.cancelled()) ++cancelled;
      }
    });
  }
  parent.cancel();
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_TRUE(parent.child().cancelled());
}

}  // namespace
}  // namespace rvae
