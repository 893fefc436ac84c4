// Where the two-thread JPEG decode (jpeg_split.cpp) runs its threads: the codec layer's one
// platform-specific part, pinned_thread_posix.cpp or pinned_thread_win32.cpp (CMake picks by
// WIN32: cmake/RvaeLayers.cmake).
#pragma once

namespace rvae::codec_detail {

/// What one thread of run_with_pinned_helper runs.
using ThreadWork = void (*)(void* argument) noexcept;

/// The cores the calling thread may run on (its affinity: under taskset or a cpuset too), or the
/// hardware's count when the system does not say.
unsigned usable_cores() noexcept;

/// Runs `helper(helper_argument)` on a new thread while the calling thread runs
/// `own(own_argument)`, and returns once both have returned. The new thread is pinned, for its
/// short life, to the cores the caller may use other than the one it is running on: left to
/// itself, Linux queues a new thread on its parent's core, where it can wait most of a
/// time slice for an idle core to pull it over, a large part of a decode (BENCHMARKS.md, "Codecs
/// and untrusted input"). Where the system cannot say which core the caller is on, the thread
/// starts unpinned. False, and neither function runs, when no thread can be started or the
/// caller may run on its current core only.
bool run_with_pinned_helper(ThreadWork helper, void* helper_argument, ThreadWork own,
                            void* own_argument) noexcept;

}  // namespace rvae::codec_detail
