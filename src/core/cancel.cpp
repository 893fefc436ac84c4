#include "rvae/cancel.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace rvae {

struct CancelToken::State {
  std::atomic<bool> cancelled{false};
  std::mutex mutex;
  std::uint64_t next_id = 1;
  std::map<std::uint64_t, std::function<void()>> callbacks;
};

CancelToken::CancelToken() : state_(std::make_shared<State>()) {}

void CancelToken::cancel() {
  std::map<std::uint64_t, std::function<void()>> to_run;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->cancelled.exchange(true)) return;
    to_run.swap(state_->callbacks);
  }
  // Outside the lock: a callback may add or remove callbacks of its own.
  for (auto& [id, callback] : to_run)
    callback();
}

bool CancelToken::cancelled() const noexcept {
  return state_->cancelled.load(std::memory_order_acquire);
}

std::uint64_t CancelToken::add_callback(std::function<void()> callback) {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (!state_->cancelled.load()) {
      const std::uint64_t id = state_->next_id++;
      state_->callbacks.emplace(id, std::move(callback));
      return id;
    }
  }
  callback();
  return 0;
}

void CancelToken::remove_callback(std::uint64_t id) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->callbacks.erase(id);
}

}  // namespace rvae
