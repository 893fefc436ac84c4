#include "rvae/client.hpp"
#include "rvae/tiled.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "api/call.hpp"
#include "api/client_seam.hpp"
#include "api/replica_tracker.hpp"
#include "api/token_source.hpp"
#include "protocol/protocol.hpp"
#include "transport/transport.hpp"

namespace rvae {

using transport::Clock;

namespace {

// The token is looked up once, when the Client is made.
ClientOptions resolve_options(ClientOptions options) {
  if (options.token.empty() && options.token_from_environment) {
    options.token = detail::resolve_token({}, detail::process_env());
  }
  return options;
}

transport::TransportConfig transport_config(const ClientOptions& options) {
  transport::TransportConfig config;
  config.user_agent = options.user_agent;
  config.token = options.token;
  config.max_in_flight = options.max_in_flight;
  config.max_reply_bytes = options.max_reply_bytes;
  config.ca_file = options.ca_file;
  return config;
}

// The state behind a Pending: the last transfer's raw result until get() parses it on the
// caller's thread (so JPEG/PNG decoding never holds up the network thread).
template <typename T>
class PendingCall final : public detail::PendingState<T> {
 public:
  using Finisher = std::function<Result<T>(transport::TransferResult&&, const detail::CallInfo&)>;

  PendingCall(Finisher finisher, std::function<void()> on_ready)
      : finisher_(std::move(finisher)), on_ready_(std::move(on_ready)) {}

  void deliver(transport::TransferResult&& result, const detail::CallInfo& info) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      raw_.emplace(std::move(result));
      info_ = info;
    }
    ready_.notify_all();
    if (on_ready_) on_ready_();
  }

  void wait() override {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [this] { return raw_.has_value(); });
  }
  bool wait_for(std::chrono::nanoseconds timeout) override {
    std::unique_lock<std::mutex> lock(mutex_);
    return ready_.wait_for(lock, timeout, [this] { return raw_.has_value(); });
  }
  Result<T> take() override {
    wait();
    return finisher_(std::move(*raw_), info_);
  }
  void cancel() override { token.cancel(); }
  // Once this returns the transport has let go of the request, so the caller may free the
  // buffers the request borrowed.
  void release() noexcept override {
    token.cancel();
    wait();
  }

  CancelToken token;

 private:
  Finisher finisher_;
  std::function<void()> on_ready_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::optional<transport::TransferResult> raw_;
  detail::CallInfo info_;
};

Result<DecodeOutput> finish_decode(transport::TransferResult&& result, const detail::CallInfo& info,
                                   const protocol::DecodeExpectation& expect,
                                   const protocol::ReplyLimits& limits) {
  if (!result.response) return detail::annotate_failure(std::move(result.response).error(), info);
  const auto start = Clock::now();
  Result<DecodeOutput> output =
      protocol::parse_decode_reply(std::move(result.response).value(), expect, limits);
  if (!output) return detail::annotate_failure(std::move(output).error(), info);
  output->timings = detail::make_timings(result.timings, info, Clock::now() - start);
  return output;
}

Result<EncodeOutput> finish_encode(transport::TransferResult&& result, const detail::CallInfo& info,
                                   const protocol::EncodeExpectation& expect) {
  if (!result.response) return detail::annotate_failure(std::move(result.response).error(), info);
  const auto start = Clock::now();
  Result<Tensor> latents = protocol::parse_encode_reply(std::move(result.response).value(), expect);
  if (!latents) return detail::annotate_failure(std::move(latents).error(), info);
  EncodeOutput output;
  output.latents = std::move(latents).value();
  output.timings = detail::make_timings(result.timings, info, Clock::now() - start);
  return output;
}

// Recycled buffers for decoded images, from the transport's pool. A Pending may be parsed
// after its Client is gone, so the finisher holds this, not the transport, and finds it
// detached then.
class ImageBuffers {
 public:
  explicit ImageBuffers(transport::Transport* transport) : transport_(transport) {}

  Bytes take(std::size_t expected) {
    std::lock_guard<std::mutex> lock(mutex_);
    return transport_ != nullptr ? transport_->take_buffer(expected) : Bytes();
  }
  void detach() {
    std::lock_guard<std::mutex> lock(mutex_);
    transport_ = nullptr;
  }

