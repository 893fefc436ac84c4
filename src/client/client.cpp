// The public Client: a façade over the request engine that routes every call form (blocking,
// async, batch) through the tiler when its options ask for tiling, so that every form honours
// TilingOptions the same way. Batches run on the one call window (rvae/call_window.hpp).
#include "rvae/client.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "api/engine.hpp"
#include "api/open_inference_calls.hpp"
#include "client/client_seam.hpp"
#include "core/try.hpp"
#include "rvae/call_window.hpp"
#include "rvae/tiled.hpp"
#include "tiling/tiler.hpp"

namespace rvae {

struct Client::Impl {
  Impl(ClientOptions options, detail::ClientSeams seams)
      : engine(std::move(options), std::move(seams)) {}
  // Tiled calls end first (their threads use the engine), then the engine's calls; both while
  // every member is alive, since the callbacks that still run may call this Client.
  ~Impl() {
    tiled.close();
    engine.shutdown();
  }

  Pending<DecodeOutput> decode_async(const Endpoint& endpoint, const TensorView& latents,
                                     const DecodeOptions& options) {
    if (decode_needs_tiling(latents, options)) {
      return tiled.decode(engine, endpoint, latents, options);
    }
    return engine.decode_async(endpoint, latents, options);
  }
  Pending<EncodeOutput> encode_async(const Endpoint& endpoint, ImageView image,
                                     const EncodeOptions& options) {
    if (encode_needs_tiling(image.width, image.height, options)) {
      return tiled.encode(engine, endpoint, image, options);
    }
    return engine.encode_async(endpoint, image, options);
  }
  Pending<EncodeOutput> encode_async(const Endpoint& endpoint, const TensorView& pixels,
                                     const EncodeOptions& options) {
    if (pixels_need_tiling(pixels, options)) return tiled.encode(engine, endpoint, pixels, options);
    return engine.encode_async(endpoint, pixels, options);
  }

  static bool pixels_need_tiling(const TensorView& pixels, const EncodeOptions& options) {
    return pixels.shape.size() == 4 &&
           encode_needs_tiling(static_cast<int>(pixels.shape[3]), static_cast<int>(pixels.shape[2]),
                               options);
  }

