// The bounded pool that keeps the PNG writer's compressors across threads (handle_pool.hpp),
// with a fake handle whose creations and frees are counted.
#include "codec/handle_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace rvae::codec_detail {
namespace {

struct Fake {
  int id = 0;
};

std::atomic<int> created{0};
std::atomic<int> freed{0};

Fake* make_fake() {
  return new Fake{++created};
}

Fake* fail_to_make() {
  return nullptr;
}

void free_fake(Fake* fake) {
  ++freed;
  delete fake;
}

constexpr std::size_t kCapacity = 2;
using Pool = HandlePool<Fake, free_fake, kCapacity>;

class HandlePoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    created = 0;
    freed = 0;
  }
  // A pool frees nothing when it goes away (it is meant to live in a NeverDestroyed): empty it.
  void TearDown() override {
    while (pool_.idle() > 0) {
      Pool::Lease lease = pool_.acquire(fail_to_make);
      free_fake(lease.release());
    }
    EXPECT_EQ(created.load(), freed.load());
  }
  Pool pool_;
};

TEST_F(HandlePoolTest, ReusesAHandleGivenBack) {
  int first_id = 0;
  {
    const Pool::Lease lease = pool_.acquire(make_fake);
    ASSERT_NE(lease.get(), nullptr);
    first_id = lease.get()->id;
  }
  EXPECT_EQ(pool_.idle(), 1u);
  const Pool::Lease again = pool_.acquire(make_fake);
  EXPECT_EQ(again.get()->id, first_id);
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(pool_.idle(), 0u);
}

TEST_F(HandlePoolTest, FreesHandlesGivenBackBeyondItsCapacity) {
  {
    const Pool::Lease a = pool_.acquire(make_fake);
    const Pool::Lease b = pool_.acquire(make_fake);
    const Pool::Lease c = pool_.acquire(make_fake);
    const Pool::Lease d = pool_.acquire(make_fake);
    EXPECT_EQ(created.load(), 4);
  }
  EXPECT_EQ(pool_.idle(), kCapacity);
  EXPECT_EQ(freed.load(), 4 - static_cast<int>(kCapacity));
}

TEST_F(HandlePoolTest, AFailedCreationLeasesNothingAndGivesNothingBack) {
  {
    const Pool::Lease lease = pool_.acquire(fail_to_make);
    EXPECT_EQ(lease.get(), nullptr);
  }
  EXPECT_EQ(pool_.idle(), 0u);
}

// Threads that come and go share the handles: as many are made as were in use at once.
TEST_F(HandlePoolTest, ThreadsTakingTurnsShareOneHandle) {
  for (int i = 0; i < 16; ++i) {
    std::thread([this] {
      const Pool::Lease lease = pool_.acquire(make_fake);
      EXPECT_NE(lease.get(), nullptr);
    }).join();
  }
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(freed.load(), 0);
}

TEST_F(HandlePoolTest, ConcurrentLeasesStayWithinWhatWasInUseAtOnce) {
  constexpr int kThreads = 4;
  constexpr int kLeases = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this] {
      for (int i = 0; i < kLeases; ++i) {
        const Pool::Lease lease = pool_.acquire(make_fake);
        EXPECT_NE(lease.get(), nullptr);
      }
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_LE(pool_.idle(), kCapacity);
  // Every handle made is either idle in the pool or was freed on a return to a full pool.
  EXPECT_EQ(created.load() - freed.load(), static_cast<int>(pool_.idle()));
}

TEST(NeverDestroyed, ConstructsOnceAndRunsNoDestructor) {
  struct Counted {
    explicit Counted(int* destroyed) : destroyed_(destroyed) {}
    ~Counted() { ++*destroyed_; }
    int* destroyed_;
  };
  int destroyed = 0;
  {
    NeverDestroyed<Counted> holder(&destroyed);
    EXPECT_EQ(holder.get().destroyed_, &destroyed);
  }
  EXPECT_EQ(destroyed, 0);
}

}  // namespace
}  // namespace rvae::codec_detail
