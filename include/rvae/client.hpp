// The client: sends decode/encode requests to remote VAE endpoints, concurrently, over reused
// connections, with deadlines, retries, auth, progress and cancellation.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rvae/cancel.hpp"
#include "rvae/error.hpp"
#include "rvae/export.h"
#include "rvae/image.hpp"
#include "rvae/options.hpp"
#include "rvae/retry.hpp"
#include "rvae/tensor.hpp"

namespace RVAE_API rvae {

/// Severity of a log message.
enum class LogLevel { kDebug, kInfo, kWarning };

/// Receives diagnostics; the library never prints. May be called from the client's network
/// thread; must be thread-safe and quick. Messages never contain tokens.
using LogCallback = std::function<void(LogLevel level, std::string_view message)>;

/// Settings of a Client; fixed for its lifetime.
struct ClientOptions {
  /// Time allowed to establish a connection (TCP and TLS), per attempt.
  std::chrono::milliseconds connect_timeout{10'000};
  /// Time allowed for one attempt, upload to the last byte of the reply.
  std::chrono::milliseconds attempt_timeout{300'000};
  /// Time allowed for a whole call, queueing, retries and waits included. Nothing blocks past
  /// it: the call ends with DeadlineExceeded. RequestControl::deadline overrides it per call.
  std::chrono::milliseconds deadline{900'000};
  /// Stall detection: an attempt moving fewer than `low_speed_bytes` bytes per second for
  /// `low_speed_time` ends with DeadlineExceeded (and may be retried). 0 disables it.
  std::uint32_t low_speed_bytes = 1;
  std::chrono::seconds low_speed_time{60};
  /// Retries of transient failures.
  RetryPolicy retry;
  /// When set, sends `X-Scale-Up-Timeout: <seconds>` so a scaled-to-zero Inference Endpoint
  /// holds the request while it starts instead of answering 503.
  std::optional<std::chrono::seconds> scale_up_timeout;
  /// Most requests this client has on the wire at once; further calls queue (their queue time
  /// is reported in RequestTimings).
  std::size_t max_in_flight = 64;
  /// Bearer token sent as `Authorization: Bearer <token>`. When empty and
  /// `token_from_environment` is true: HF_TOKEN, else the file at $HF_TOKEN_PATH, else
  /// $HF_HOME/token, else ~/.cache/huggingface/token. Never sent to another host after a
  /// redirect; never in an error message or a log line.
  std::string token;
  bool token_from_environment = true;
  /// Sent as User-Agent; empty means "rvae/<version>".
  std::string user_agent;
  /// Replies larger than this are refused (ResourceExhausted) instead of buffered.
  std::size_t max_reply_bytes = std::size_t{2} << 30;
  /// Images in replies with more pixels than this are refused.
  std::uint64_t max_reply_pixels = 8192ull * 8192ull;
  /// Threads decoding one image reply may use (ImageDecodeOptions::max_threads): 2 lets a
  /// large JPEG decode on a second, short-lived thread when a core is free; 1 keeps decoding on
  /// the thread that takes the result.
  int decode_threads = 2;
  /// CA bundle file for TLS verification; empty uses the system's. Verification is always on.
  std::string ca_file;
  /// After a retryable failure, a replica (one URL of an Endpoint with several) is skipped for
  /// this long while others are available.
  std::chrono::milliseconds replica_cooldown{30'000};
  /// Optional diagnostics sink.
  LogCallback log;
};

/// One model's endpoint: one URL, or several replicas of it. Each call goes to the replica with
/// the fewest requests in flight among those not recently failing. Converts implicitly from a
/// URL string.
class Endpoint {
 public:
  Endpoint(const char* url) : urls_{std::string(url)} {}               // NOLINT
  Endpoint(std::string url) : urls_{std::move(url)} {}                 // NOLINT
  Endpoint(std::string_view url) : urls_{std::string(url)} {}          // NOLINT
  Endpoint(std::vector<std::string> urls) : urls_(std::move(urls)) {}  // NOLINT
  Endpoint(std::initializer_list<std::string> urls) : urls_(urls) {}   // NOLINT

  const std::vector<std::string>& urls() const noexcept { return urls_; }

 private:
  std::vector<std::string> urls_;
};

namespace detail {
/// The shared state behind a Pending (implemented by the Client).
template <typename T>
class PendingState {
 public:
  // What Pending forwards to; see Pending for the meaning of each.
  virtual ~PendingState() = default;
  virtual void wait() = 0;
  virtual bool wait_for(std::chrono::nanoseconds timeout) = 0;
  virtual Result<T> take() = 0;
  virtual void cancel() = 0;
  /// Cancels and returns once the call no longer touches the caller's memory.
  virtual void release() noexcept {
    cancel();
    wait();
  }
};
struct ClientFactory;
}  // namespace detail

/// The future result of an asynchronous call. Move-only. Dropping a Pending before get()
/// cancels its call and returns only once the library no longer reads the buffers the call
/// borrowed (the latents or pixels given to *_async), so they may be freed right after. Do not
/// drop one inside a progress or log callback (that would wait on the thread it runs on).
template <typename T>
class Pending {
 public:
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

  /// False for a default-constructed Pending and after get().
  bool valid() const noexcept { return state_ != nullptr; }
  /// Blocks until the result is ready.
  void wait() const { state_->wait(); }
  /// Blocks at most `timeout`; true when the result is ready.
  template <typename Rep, typename Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
    return state_->wait_for(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout));
  }
  /// Blocks, then returns the result; the Pending is invalid afterwards.
  Result<T> get() {
    std::shared_ptr<detail::PendingState<T>> state = std::move(state_);
    return state->take();
  }
  /// Asks the call to stop; get() then gives Cancelled unless it had already finished.
  void cancel() const { state_->cancel(); }

 private:
  void release() noexcept {
    if (!state_) return;
    const std::shared_ptr<detail::PendingState<T>> state = std::move(state_);
    state->release();
  }
  std::shared_ptr<detail::PendingState<T>> state_;
};

/// Progress of a batch, reported from the thread that called the batch method.
struct BatchProgress {
  std::size_t total = 0;
  std::size_t succeeded = 0;
  std::size_t failed = 0;
  std::size_t in_flight = 0;
  std::uint64_t bytes_sent = 0;      ///< Request body bytes, all attempts so far.
  std::uint64_t bytes_received = 0;  ///< Reply body bytes, all attempts so far.
};

/// How a batch runs.
struct BatchOptions {
  /// Most requests of this batch in flight at once (also bounded by ClientOptions::max_in_flight).
  std::size_t max_in_flight = 8;
  /// Cancels every request of the batch not yet finished.
  std::optional<CancelToken> cancel;
  /// Called on the batch's calling thread after each request finishes and as bytes move
  /// (at most every 100 ms).
  std::function<void(const BatchProgress&)> on_progress;
};

/// A connection-reusing client. One network thread drives every transfer over one libcurl multi
/// handle (HTTP/2 multiplexing where the server offers it). Thread-safe: any number of threads
/// may call any method at once. Destroying the Client cancels what is still running (its
/// Pendings then give Cancelled). Not copyable; movable (a moved-from Client must not be used).
class Client {
 public:
  /// Starts the client's network thread; looks up the token once (see ClientOptions::token).
  explicit Client(ClientOptions options = {});
  /// Cancels what is still running and joins the network thread.
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Decodes `latents` ([B,C,h,w] image, [B,L,4C] packed Flux, or [B,C,T,h,w] video latents;
  /// float16, bfloat16 or float32). The latents' bytes are sent from the caller's buffer without
  /// a copy. The reply is validated against the request (size, channels, dtype, frame count).
  /// Errors: InvalidArgument for bad input; the HTTP status's code for an error reply (with the
  /// server's message); DataLoss for a reply that does not match what it says or what was
  /// asked; DeadlineExceeded, Unavailable for network trouble (after retries); Cancelled.
  Result<DecodeOutput> decode(const Endpoint& endpoint, const TensorView& latents,
                              const DecodeOptions& options = {});
  /// Encodes an image (sent as PNG); returns [1,C,H/8,W/8] latents. The pixels are read from
  /// the caller's buffer during the call, without a copy (an Image converts to an ImageView).
  Result<EncodeOutput> encode(const Endpoint& endpoint, ImageView image,
                              const EncodeOptions& options = {});
  /// Encodes a pixel tensor ([B,3,H,W] in [-1,1]); returns [B,C,H/8,W/8] latents.
  Result<EncodeOutput> encode(const Endpoint& endpoint, const TensorView& pixels,
                              const EncodeOptions& options = {});

  /// decode() without blocking. `latents` must stay alive until the result is ready or the
  /// Pending is dropped.
  Pending<DecodeOutput> decode_async(const Endpoint& endpoint, const TensorView& latents,
                                     const DecodeOptions& options = {});
  /// encode() without blocking (the image is PNG-encoded before this returns).
  Pending<EncodeOutput> encode_async(const Endpoint& endpoint, ImageView image,
                                     const EncodeOptions& options = {});
  /// encode() of a tensor without blocking. `pixels` must stay alive until the result is ready
  /// or the Pending is dropped.
  Pending<EncodeOutput> encode_async(const Endpoint& endpoint, const TensorView& pixels,
                                     const EncodeOptions& options = {});

  /// Decodes many latents with at most batch.max_in_flight on the wire; results in input order,
  /// each its own Result (one failure does not stop the others).
  std::vector<Result<DecodeOutput>> decode_batch(const Endpoint& endpoint,
                                                 const std::vector<TensorView>& latents,
                                                 const DecodeOptions& options = {},
                                                 const BatchOptions& batch = {});
  /// Encodes many images the same way.
  std::vector<Result<EncodeOutput>> encode_batch(const Endpoint& endpoint,
                                                 const std::vector<Image>& images,
                                                 const EncodeOptions& options = {},
                                                 const BatchOptions& batch = {});

  /// The options in force (with the token that was found, if any).
  const ClientOptions& options() const noexcept;

  /// Gives a buffer of an earlier result back (e.g. `std::move(output.images[0].pixels)` or a
  /// tensor's `release_bytes()`), so a later reply is received into memory that is already
  /// mapped instead of a fresh allocation: at many calls in flight this saves most of the
  /// client's CPU time on large replies. Optional; the client keeps a bounded number of such
  /// buffers and frees the rest. Thread-safe.
  void recycle(Bytes&& buffer);

 private:
  struct Impl;
  friend struct detail::ClientFactory;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A process-wide Client with default options, created on first use.
Client& default_client();

/// default_client().decode(...)
Result<DecodeOutput> remote_decode(const Endpoint& endpoint, const TensorView& latents,
                                   const DecodeOptions& options = {});
/// default_client().encode(...) for an image.
Result<EncodeOutput> remote_encode(const Endpoint& endpoint, ImageView image,
                                   const EncodeOptions& options = {});
/// default_client().encode(...) for a pixel tensor.
Result<EncodeOutput> remote_encode(const Endpoint& endpoint, const TensorView& pixels,
                                   const EncodeOptions& options = {});

/// "0.1.0"
const char* version() noexcept;

}  // namespace rvae