  detail::Engine engine;
  detail::TiledCalls tiled;
};

namespace {

Error moved_from() {
  return Error(ErrorCode::kInvalidArgument, "this Client was moved from and has no connection");
}

constexpr std::chrono::milliseconds kBatchProgressTick{100};

// Live byte counts of one batch's calls in flight, written on the network thread.
struct LiveBytes {
  explicit LiveBytes(std::size_t count) : sent(count), received(count) {}
  std::vector<std::atomic<std::uint64_t>> sent;
  std::vector<std::atomic<std::uint64_t>> received;
};

// The control of batch item `index`: cancelled by the batch (through the window's token) and by
// the call's own token alike; progress counted for the batch, then passed on.
RequestControl item_control(const RequestControl& base, const CancelToken& window,
                            const std::shared_ptr<LiveBytes>& live, std::size_t index) {
  RequestControl control = base;
  CancelToken token = window.child();
  if (base.cancel) token.follow(*base.cancel);
  control.cancel = std::move(token);
  control.on_progress = [user = base.on_progress, live, index](const TransferProgress& bytes) {
    live->sent[index].store(bytes.uploaded, std::memory_order_relaxed);
    live->received[index].store(bytes.downloaded, std::memory_order_relaxed);
    if (user) user(bytes);
  };
  return control;
}

// The requests a batch call may have in flight: a tiled one up to its tiling window, lowered
// to what the batch allows, so that every limit counts requests on the wire.
std::size_t tiled_weight(bool tiled, std::size_t tile_window, std::size_t batch_limit) {
  return tiled ? std::max<std::size_t>(1, std::min(tile_window, batch_limit)) : 1;
}

// `start(index, control, weight)` starts one call, allowed `weight` requests in flight, and
// returns its Pending; `weight(index, limit)` says how many it needs.
template <typename T, typename Weight, typename Start>
std::vector<Result<T>> run_batch(std::size_t count, std::size_t client_limit,
                                 const BatchOptions& batch, const RequestControl& base_control,
                                 Weight weight, Start start) {
  std::vector<std::optional<Result<T>>> results(count);
  std::vector<bool> flying(count, false);
  auto live = std::make_shared<LiveBytes>(count);
  BatchProgress progress;
  progress.total = count;
  std::uint64_t done_sent = 0;
  std::uint64_t done_received = 0;
  auto report = [&] {
    if (!batch.on_progress) return;
    progress.bytes_sent = done_sent;
    progress.bytes_received = done_received;
    for (std::size_t i = 0; i < count; ++i) {
      if (flying[i]) {
        progress.bytes_sent += live->sent[i].load(std::memory_order_relaxed);
        progress.bytes_received += live->received[i].load(std::memory_order_relaxed);
      }
    }
    batch.on_progress(progress);
  };

  WindowJobs<T> jobs;
  jobs.count = count;
  jobs.limit = std::min(std::max<std::size_t>(1, batch.max_in_flight), client_limit);
  jobs.cancel = batch.cancel;
  jobs.weight = [&](std::size_t index) { return weight(index, jobs.limit); };
  jobs.start = [&](std::size_t index, const CancelToken& window) {
    flying[index] = true;
    ++progress.in_flight;
    return start(index, item_control(base_control, window, live, index), weight(index, jobs.limit));
  };
  jobs.finish = [&](std::size_t index, Result<T> result) {
    flying[index] = false;
    --progress.in_flight;
    if (result) {
      ++progress.succeeded;
      done_sent += result->timings.bytes_sent;
      done_received += result->timings.bytes_received;
    } else {
      ++progress.failed;
    }
    results[index].emplace(std::move(result));
    report();
    return WindowStep::kGoOn;
  };
  if (batch.on_progress) {
    jobs.tick = kBatchProgressTick;
    jobs.on_tick = [&] {
      report();
      return WindowStep::kGoOn;
    };
  }
  run_window(jobs);
  std::vector<Result<T>> out;
  out.reserve(count);
  for (std::optional<Result<T>>& result : results) {
    // A batch cancelled before an item started reports that item as cancelled.
    out.push_back(result ? std::move(*result)
                         : Result<T>(Error(ErrorCode::kCancelled,
                                           "the batch was cancelled before this call started")));
  }
  return out;
}

}  // namespace

Client::Client(ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options), detail::ClientSeams{})) {}
Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const ClientOptions& Client::options() const noexcept {
  static const ClientOptions kMovedFrom;
  return impl_ ? impl_->engine.options() : kMovedFrom;
}

Result<ReplyLayout> Client::reply_layout(const Endpoint& endpoint, const TensorView& latents,
                                         const DecodeOptions& options) {
  if (!impl_) return moved_from();
  return impl_->engine.reply_layout(endpoint, latents, options);
}

Result<EndpointStatus> Client::check(const Endpoint& endpoint, const RequestControl& control) {
  if (!impl_) return moved_from();
  return impl_->engine.check(endpoint, control);
}

void Client::recycle(Bytes&& buffer) {
  if (impl_) impl_->engine.recycle(std::move(buffer));
}

Pending<DecodeOutput> Client::decode_async(const Endpoint& endpoint, const TensorView& latents,
                                           const DecodeOptions& options) {
  if (!impl_) return make_ready_pending<DecodeOutput>(moved_from());
  return impl_->decode_async(endpoint, latents, options);
}
Pending<EncodeOutput> Client::encode_async(const Endpoint& endpoint, ImageView image,
                                           const EncodeOptions& options) {
  if (!impl_) return make_ready_pending<EncodeOutput>(moved_from());
  return impl_->encode_async(endpoint, image, options);
}
Pending<EncodeOutput> Client::encode_async(const Endpoint& endpoint, const TensorView& pixels,
                                           const EncodeOptions& options) {
  if (!impl_) return make_ready_pending<EncodeOutput>(moved_from());
  return impl_->encode_async(endpoint, pixels, options);
}

