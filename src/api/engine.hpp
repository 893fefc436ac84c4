// The request engine: one wire request per call, over replicas, with retries, deadlines, the
// token and reused buffers. Protocol-agnostic above the protocol module it calls; it never calls
// up (tiling and batches are built on it, in the layers above).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "api/call.hpp"
#include "api/model_catalog.hpp"
#include "api/replica_tracker.hpp"
#include "api/reply_streamer.hpp"
#include "api/token_policy.hpp"
#include "api/worker_pool.hpp"
#include "core/buffer_pool.hpp"
#include "rvae/client_options.hpp"
#include "rvae/endpoint_status.hpp"
#include "rvae/image.hpp"
#include "rvae/options.hpp"
#include "rvae/pending.hpp"
#include "rvae/tensor.hpp"
#include "transport/transport.hpp"

namespace rvae::detail {

/// What an Engine is built over; each empty member gets the production default.
struct EngineSeams {
  std::unique_ptr<transport::Transport> transport;  ///< Default: the libcurl transport.
  CallClock now;                                    ///< Default: steady_clock.
  RandomBits random_bits;                           ///< Default: a per-thread PRNG.
  std::shared_ptr<BufferPool> buffers;              ///< Default: a pool of the engine's own.
};

class Engine {
 public:
  /// Starts the network thread and the workers; looks up the token once.
  Engine(ClientOptions options, EngineSeams seams);
  /// shutdown().
  ~Engine();
  /// Ends what still runs (as Cancelled), runs the callbacks left, and from then on ends every
  /// call at once as Cancelled (also those the callbacks start). Idempotent.
  void shutdown();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// One decode request (never tiled); see Client::decode_async.
  Pending<DecodeOutput> decode_async(const Endpoint& endpoint, const TensorView& latents,
                                     const DecodeOptions& options);
  /// One encode request of an image (PNG-encoded before this returns).
  Pending<EncodeOutput> encode_async(const Endpoint& endpoint, ImageView image,
                                     const EncodeOptions& options);
  /// One encode request of a pixel tensor.
  Pending<EncodeOutput> encode_async(const Endpoint& endpoint, const TensorView& pixels,
                                     const EncodeOptions& options);

  /// The layout a decode will be answered with (Client::reply_layout); never tiled.
  Result<ReplyLayout> reply_layout(const Endpoint& endpoint, const TensorView& latents,
                                   const DecodeOptions& options);

  /// Readiness and metadata of each replica of an Open Inference endpoint (Client::check).
  Result<EndpointStatus> check(const Endpoint& endpoint, const RequestControl& control);

  const ClientOptions& options() const noexcept { return options_; }
  /// Keeps a buffer of an earlier result for a later reply (Client::recycle).
  void recycle(Bytes&& buffer) { buffers_->give(std::move(buffer)); }
  /// The threads completion callbacks run on.
  const std::shared_ptr<WorkerPool>& workers() const noexcept { return workers_; }

  /// The Open Inference models' metadata this engine has read.
  ModelCatalog& catalog() noexcept { return catalog_; }
  /// Runs `start` with the context calls need, unless the engine is shutting down (then
  /// returns false and runs nothing). The context is valid only during `start`.
  bool start_if_open(const std::function<void(const CallContext&)>& start);

 private:
  template <typename T, typename Built>
  Pending<T> launch(
      transport::Clock::time_point started, const Endpoint& endpoint, Result<Built>&& built,
      const RequestControl& control,
      typename std::function<Result<T>(transport::TransferResult&&, const CallInfo&)> finisher,
      CallRoute route = {}, const std::function<void(const CancelToken&)>& on_token = {});
  template <typename Input>
  Pending<EncodeOutput> encode(const Endpoint& endpoint, const Input& input,
                               const EncodeOptions& options);
  /// What refuses a call before anything is sent: bad URLs, a token that cannot go (malformed,
  /// or in clear to another machine).
  std::optional<Error> check_call(const Endpoint& endpoint) const;
  CallContext call_context();

  // Over the Open Inference Protocol (open_inference_calls.cpp).
  template <typename T, typename Plan>
  Pending<T> start_open_inference(
      transport::Clock::time_point started, const Endpoint& endpoint, const RequestControl& control,
      std::function<Result<Plan>(const protocol::oip::ModelMetadata&,
                                 const protocol::oip::TensorChoice&)>
          planner,
      std::function<Result<T>(http::HttpResponse&&, Bytes&&, const Plan&)> finisher,
      std::optional<Error> refused, std::shared_ptr<ReplyStreamer> streamer = nullptr);
  Pending<DecodeOutput> decode_open_inference(transport::Clock::time_point started,
                                              const Endpoint& endpoint, const TensorView& latents,
                                              const DecodeOptions& options);
  Result<ReplyLayout> open_inference_layout(const Endpoint& endpoint, const TensorView& latents,
                                            const DecodeOptions& options);
  template <typename Input>
  Pending<EncodeOutput> encode_open_inference(transport::Clock::time_point started,
                                              const Endpoint& endpoint, const Input& input,
                                              const EncodeOptions& options);

  ClientOptions options_;
  ScopedToken token_;
  ReplicaTracker replicas_;
  CallClock now_;
  RandomBits random_bits_;
  std::shared_ptr<BufferPool> buffers_;
  // Latents de-normalised here for the Open Inference Protocol, kept apart from the replies'
  // buffers (a small request must not take a large reply's buffer).
  std::shared_ptr<BufferPool> latent_buffers_;
  std::shared_ptr<WorkerPool> workers_;
  std::unique_ptr<transport::Transport> transport_;
  ModelCatalog catalog_;
  std::mutex closing_mutex_;  // Guards closed_ against calls started while the engine ends.
  bool closed_ = false;
};

}  // namespace rvae::detail
