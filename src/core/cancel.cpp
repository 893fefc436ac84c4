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
  // The callbacks this token registered on the tokens it follows, removed when it dies.
  std::vector<std::pair<std::weak_ptr<State>, std::uint64_t>> links;

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    for (auto& [parent, id] : links) {
      if (std::shared_ptr<State> alive = parent.lock()) {
        std::lock_guard<std::mutex> lock(alive->mutex);
        alive->callbacks.erase(id);
      }
    }
  }
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

CancelToken CancelToken::child() const {
  CancelToken token;
  token.follow(*this);
  return token;
}

void CancelToken::follow(const CancelToken& parent) {
  if (parent.state_ == state_) return;
  // The parent holds only a weak reference: a child that is gone is not kept alive by it.
  const std::uint64_t id = CancelToken(parent).add_callback([weak = std::weak_ptr<State>(state_)] {
    if (std::shared_ptr<State> alive = weak.lock()) {
      CancelToken token;
      token.state_ = std::move(alive);
      token.cancel();
    }
  });
  if (id == 0) return;  // Already cancelled: the callback ran.
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->links.emplace_back(parent.state_, id);
}

}  // namespace rvae
