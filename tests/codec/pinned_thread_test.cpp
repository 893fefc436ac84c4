// The split JPEG decode's platform function (pinned_thread.hpp): both parts run, the helper on
// a thread of its own, and the call returns only once the helper has returned. The pin itself
// is best effort (a system may not say which core the caller is on), so it is not asserted.
#include "codec/pinned_thread.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace rvae::codec_detail {
namespace {

struct Part {
  std::thread::id ran_on;
  int runs = 0;
  // The helper waits for the caller's part to start: both run at once, not one after the other.
  std::atomic<bool>* caller_started = nullptr;
  bool saw_caller = false;
};

void helper_part(void* argument) noexcept {
  auto* part = static_cast<Part*>(argument);
  part->ran_on = std::this_thread::get_id();
  ++part->runs;
  while (!part->caller_started->load()) {
    std::this_thread::yield();
  }
  part->saw_caller = true;
}

void caller_part(void* argument) noexcept {
  auto* part = static_cast<Part*>(argument);
  part->ran_on = std::this_thread::get_id();
  ++part->runs;
  part->caller_started->store(true);
}

TEST(PinnedThread, RunsTheHelperOnItsOwnThreadAndJoinsIt) {
  if (usable_cores() < 2) GTEST_SKIP() << "one usable core: no helper thread is started";
  for (int i = 0; i < 20; ++i) {
    std::atomic<bool> caller_started{false};
    Part helper;
    Part caller;
    helper.caller_started = &caller_started;
    caller.caller_started = &caller_started;
    ASSERT_TRUE(run_with_pinned_helper(helper_part, &helper, caller_part, &caller));
    // Plain fields read after the call: the join makes the helper's writes visible.
    EXPECT_EQ(helper.runs, 1);
    EXPECT_EQ(caller.runs, 1);
    EXPECT_TRUE(helper.saw_caller);
    EXPECT_EQ(caller.ran_on, std::this_thread::get_id());
    EXPECT_NE(helper.ran_on, std::this_thread::get_id());
    EXPECT_NE(helper.ran_on, std::thread::id());
  }
}

TEST(PinnedThread, CountsAtLeastTheCoreItRunsOn) {
  EXPECT_GE(usable_cores(), 1u);
}

}  // namespace
}  // namespace rvae::codec_detail
