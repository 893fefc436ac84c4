// Tiled calls without blocking. A tiled call merges replies on the thread that runs it, so the
// asynchronous form gives it a thread of its own, behind the same Pending a single request
// returns; the Client waits for these threads before its engine goes.
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "tiling/tiler.hpp"

namespace rvae::detail {

struct TiledCalls::Registry {
  std::mutex mutex;
  std::condition_variable ended;
  std::map<std::uint64_t, CancelToken> running;
  std::uint64_t next_id = 1;
  bool closed = false;
};

namespace {

template <typename T>
class TiledTask final : public PendingState<T> {
 public:
  TiledTask(std::shared_ptr<WorkerPool> workers, const std::optional<CancelToken>& user)
      : workers_(std::move(workers)) {
    if (user) token.follow(*user);
  }

  /// The call's result; runs its callback here when one is set.
  void finish(Result<T> result) {
    std::function<void(Result<T>)> callback;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (callback_) {
        callback = std::move(callback_);
      } else {
        result_.emplace(std::move(result));
        finished_ = true;
      }
    }
    if (callback) {
      try {
        callback(std::move(result));
      } catch (...) {
      }
      std::lock_guard<std::mutex> lock(mutex_);
      finished_ = true;
    }
    ready_.notify_all();
  }

  void wait() override {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [this] { return finished_; });
  }
  bool wait_for(std::chrono::nanoseconds timeout) override {
    std::unique_lock<std::mutex> lock(mutex_);
    return ready_.wait_for(lock, timeout, [this] { return finished_; });
  }
  Result<T> take() override {
    wait();
    std::lock_guard<std::mutex> lock(mutex_);
    return std::move(*result_);
  }
  void then(std::function<void(Result<T>)> callback) override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!finished_) {
      callback_ = std::move(callback);
      return;
    }
    auto result = std::make_shared<Result<T>>(std::move(*result_));
    lock.unlock();
    workers_->post([callback = std::move(callback), result] { callback(std::move(*result)); });
  }
  void cancel() override { token.cancel(); }

  /// Cancels the call; follows the caller's token.
  CancelToken token;

 private:
  std::shared_ptr<WorkerPool> workers_;
  std::mutex mutex_;
  std::condition_variable ready_;
  bool finished_ = false;
  std::optional<Result<T>> result_;
  std::function<void(Result<T>)> callback_;
};

// Runs `work` on a thread of its own, registered so that close() can end it.
template <typename T>
Pending<T> spawn(const std::shared_ptr<TiledCalls::Registry>& registry, Engine& engine,
                 const std::optional<CancelToken>& user,
                 std::function<Result<T>(const CancelToken&)> work) {
  auto task = std::make_shared<TiledTask<T>>(engine.workers(), user);
  std::uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(registry->mutex);
    if (!registry->closed) {
      id = registry->next_id++;
      registry->running.emplace(id, task->token);
    }
  }
  if (id == 0) {
    task->finish(Error(ErrorCode::kCancelled, "the client is shutting down"));
    return Pending<T>(task);
  }
  auto ended = [registry, id] {
    {
      std::lock_guard<std::mutex> lock(registry->mutex);
      registry->running.erase(id);
    }
    registry->ended.notify_all();
  };
  try {
    std::thread([task, work = std::move(work), ended] {
      task->finish(work(task->token));
      ended();
    }).detach();
  } catch (const std::system_error& error) {
    task->finish(
        Error(ErrorCode::kResourceExhausted,
              std::string("could not start a thread for the tiled call: ") + error.what()));
    ended();
  }
  return Pending<T>(task);
}

}  // namespace

TiledCalls::TiledCalls() : registry_(std::make_shared<Registry>()) {}

TiledCalls::~TiledCalls() {
  close();
}

void TiledCalls::close() {
  std::map<std::uint64_t, CancelToken> running;
  {
    std::lock_guard<std::mutex> lock(registry_->mutex);
    registry_->closed = true;
    running = registry_->running;
  }
  for (auto& [id, token] : running)
    token.cancel();
  std::unique_lock<std::mutex> lock(registry_->mutex);
  registry_->ended.wait(lock, [this] { return registry_->running.empty(); });
}

Pending<DecodeOutput> TiledCalls::decode(Engine& engine, const Endpoint& endpoint,
                                         const TensorView& latents, const DecodeOptions& options) {
  return spawn<DecodeOutput>(registry_, engine, options.control.cancel,
                             [&engine, endpoint, latents, options](const CancelToken& token) {
                               DecodeOptions call = options;
                               call.control.cancel = token;
                               return tiled_decode(engine, endpoint, latents, call);
                             });
}

Pending<EncodeOutput> TiledCalls::encode(Engine& engine, const Endpoint& endpoint, ImageView image,
                                         const EncodeOptions& options) {
  // Tiling crops the image into tiles, so it works on an owned copy.
  Image owned{image.width, image.height, image.channels, {}};
  if (image.pixels != nullptr) owned.pixels.assign(image.pixels, image.pixels + image.size_bytes);
  return spawn<EncodeOutput>(
      registry_, engine, options.control.cancel,
      [&engine, endpoint, owned = std::move(owned), options](const CancelToken& token) {
        EncodeOptions call = options;
        call.control.cancel = token;
        return tiled_encode(engine, endpoint, owned, call);
      });
}

Pending<EncodeOutput> TiledCalls::encode(Engine& engine, const Endpoint& endpoint,
                                         const TensorView& pixels, const EncodeOptions& options) {
  return spawn<EncodeOutput>(registry_, engine, options.control.cancel,
                             [&engine, endpoint, pixels, options](const CancelToken& token) {
                               EncodeOptions call = options;
                               call.control.cancel = token;
                               return tiled_encode(engine, endpoint, pixels, call);
                             });
}

}  // namespace rvae::detail
