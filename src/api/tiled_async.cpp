// Tiled calls without blocking. A tiled call is a loop on the caller's thread (it merges replies
// as they arrive), so the asynchronous form gives that loop a thread of its own, behind the same
// Pending the single-request calls return.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "rvae/tiled.hpp"

namespace rvae {
namespace {

template <typename T>
class TiledPending final : public detail::PendingState<T> {
 public:
  // `work` runs once on the state's thread with the call's cancel token.
  using Work = std::function<Result<T>(const CancelToken&)>;

  TiledPending(Work work, const std::optional<CancelToken>& user) : user_(user) {
    // The caller's token stops the call too; the call's own token is what cancel() sets.
    if (user_) chained_ = user_->add_callback([token = token_]() mutable { token.cancel(); });
    thread_ = std::thread([this, work = std::move(work)] {
      Result<T> result = work(token_);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        result_.emplace(std::move(result));
      }
      ready_.notify_all();
    });
  }
  // Dropping the last Pending stops the call: its thread borrows the caller's Client and latents.
  ~TiledPending() override {
    token_.cancel();
    if (thread_.joinable()) thread_.join();
    if (chained_) user_->remove_callback(*chained_);
  }
  TiledPending(const TiledPending&) = delete;
  TiledPending& operator=(const TiledPending&) = delete;

  void wait() override {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [this] { return result_.has_value(); });
  }
  bool wait_for(std::chrono::nanoseconds timeout) override {
    std::unique_lock<std::mutex> lock(mutex_);
    return ready_.wait_for(lock, timeout, [this] { return result_.has_value(); });
  }
  Result<T> take() override {
    wait();
    std::lock_guard<std::mutex> lock(mutex_);
    return std::move(*result_);
  }
  void cancel() override { token_.cancel(); }

 private:
  CancelToken token_;
  std::optional<CancelToken> user_;
  std::optional<std::uint64_t> chained_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::optional<Result<T>> result_;
  std::thread thread_;
};

}  // namespace

Pending<DecodeOutput> tiled_decode_async(Client& client, const Endpoint& endpoint,
                                         const TensorView& latents, const DecodeOptions& options) {
  auto work = [&client, endpoint, latents, options](const CancelToken& token) {
    DecodeOptions call = options;
    call.control.cancel = token;
    return tiled_decode(client, endpoint, latents, call);
  };
  return Pending<DecodeOutput>(
      std::make_shared<TiledPending<DecodeOutput>>(std::move(work), options.control.cancel));
}

Pending<EncodeOutput> tiled_encode_async(Client& client, const Endpoint& endpoint,
                                         const Image& image, const EncodeOptions& options) {
  auto work = [&client, endpoint, image, options](const CancelToken& token) {
    EncodeOptions call = options;
    call.control.cancel = token;
    return tiled_encode(client, endpoint, image, call);
  };
  return Pending<EncodeOutput>(
      std::make_shared<TiledPending<EncodeOutput>>(std::move(work), options.control.cancel));
}

}  // namespace rvae
