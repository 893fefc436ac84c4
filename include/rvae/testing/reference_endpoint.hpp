// rvae::testing — a real HTTP server that speaks the remote VAE wire protocols (Hugging Face's,
// PROTOCOL.md §2-§4, and the Open Inference Protocol, §8) and computes the deterministic
// stand-in VAE of PROTOCOL.md §6 and §9, with fault injection for tests of client behaviour.
// Binds 127.0.0.1 on a free port by default.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rvae/error.hpp"
#include "rvae/export.h"
#include "rvae/tensor.hpp"

namespace rvae::reference {

/// Which half of a VAE a route serves.
enum class EndpointRole { kDecode, kEncode };

/// Binds `POST /` and `POST /predict` to one model, as a real Inference Endpoint does.
struct RootBinding {
  std::string model;  ///< "sd15", "sdxl", "flux", "hunyuan-video", "wan2.1" or "qwen-image".
  EndpointRole role = EndpointRole::kDecode;
};

/// Settings of a ReferenceEndpoint; fixed once start() or run() is called.
struct ReferenceEndpointOptions {
  /// Address to bind. Keep the default loopback address in tests.
  std::string host = "127.0.0.1";
  /// TCP port; 0 picks any free port (read it back with port()).
  int port = 0;
  /// Optional model served at `POST /` and `POST /predict` (otherwise those answer 404).
  std::optional<RootBinding> root;
  /// Largest request body. One declaring a larger Content-Length is refused with HTTP 413 and a
  /// JSON error before it is read (with "Expect: 100-continue", before it is sent). Bytes are
  /// counted as they arrive, chunked or not: a body that outgrows the limit mid-upload ends the
  /// connection (no status can be sent mid-upload). Bodies with a Content-Encoding are refused
  /// with HTTP 415 (the service takes none; inflating one would defeat this limit).
  std::size_t max_body_bytes = std::size_t{256} << 20;
  /// Largest request line plus headers, in bytes (libmicrohttpd parses a request inside a
  /// per-connection memory pool of this size). Larger requests get HTTP 431 and are closed.
  std::size_t max_header_bytes = std::size_t{64} << 10;
  /// Connections open at once; further ones are accepted and closed at once. Each connection has
  /// its own thread, so idle or slow connections never hold up the others.
  int max_connections = 1024;
  /// Largest image side in pixels, for decode output and encode input (the service caps images
  /// at 2048x2048). Larger requests get HTTP 400.
  int max_image_side = 2048;
  /// PROTOCOL.md §7: the stand-in with spatial context (a blur of reach 4 latent pixels and a
  /// per-request mean subtraction), so tiled decode and encode show seams and colour drift as
  /// real VAEs do; video latents follow §7.1 (causal in time, the whole clip's mean), so temporal
  /// chunks show theirs. Off by default. Raise max_image_side (and max_frames) too to compute the
  /// whole reference.
  bool spatial_context = false;
  /// Largest number of output frames one decode request may produce (a video of T latent frames
  /// gives 4(T-1)+1), as a service that caps the GPU memory of one request would; larger requests
  /// get HTTP 400 like the size cap. 0: no cap. Lets temporal chunking be tested.
  int max_frames = 0;
  /// Largest reply the server will build (batches can multiply a small body into a huge
  /// reply); larger requests get HTTP 400.
  std::size_t max_reply_bytes = std::size_t{1} << 30;
  /// Inference requests computed at once; more wait their turn (counted in `inf_queue_size`).
  int worker_threads = 8;
  /// Open Inference Protocol: the datatype every model's input names in its metadata, and the
  /// only one it takes (another is refused with 400, as Triton does): kFloat16 (the default),
  /// kFloat32 or kBFloat16. set_input_datatype() changes it while the server runs.
  DType oip_input_datatype = DType::kFloat16;
  /// Open Inference Protocol: the decoders' output, kFloat32 (the default) or kFloat16
  /// ([B, 3, H, W] / [B, 3, F, H, W] in [-1, 1]), or kUInt8 (post-processed pixels
  /// [B, H, W, 3] / [B, F, H, W, 3], 0-255).
  DType oip_decoder_output_datatype = DType::kFloat32;
  /// Open Inference Protocol: the largest inference body in the JSON form (`data` arrays).
  /// Far below max_body_bytes: JSON costs many times the data it holds. A larger declared
  /// Content-Length gets 413 before the body is read.
  std::size_t max_json_body_bytes = std::size_t{64} << 20;
  /// Open Inference Protocol: the largest JSON header of a binary-form request (its
  /// Inference-Header-Content-Length); larger ones get 400.
  std::size_t max_json_header_bytes = std::size_t{1} << 20;
  /// How long a connection may stay silent, idle between requests or stalled mid-request, before
  /// it is closed (at least 1 s: libmicrohttpd counts whole seconds). stop() does not wait for
  /// idle connections.
  std::chrono::seconds keep_alive_timeout{1};
};

/// How the next successful inference replies are damaged (see set_reply_fault).
enum class ReplyFault {
  kNone,
  /// Declare the full Content-Length, send the first half of the body, then close.
  kTruncateBody,
  /// Reply with chunked transfer encoding, send half the body, then close without the
  /// terminating chunk.
  kCloseMidReply,
  /// Tensor replies: a `shape` header whose last dimension is one larger than the body's.
  kWrongShapeHeader,
  /// Tensor replies: a `dtype` header naming a dtype of a different element size
  /// (uint8 -> float16, float16/bfloat16 -> float32, float32 -> float16).
  kWrongDtypeHeader,
  /// Send the first half of the body, then block until release_stalled()/clear_faults() (then the
  /// rest is sent) or stop() (then the connection is closed). Never delays stop().
  kStallMidBody,
};

/// Counters since start.
struct EndpointStats {
  std::uint64_t total_requests = 0;               ///< Every request that reached routing.
  std::map<std::string, std::uint64_t> per_path;  ///< By URL path (without the query).
  std::uint64_t inference_requests = 0;           ///< POSTs to decode/encode/infer routes.
  std::uint64_t failed_by_injection = 0;          ///< Answered by fail_next().
  std::uint64_t faulted_replies = 0;              ///< Damaged by set_reply_fault().
};

/// The reference endpoint. Routes (PROTOCOL.md §2): `POST /<model>/decode/`, `POST
/// /<model>/encode/` (also without the trailing slash and with `/predict` appended), `POST /`
/// and `POST /predict` for the root binding, `GET /` and `GET /health` ("Ok"), `GET /metrics`.
/// Models: sd15, sdxl, flux, hunyuan-video (decode only), wan2.1, qwen-image (§9).
/// Open Inference Protocol (§8), on the same port: `GET /v2/health/ready` and `/v2/health/live`,
/// and for each model `m` (`<model>_decoder`, `<model>_encoder`), optionally followed by
/// `/versions/1`: `GET /v2/models/m` (metadata), `GET /v2/models/m/ready`,
/// `POST /v2/models/m/infer`.
///
/// Thread-safety: all methods may be called from any thread while the server runs; the fault
/// setters take effect for requests that arrive after they return. Not copyable or movable.
class RVAE_API ReferenceEndpoint {
 public:
  /// Configures the endpoint; nothing is bound until start() or run().
  explicit ReferenceEndpoint(ReferenceEndpointOptions options = {});
  /// Stops the server (see stop()).
  ~ReferenceEndpoint();
  ReferenceEndpoint(const ReferenceEndpoint&) = delete;
  ReferenceEndpoint& operator=(const ReferenceEndpoint&) = delete;

