// run_with_pinned_helper on POSIX threads; the pin (pthread_attr_setaffinity_np) on Linux only.
#include "codec/pinned_thread.hpp"

#include <pthread.h>
#include <sched.h>

#include <thread>

namespace rvae::codec_detail {
namespace {

struct HelperStart {
  ThreadWork work;
  void* argument;
};

void* run_helper(void* start) noexcept {
  const auto* helper = static_cast<const HelperStart*>(start);
  helper->work(helper->argument);
  return nullptr;
}

// Starts the helper with the attributes that pin it (see the header for why).
bool start_elsewhere(pthread_t* thread, HelperStart* start) noexcept {
  pthread_attr_t attributes;
  if (pthread_attr_init(&attributes) != 0) return false;
  bool can_start = true;
#if defined(__linux__)
  cpu_set_t others;
  const int current = sched_getcpu();
  if (current >= 0 && sched_getaffinity(0, sizeof others, &others) == 0) {
    CPU_CLR(current, &others);
    can_start = CPU_COUNT(&others) > 0 &&
                pthread_attr_setaffinity_np(&attributes, sizeof others, &others) == 0;
  }
#endif
  const bool started = can_start && pthread_create(thread, &attributes, run_helper, start) == 0;
  pthread_attr_destroy(&attributes);
  return started;
}

}  // namespace

unsigned usable_cores() noexcept {
#if defined(__linux__)
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    return static_cast<unsigned>(CPU_COUNT(&allowed));
  }
#endif
  return std::thread::hardware_concurrency();
}

bool run_with_pinned_helper(ThreadWork helper, void* helper_argument, ThreadWork own,
                            void* own_argument) noexcept {
  HelperStart start{helper, helper_argument};
  pthread_t thread;
  if (!start_elsewhere(&thread, &start)) return false;
  own(own_argument);
  pthread_join(thread, nullptr);
  return true;
}

}  // namespace rvae::codec_detail