// The blocking forms run a tiled call on the calling thread (no thread of its own).
Result<DecodeOutput> Client::decode(const Endpoint& endpoint, const TensorView& latents,
                                    const DecodeOptions& options) {
  if (!impl_) return moved_from();
  if (decode_needs_tiling(latents, options)) {
    return detail::tiled_decode(impl_->engine, endpoint, latents, options);
  }
  return impl_->engine.decode_async(endpoint, latents, options).get();
}
Result<EncodeOutput> Client::encode(const Endpoint& endpoint, ImageView image,
                                    const EncodeOptions& options) {
  if (!impl_) return moved_from();
  if (encode_needs_tiling(image.width, image.height, options)) {
    // Tiling crops the image into tiles, so it works on an owned copy.
    Image owned{image.width, image.height, image.channels, {}};
    if (image.pixels != nullptr) owned.pixels.assign(image.pixels, image.pixels + image.size_bytes);
    return detail::tiled_encode(impl_->engine, endpoint, owned, options);
  }
  return impl_->engine.encode_async(endpoint, image, options).get();
}
Result<EncodeOutput> Client::encode(const Endpoint& endpoint, const TensorView& pixels,
                                    const EncodeOptions& options) {
  if (!impl_) return moved_from();
  if (Impl::pixels_need_tiling(pixels, options)) {
    return detail::tiled_encode(impl_->engine, endpoint, pixels, options);
  }
  return impl_->engine.encode_async(endpoint, pixels, options).get();
}

std::vector<Result<DecodeOutput>> Client::decode_batch(const Endpoint& endpoint,
                                                       const std::vector<TensorView>& latents,
                                                       const DecodeOptions& options,
                                                       const BatchOptions& batch) {
  if (!impl_) return std::vector<Result<DecodeOutput>>(latents.size(), moved_from());
  return run_batch<DecodeOutput>(
      latents.size(), impl_->engine.options().max_in_flight, batch, options.control,
      [&](std::size_t index, std::size_t limit) {
        return tiled_weight(decode_needs_tiling(latents[index], options),
                            options.tiling.max_in_flight, limit);
      },
      [&](std::size_t index, RequestControl control, std::size_t weight) {
        DecodeOptions one = options;
        one.control = std::move(control);
        one.tiling.max_in_flight = weight;
        return impl_->decode_async(endpoint, latents[index], one);
      });
}

std::vector<Result<EncodeOutput>> Client::encode_batch(const Endpoint& endpoint,
                                                       const std::vector<ImageView>& images,
                                                       const EncodeOptions& options,
                                                       const BatchOptions& batch) {
  if (!impl_) return std::vector<Result<EncodeOutput>>(images.size(), moved_from());
  return run_batch<EncodeOutput>(
      images.size(), impl_->engine.options().max_in_flight, batch, options.control,
      [&](std::size_t index, std::size_t limit) {
        return tiled_weight(encode_needs_tiling(images[index].width, images[index].height, options),
                            options.tiling.max_in_flight, limit);
      },
      [&](std::size_t index, RequestControl control, std::size_t weight) {
        EncodeOptions one = options;
        one.control = std::move(control);
        one.tiling.max_in_flight = weight;
        return impl_->encode_async(endpoint, images[index], one);
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

Result<WireProtocol> protocol_of(const Endpoint& endpoint) {
  RVAE_ASSIGN_OR_RETURN(const bool open_inference, detail::speaks_open_inference(endpoint));
  return open_inference ? WireProtocol::kOpenInference : WireProtocol::kHuggingFace;
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
