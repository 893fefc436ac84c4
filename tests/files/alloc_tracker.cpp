// Replaces global operator new/delete for the files test binary so tests can check the largest
// single allocation a parse makes and the most heap it holds at once (parsers must not allocate
// what the input cannot justify). Live bytes are counted with the C library's usable size of a
// block (malloc_usable_size, _msize on Windows), so delete needs no size.
#include "files/alloc_tracker.hpp"

#include <malloc.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace {
std::size_t usable_size(void* p) {
#ifdef _WIN32
  return _msize(p);
#else
  return malloc_usable_size(p);
#endif
}

std::atomic<std::size_t> g_largest{0};
std::atomic<std::size_t> g_live{0};
std::atomic<std::size_t> g_peak{0};
std::atomic<std::size_t> g_baseline{0};

void raise_to(std::atomic<std::size_t>& target, std::size_t value) {
  std::size_t seen = target.load(std::memory_order_relaxed);
  while (value > seen && !target.compare_exchange_weak(seen, value)) {
  }
}
}  // namespace

namespace rvae::testing_support {

void reset_largest_allocation() {
  g_largest.store(0);
}
std::size_t largest_allocation() {
  return g_largest.load();
}
void reset_peak_heap() {
  g_baseline.store(g_live.load());
  g_peak.store(g_live.load());
}
std::size_t peak_heap_growth() {
  const std::size_t peak = g_peak.load();
  const std::size_t baseline = g_baseline.load();
  return peak > baseline ? peak - baseline : 0;
}

}  // namespace rvae::testing_support

void* operator new(std::size_t size) {
  raise_to(g_largest, size);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    const std::size_t live = g_live.fetch_add(usable_size(p)) + usable_size(p);
    raise_to(g_peak, live);
    return p;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  return ::operator new(size);
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_live.fetch_sub(usable_size(p));
  std::free(p);
}
void operator delete[](void* p) noexcept {
  ::operator delete(p);
}
void operator delete(void* p, std::size_t) noexcept {
  ::operator delete(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  ::operator delete(p);
}
