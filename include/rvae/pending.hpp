// The future result of an asynchronous call.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include "rvae/error.hpp"
#include "rvae/export.h"

namespace rvae {

namespace detail {
/// The shared state behind a Pending (implemented by the library).
template <typename T>
class PendingState {
 public:
  // What Pending forwards to; see Pending for the meaning of each.
  virtual ~PendingState() = default;
  virtual void wait() = 0;
  virtual bool wait_for(std::chrono::nanoseconds timeout) = 0;
  virtual Result<T> take() = 0;
  virtual void cancel() = 0;
  /// Hands the result to `callback` instead of take(); called at most once.
  virtual void then(std::function<void(Result<T>)> callback) = 0;
  /// Cancels and returns once the call no longer touches the caller's memory.
  virtual void release() noexcept {
    cancel();
    wait();
  }
};
}  // namespace detail

/// The future result of an asynchronous call. Move-only. Take the result once: get() blocks for
/// it, then() hands it to a callback. Dropping a Pending before either cancels its call and
/// returns only once the library no longer reads the buffers the call borrowed (the latents or
/// pixels given to *_async), so they may be freed right after. Do not drop one inside a progress
/// or log callback (that would wait on the thread it runs on).
template <typename T>
class Pending {
 public:
  /// Receives the result of a call; see then().
  using Callback = std::function<void(Result<T>)>;

  /// An empty Pending (valid() is false).
  Pending() = default;
  explicit Pending(std::shared_ptr<detail::PendingState<T>> state) : state_(std::move(state)) {}
  /// Cancels an unfinished call and waits until it let go of the caller's buffers.
  ~Pending() { release(); }
  Pending(Pending&& other) noexcept = default;
  /// Releases the call this Pending held (as the destructor does), then takes `other`'s.
  Pending& operator=(Pending&& other) noexcept {
    if (this != &other) {
      release();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  Pending(const Pending&) = delete;
  Pending& operator=(const Pending&) = delete;

  /// False for a default-constructed Pending, a moved-from one, and after get() or then().
  bool valid() const noexcept { return state_ != nullptr; }
  /// Blocks until the result is ready; returns at once when !valid().
  void wait() const {
    if (state_) state_->wait();
  }
  /// Blocks at most `timeout`; true when the result is ready (and at once when !valid(): there
  /// is nothing left to wait for).
  template <typename Rep, typename Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
    if (!state_) return true;
    return state_->wait_for(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout));
  }
  /// Blocks, then returns the result; the Pending is invalid afterwards. On an invalid Pending:
  /// an InvalidArgument error saying so.
  Result<T> get() {
    if (!state_) return invalid_use();
    std::shared_ptr<detail::PendingState<T>> state = std::move(state_);
    return state->take();
  }
  /// Hands the result to `callback` when the call finishes, instead of get(); the Pending is
  /// invalid afterwards and the call goes on without it (cancel it through its options'
  /// CancelToken). `callback` runs once, on a library worker thread (or on the thread calling
  /// then() when the Pending is invalid, with the error get() would give), never on the network
  /// thread; it may start new calls and drop Pendings, and must not throw (what it throws is
  /// dropped) nor block waiting for another callback (the workers are few). The buffers the
  /// call borrowed must stay alive until it has run.
  void then(Callback callback) {
    if (!state_) {
      callback(invalid_use());
      return;
    }
    std::shared_ptr<detail::PendingState<T>> state = std::move(state_);
    state->then(std::move(callback));
  }
  /// Asks the call to stop; get() then gives Cancelled unless it had already finished. Does
  /// nothing when !valid().
  void cancel() const {
    if (state_) state_->cancel();
  }

 private:
  static Error invalid_use() {
    return Error(ErrorCode::kInvalidArgument,
                 "this result was already taken (or the call was never started)");
  }
  void release() noexcept {
    if (!state_) return;
    const std::shared_ptr<detail::PendingState<T>> state = std::move(state_);
    state->release();
  }
  std::shared_ptr<detail::PendingState<T>> state_;
};

namespace detail {
/// The state of a Pending made with its result.
template <typename T>
class ReadyState final : public PendingState<T> {
 public:
  explicit ReadyState(Result<T> result) : result_(std::move(result)) {}
  void wait() override {}
  bool wait_for(std::chrono::nanoseconds) override { return true; }
  Result<T> take() override { return std::move(result_); }
  void then(std::function<void(Result<T>)> callback) override { callback(std::move(result_)); }
  void cancel() override {}

 private:
  Result<T> result_;
};
}  // namespace detail

/// A Pending that already holds `result` (for code that hands out Pendings and sometimes knows
/// the answer at once, such as a failure to read an input). Its then() runs the callback at
/// once, on the calling thread.
template <typename T>
Pending<T> make_ready_pending(Result<T> result) {
  return Pending<T>(std::make_shared<detail::ReadyState<T>>(std::move(result)));
}

}  // namespace rvae