 private:
  std::mutex mutex_;
  transport::Transport* transport_;
};

std::uint64_t default_random_bits() {
  // Jitter only needs to decorrelate clients; one generator per thread suffices.
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator();
}

}  // namespace

struct Client::Impl {
  Impl(ClientOptions client_options, detail::ClientSeams seams)
      : options(resolve_options(std::move(client_options))),
        replicas(options.replica_cooldown),
        now(seams.now ? std::move(seams.now) : [] { return Clock::now(); }),
        random_bits(seams.random_bits ? std::move(seams.random_bits) : &default_random_bits),
        transport(seams.transport ? std::move(seams.transport)
                                  : transport::make_curl_transport(transport_config(options))),
        image_buffers(std::make_shared<ImageBuffers>(transport.get())) {}

  ~Impl() {
    image_buffers->detach();
    // Cancels what still runs while the state its completions use is alive.
    transport.reset();
  }

  detail::CallContext context() { return {&options, transport.get(), &replicas, now, random_bits}; }

  protocol::ReplyLimits limits() const {
    protocol::ReplyLimits reply_limits;
    reply_limits.max_pixels = options.max_reply_pixels;
    reply_limits.decode_threads = options.decode_threads;
    reply_limits.image_storage = [buffers = image_buffers](std::size_t expected) {
      return buffers->take(expected);
    };
    return reply_limits;
  }

  // Starts a built request (or reports why it could not be built) as a Pending.
  template <typename T, typename Built>
  Pending<T> launch(Clock::time_point started, const Endpoint& endpoint, Result<Built>&& built,
                    const RequestControl& control, typename PendingCall<T>::Finisher finisher,
                    std::function<void()> on_ready = nullptr) {
    auto pending = std::make_shared<PendingCall<T>>(std::move(finisher), std::move(on_ready));
    auto deliver = [pending](transport::TransferResult&& result, const detail::CallInfo& info) {
      pending->deliver(std::move(result), info);
    };
    if (!options.token.empty() && !detail::is_valid_token(options.token)) {
      deliver({Error(ErrorCode::kInvalidArgument,
                     "the token has characters an HTTP header cannot carry (whitespace or "
                     "control characters)"),
               {}},
              {});
    } else if (!built) {
      deliver({std::move(built).error(), {}}, {});
    } else {
      std::vector<std::string> urls = endpoint.urls();
      auto http = std::make_shared<protocol::HttpRequest>(std::move(built->http));
      if (options.scale_up_timeout) {
        http->headers.push_back(
            {"X-Scale-Up-Timeout", std::to_string(options.scale_up_timeout->count())});
      }
      detail::start_call(context(), urls, std::move(http), control, pending->token, started,
                         std::move(deliver));
    }
    return Pending<T>(pending);
  }

  Pending<DecodeOutput> decode(const Endpoint& endpoint, const TensorView& latents,
                               const DecodeOptions& decode_options,
                               std::function<void()> on_ready = nullptr) {
    const Clock::time_point started = now();
    Result<void> valid = detail::validate_endpoints(endpoint.urls());
    Result<protocol::DecodeRequest> built =
        valid ? protocol::build_decode_request(latents, decode_options)
              : Result<protocol::DecodeRequest>(std::move(valid).error());
    const protocol::DecodeExpectation expect =
        built ? built->expect : protocol::DecodeExpectation{};
    return launch<DecodeOutput>(
        started, endpoint, std::move(built), decode_options.control,
        [expect, reply_limits = limits()](transport::TransferResult&& result,
                                          const detail::CallInfo& info) {
          return finish_decode(std::move(result), info, expect, reply_limits);
        },
        std::move(on_ready));
  }

  template <typename Input>
  Pending<EncodeOutput> encode(const Endpoint& endpoint, const Input& input,
                               const EncodeOptions& encode_options,
                               std::function<void()> on_ready = nullptr) {
    const Clock::time_point started = now();
    Result<void> valid = detail::validate_endpoints(endpoint.urls());
    Result<protocol::EncodeRequest> built =
        valid ? protocol::build_encode_request(input, encode_options)
              : Result<protocol::EncodeRequest>(std::move(valid).error());
    const protocol::EncodeExpectation expect =
        built ? built->expect : protocol::EncodeExpectation{};
    return launch<EncodeOutput>(
        started, endpoint, std::move(built), encode_options.control,
        [expect](transport::TransferResult&& result, const detail::CallInfo& info) {
          return finish_encode(std::move(result), info, expect);
        },
        std::move(on_ready));
  }

