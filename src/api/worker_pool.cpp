#include "api/worker_pool.hpp"

#include <algorithm>
#include <utility>

namespace rvae::detail {
namespace {

thread_local bool running_as_worker = false;

void run_contained(const std::function<void()>& job) noexcept {
  try {
    job();
  } catch (...) {
  }
}

}  // namespace

WorkerPool::WorkerPool(std::size_t threads) {
  threads = std::max<std::size_t>(1, threads);
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() {
  shutdown();
}

void WorkerPool::post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopped_) {
      jobs_.push_back(std::move(job));
      wake_.notify_one();
      return;
    }
  }
  run_contained(job);
}

void WorkerPool::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.get_id() == std::this_thread::get_id()) {
      thread.detach();  // Shut down from one of its own jobs: it ends after that job.
    } else if (thread.joinable()) {
      thread.join();
    }
  }
  // Jobs posted while the workers were ending run here; later ones run where they are posted.
  std::deque<std::function<void()>> left;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    left.swap(jobs_);
  }
  for (const std::function<void()>& job : left)
    run_contained(job);
}

bool WorkerPool::on_worker_thread() noexcept {
  return running_as_worker;
}

void WorkerPool::work() {
  running_as_worker = true;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // Stopping, and the queue is drained.
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    run_contained(job);
    lock.lock();
  }
}

}  // namespace rvae::detail
