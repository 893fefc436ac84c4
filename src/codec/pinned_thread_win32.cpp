// run_with_pinned_helper on Win32 threads (_beginthreadex, so the C runtime is set up for the
// new thread), pinned with SetThreadAffinityMask before the thread first runs.
#include "codec/pinned_thread.hpp"

#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <process.h>

#include <cstdint>

#include <thread>

namespace rvae::codec_detail {
namespace {

struct HelperStart {
  ThreadWork work;
  void* argument;
};

unsigned __stdcall run_helper(void* start) noexcept {
  const auto* helper = static_cast<const HelperStart*>(start);
  helper->work(helper->argument);
  return 0;
}

unsigned count_bits(DWORD_PTR mask) noexcept {
  unsigned count = 0;
  for (; mask != 0; mask &= mask - 1)
    ++count;
  return count;
}

// The cores of the process's affinity (its processor group) other than the caller's: 0 when
// the caller may use no other; all ones when the system does not say (the thread starts unpinned).
DWORD_PTR other_cores() noexcept {
  DWORD_PTR process = 0;
  DWORD_PTR system = 0;
  if (GetProcessAffinityMask(GetCurrentProcess(), &process, &system) == 0 || process == 0) {
    return ~DWORD_PTR{0};
  }
  const DWORD current = GetCurrentProcessorNumber();
  if (current >= sizeof(DWORD_PTR) * 8) return ~DWORD_PTR{0};
  return process & ~(DWORD_PTR{1} << current);
}

}  // namespace

unsigned usable_cores() noexcept {
  DWORD_PTR process = 0;
  DWORD_PTR system = 0;
  if (GetProcessAffinityMask(GetCurrentProcess(), &process, &system) != 0 && process != 0) {
    return count_bits(process);
  }
  return std::thread::hardware_concurrency();
}

bool run_with_pinned_helper(ThreadWork helper, void* helper_argument, ThreadWork own,
                            void* own_argument) noexcept {
  const DWORD_PTR others = other_cores();
  if (others == 0) return false;
  HelperStart start{helper, helper_argument};
  // Suspended, so the pin is in place before the thread first runs.
  const std::uintptr_t created =
      _beginthreadex(nullptr, 0, run_helper, &start, CREATE_SUSPENDED, nullptr);
  if (created == 0) return false;
  const auto thread = reinterpret_cast<HANDLE>(created);
  // Best effort, as on Linux where the system cannot say: a thread that is not pinned still
  // decodes its part.
  if (others != ~DWORD_PTR{0}) SetThreadAffinityMask(thread, others);
  if (ResumeThread(thread) == static_cast<DWORD>(-1)) {
    // It never ran: it cannot be joined, and ending it from outside is unsafe. Nothing here
    // can fail this way short of a broken handle; the thread is left suspended.
    CloseHandle(thread);
    return false;
  }
  own(own_argument);
  WaitForSingleObject(thread, INFINITE);
  CloseHandle(thread);
  return true;
}

}  // namespace rvae::codec_detail