  ClientOptions options;
  detail::ReplicaTracker replicas;
  detail::CallClock now;
  detail::RandomBits random_bits;
  std::unique_ptr<transport::Transport> transport;
  std::shared_ptr<ImageBuffers> image_buffers;
};

Client::Client(ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options), detail::ClientSeams{})) {}
Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const ClientOptions& Client::options() const noexcept {
  return impl_->options;
}

void Client::recycle(Bytes&& buffer) {
  impl_->transport->recycle(std::move(buffer));
}

Pending<DecodeOutput> Client::decode_async(const Endpoint& endpoint, const TensorView& latents,
                                           const DecodeOptions& options) {
  return impl_->decode(endpoint, latents, options);
}
Pending<EncodeOutput> Client::encode_async(const Endpoint& endpoint, ImageView image,
                                           const EncodeOptions& options) {
  return impl_->encode(endpoint, image, options);
}
Pending<EncodeOutput> Client::encode_async(const Endpoint& endpoint, const TensorView& pixels,
                                           const EncodeOptions& options) {
  return impl_->encode(endpoint, pixels, options);
}

// The blocking calls tile what exceeds the endpoint's cap (rvae/tiled.hpp); the async ones send
// exactly one request.
Result<DecodeOutput> Client::decode(const Endpoint& endpoint, const TensorView& latents,
                                    const DecodeOptions& options) {
  if (decode_needs_tiling(latents, options)) return tiled_decode(*this, endpoint, latents, options);
  return decode_async(endpoint, latents, options).get();
}
Result<EncodeOutput> Client::encode(const Endpoint& endpoint, ImageView image,
                                    const EncodeOptions& options) {
  if (encode_needs_tiling(image.width, image.height, options)) {
    // Tiling crops the image into tiles, so it works on an owned copy.
    Image owned{image.width, image.height, image.channels, {}};
    if (image.pixels != nullptr) owned.pixels.assign(image.pixels, image.pixels + image.size_bytes);
    return tiled_encode(*this, endpoint, owned, options);
  }
  return encode_async(endpoint, image, options).get();
}
Result<EncodeOutput> Client::encode(const Endpoint& endpoint, const TensorView& pixels,
                                    const EncodeOptions& options) {
  if (pixels.shape.size() == 4 && encode_needs_tiling(static_cast<int>(pixels.shape[3]),
                                                      static_cast<int>(pixels.shape[2]), options)) {
    return tiled_encode(*this, endpoint, pixels, options);
  }
  return encode_async(endpoint, pixels, options).get();
}

// ---- Batches: a bounded window of calls, refilled as each finishes, results in input order.
namespace {

// Indices of finished calls, posted from the network thread to the batch's thread.
class FinishedQueue {
 public:
  void post(std::size_t index) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_.push_back(index);
    }
    arrived_.notify_one();
  }
  std::vector<std::size_t> wait(std::chrono::milliseconds tick) {
    std::unique_lock<std::mutex> lock(mutex_);
    arrived_.wait_for(lock, tick, [this] { return !finished_.empty(); });
    std::vector<std::size_t> out;
    out.swap(finished_);
    return out;
  }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<std::size_t> finished_;
};

constexpr std::chrono::milliseconds kBatchProgressTick{100};

// Live byte counts of one batch's in-flight calls, written on the network thread.
struct LiveBytes {
  explicit LiveBytes(std::size_t count) : sent(count), received(count) {}
  std::vector<std::atomic<std::uint64_t>> sent;
  std::vector<std::atomic<std::uint64_t>> received;
};

RequestControl batch_control(const RequestControl& base, const BatchOptions& batch,
                             const std::shared_ptr<LiveBytes>& live, std::size_t index) {
  RequestControl control = base;
  if (batch.cancel) control.cancel = batch.cancel;
  control.on_progress = [user = base.on_progress, live, index](const TransferProgress& bytes) {
    live->sent[index].store(bytes.uploaded, std::memory_order_relaxed);
    live->received[index].store(bytes.downloaded, std::memory_order_relaxed);
    if (user) user(bytes);
  };
  return control;
}