  /// Binds and serves from a background thread; returns once the server accepts connections.
  /// Errors: InvalidArgument for bad options (unknown root model, encode on a decode-only model,
  /// zero threads), Unavailable when the address cannot be bound, Internal when called twice.
  Result<void> start();
  /// Binds and serves on the calling thread until stop() is called from another thread.
  /// Same errors as start().
  Result<void> run();
  /// Stops accepting, releases stalled and delayed replies, and joins the serving threads.
  /// Idempotent; safe right after start(). The endpoint cannot be started again.
  void stop();

  /// The bound port (valid after a successful start(); during run() once bound); -1 before.
  int port() const noexcept;
  /// "http://<host>:<port><path>", e.g. url("/sdxl/decode/").
  std::string url(std::string_view path = "/") const;

  // ---- Fault injection (thread-safe).
  /// Waits this long before answering each inference request (0 disables). A waiting request
  /// counts in /metrics as `inf_queue_size`; clear_faults() and stop() end the wait early.
  void set_latency(std::chrono::milliseconds latency);
  /// Answers the next `count` inference requests (after any latency) with `status` and the
  /// JSON body {"error": message}, plus `Retry-After: <retry_after>` when retry_after is
  /// non-empty. Replaces an earlier fail_next() that has not run out.
  void fail_next(int count, int status, std::string retry_after = {},
                 std::string message = "Injected failure");
  /// Damages the next `count` successful inference replies (count < 0: every one until
  /// cleared). kNone clears it.
  void set_reply_fault(ReplyFault fault, int count = -1);
  /// Open Inference Protocol: marks a model (e.g. "sdxl_decoder") as loading, as a server that
  /// has not loaded it yet: its `/ready` answers 400, its metadata and infer routes 404
  /// ("Request for unknown model: 'm' has no available versions"). false makes it available.
  void set_model_loading(std::string_view model, bool loading);
  /// Open Inference Protocol: the input datatype every model names (and takes) from now on, as
  /// a reloaded model would; kFloat16, kFloat32 or kBFloat16 (InvalidArgument for kUInt8).
  Result<void> set_input_datatype(DType dtype);
  /// Lets every reply blocked by kStallMidBody finish.
  void release_stalled();
  /// Clears latency, pending failures, reply faults and loading models, and releases stalled
  /// replies and requests waiting out a latency.
  void clear_faults();
  /// Replies currently blocked by kStallMidBody.
  std::size_t stalled_replies() const;
  /// Waits until at least `count` replies are stalled; false when `timeout` passes first.
  bool wait_until_stalled(std::size_t count, std::chrono::milliseconds timeout) const;

  // ---- Counters (thread-safe).
  /// All counters at once.
  EndpointStats stats() const;
  /// Requests that reached routing.
  std::uint64_t total_requests() const;
  /// Requests whose URL path was exactly `path` (e.g. "/sdxl/decode/").
  std::uint64_t requests_for(std::string_view path) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rvae::reference
