// The state behind the Pending of one wire request: the transfer's raw result until it is taken.
// get() parses it on the caller's thread; then() parses it on a library worker and runs the
// callback there, so JPEG/PNG decoding never holds up the network thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "api/call.hpp"
#include "api/worker_pool.hpp"
#include "rvae/cancel.hpp"
#include "rvae/pending.hpp"
#include "transport/transport.hpp"

namespace rvae::detail {

template <typename T>
class PendingCall final : public PendingState<T>,
                          public std::enable_shared_from_this<PendingCall<T>> {
 public:
  using Finisher = std::function<Result<T>(transport::TransferResult&&, const CallInfo&)>;

  PendingCall(Finisher finisher, std::shared_ptr<WorkerPool> workers)
      : finisher_(std::move(finisher)), workers_(std::move(workers)) {}

  /// The call's last transfer ended; runs once, on the network thread or the starting thread.
  void deliver(transport::TransferResult&& result, const CallInfo& info) {
    bool post = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      raw_.emplace(std::move(result));
      info_ = info;
      post = static_cast<bool>(callback_);
    }
    if (post) post_callback();
    ready_.notify_all();
  }

  void wait() override {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [this] { return raw_.has_value() && !callback_running_; });
  }
  bool wait_for(std::chrono::nanoseconds timeout) override {
    std::unique_lock<std::mutex> lock(mutex_);
    return ready_.wait_for(lock, timeout,
                           [this] { return raw_.has_value() && !callback_running_; });
  }
  Result<T> take() override {
    wait();
    return finisher_(std::move(*raw_), info_);
  }
  void then(std::function<void(Result<T>)> callback) override {
    bool post = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      callback_ = std::move(callback);
      callback_running_ = true;
      post = raw_.has_value();
    }
    if (post) post_callback();
  }
  void cancel() override { token.cancel(); }
  // Once this returns the transport has let go of the request, so the caller may free the
  // buffers the request borrowed.
  void release() noexcept override {
    token.cancel();
    wait();
  }

  /// Cancels this call alone (Pending::cancel); follows the caller's token.
  CancelToken token;

 private:
  void post_callback() {
    workers_->post([self = this->shared_from_this()] {
      Result<T> result = self->finisher_(std::move(*self->raw_), self->info_);
      std::function<void(Result<T>)> callback = std::move(self->callback_);
      callback(std::move(result));
      {
        std::lock_guard<std::mutex> lock(self->mutex_);
        self->callback_running_ = false;
      }
      self->ready_.notify_all();
    });
  }

  Finisher finisher_;
  std::shared_ptr<WorkerPool> workers_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::optional<transport::TransferResult> raw_;
  CallInfo info_;
  std::function<void(Result<T>)> callback_;
  bool callback_running_ = false;
};

}  // namespace rvae::detail