// `start(index, control, on_ready)` starts one call and returns its Pending.
template <typename T, typename Start>
std::vector<Result<T>> run_batch(std::size_t count, const BatchOptions& batch,
                                 const RequestControl& base_control, Start start) {
  std::vector<std::optional<Result<T>>> results(count);
  std::vector<Pending<T>> pending(count);
  auto finished = std::make_shared<FinishedQueue>();
  auto live = std::make_shared<LiveBytes>(count);
  const std::size_t window = std::max<std::size_t>(1, batch.max_in_flight);

  BatchProgress progress;
  progress.total = count;
  std::uint64_t done_sent = 0;
  std::uint64_t done_received = 0;
  std::size_t next = 0;
  auto report = [&] {
    if (!batch.on_progress) return;
    progress.bytes_sent = done_sent;
    progress.bytes_received = done_received;
    for (std::size_t i = 0; i < count; ++i) {
      if (pending[i].valid()) {
        progress.bytes_sent += live->sent[i].load(std::memory_order_relaxed);
        progress.bytes_received += live->received[i].load(std::memory_order_relaxed);
      }
    }
    batch.on_progress(progress);
  };

  while (next < count || progress.in_flight > 0) {
    while (next < count && progress.in_flight < window) {
      const std::size_t index = next++;
      pending[index] = start(index, batch_control(base_control, batch, live, index),
                             [finished, index] { finished->post(index); });
      ++progress.in_flight;
    }
    for (std::size_t index : finished->wait(kBatchProgressTick)) {
      Result<T> result = pending[index].get();
      --progress.in_flight;
      if (result) {
        ++progress.succeeded;
        done_sent += result->timings.bytes_sent;
        done_received += result->timings.bytes_received;
      } else {
        ++progress.failed;
      }
      results[index].emplace(std::move(result));
    }
    report();
  }
  std::vector<Result<T>> out;
  out.reserve(count);
  for (std::optional<Result<T>>& result : results)
    out.push_back(std::move(*result));
  return out;
}

}  // namespace

std::vector<Result<DecodeOutput>> Client::decode_batch(const Endpoint& endpoint,
                                                       const std::vector<TensorView>& latents,
                                                       const DecodeOptions& options,
                                                       const BatchOptions& batch) {
  return run_batch<DecodeOutput>(
      latents.size(), batch, options.control,
      [&](std::size_t index, RequestControl control, std::function<void()> on_ready) {
        DecodeOptions one = options;
        one.control = std::move(control);
        return impl_->decode(endpoint, latents[index], one, std::move(on_ready));
      });
}

std::vector<Result<EncodeOutput>> Client::encode_batch(const Endpoint& endpoint,
                                                       const std::vector<Image>& images,
                                                       const EncodeOptions& options,
                                                       const BatchOptions& batch) {
  return run_batch<EncodeOutput>(
      images.size(), batch, options.control,
      [&](std::size_t index, RequestControl control, std::function<void()> on_ready) {
        EncodeOptions one = options;
        one.control = std::move(control);
        return impl_->encode(endpoint, images[index], one, std::move(on_ready));
      });
}

namespace detail {

Client ClientFactory::make(ClientOptions options, ClientSeams seams) {
  return Client(std::make_unique<Client::Impl>(std::move(options), std::move(seams)));
}

}  // namespace detail

Client& default_client() {
  static Client client;
  return client;
}

Result<DecodeOutput> remote_decode(const Endpoint& endpoint, const TensorView& latents,
                                   const DecodeOptions& options) {
  return default_client().decode(endpoint, latents, options);
}

Result<EncodeOutput> remote_encode(const Endpoint& endpoint, ImageView image,
                                   const EncodeOptions& options) {
  return default_client().encode(endpoint, image, options);
}

Result<EncodeOutput> remote_encode(const Endpoint& endpoint, const TensorView& pixels,
                                   const EncodeOptions& options) {
  return default_client().encode(endpoint, pixels, options);
}

const char* version() noexcept {
  return RVAE_VERSION_STRING;
}

}  // namespace rvae
