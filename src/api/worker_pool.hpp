// A few library threads that parse replies and run completion callbacks, so neither happens on
// the network thread (which must never wait on a JPEG decode or a caller's code).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace rvae::detail {

class WorkerPool {
 public:
  /// Starts `threads` workers (at least 1).
  explicit WorkerPool(std::size_t threads);
  /// shutdown().
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Runs `job` on a worker; after shutdown(), on the calling thread. What it throws is dropped:
  /// a job owns its errors.
  void post(std::function<void()> job);
  /// True on a thread of any WorkerPool (e.g. to run a job in place rather than wait for one
  /// queued behind it).
  static bool on_worker_thread() noexcept;
  /// Runs what is queued (and what those jobs post) to the end, then joins the workers.
  void shutdown();

 private:
  void work();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace rvae::detail
