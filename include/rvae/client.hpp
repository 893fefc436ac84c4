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
#include "rvae/client_options.hpp"
#include "rvae/endpoint_status.hpp"
#include "rvae/error.hpp"
#include "rvae/export.h"
#include "rvae/image.hpp"
#include "rvae/options.hpp"
#include "rvae/pending.hpp"
#include "rvae/tensor.hpp"

namespace rvae {

namespace detail {
struct ClientFactory;
}  // namespace detail

/// A connection-reusing client. One network thread drives every transfer over one libcurl multi
/// handle (HTTP/2 multiplexing where the server offers it); replies are parsed, and completion
/// callbacks run, on a few library worker threads (or on the calling thread in the blocking
/// forms), never on the network thread. Thread-safe: any number of threads may call any method
/// at once. Every call form (blocking, async, batch) honours the options' TilingOptions the same
/// way: an output past the endpoint's cap is decoded (or encoded) as tiles. Destroying the
/// Client cancels what is still running (its Pendings then give Cancelled, their callbacks
/// still run); do not destroy it inside one of its callbacks. Not copyable; movable: a
/// moved-from Client answers every call with InvalidArgument.
class RVAE_API Client {
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

  /// decode() without blocking. `latents` must stay alive until the result is taken (get(), or
  /// the callback given to then() has run) or the Pending is dropped. A tiled decode runs on a
  /// thread of its own.
  Pending<DecodeOutput> decode_async(const Endpoint& endpoint, const TensorView& latents,
                                     const DecodeOptions& options = {});
  /// encode() without blocking (the image is PNG-encoded before this returns).
  Pending<EncodeOutput> encode_async(const Endpoint& endpoint, ImageView image,
                                     const EncodeOptions& options = {});
  /// encode() of a tensor without blocking. `pixels` must stay alive until the result is ready
  /// or the Pending is dropped.
  Pending<EncodeOutput> encode_async(const Endpoint& endpoint, const TensorView& pixels,
                                     const EncodeOptions& options = {});

  /// Decodes many latents with at most batch.max_in_flight calls in flight (each tiled one if its
  /// options ask for tiling); results in input order, each its own Result (one failure does not
  /// stop the others). batch.cancel and options.control.cancel both cancel every call; an item
  /// the batch never started gives Cancelled. To read inputs on demand or use each result as it
  /// lands, run the calls on rvae/call_window.hpp instead.
  std::vector<Result<DecodeOutput>> decode_batch(const Endpoint& endpoint,
                                                 const std::vector<TensorView>& latents,
                                                 const DecodeOptions& options = {},
                                                 const BatchOptions& batch = {});
  /// Encodes many images the same way.
  std::vector<Result<EncodeOutput>> encode_batch(const Endpoint& endpoint,
                                                 const std::vector<ImageView>& images,
                                                 const EncodeOptions& options = {},
                                                 const BatchOptions& batch = {});

  /// The layout a decode of `latents` with `options` will be answered with (shape, dtype, bytes),
  /// before anything is sent, e.g. to allocate the memory DecodeOptions::stream.into points to.
  /// Over the Open Inference Protocol it reads the model's metadata (once per endpoint, within
  /// options.control's deadline); over the Hugging Face protocol it sends nothing. A tiled call's
  /// layout is that of its whole output. Errors: those of decode() before sending.
  Result<ReplyLayout> reply_layout(const Endpoint& endpoint, const TensorView& latents,
                                   const DecodeOptions& options = {});

  /// Asks each replica of an Open Inference endpoint whether its model is ready, and reads the
  /// model's metadata (one attempt each, within the deadline), for a service's health check or
  /// `rvae check`. InvalidArgument for a Hugging Face endpoint (it has no such route).
  Result<EndpointStatus> check(const Endpoint& endpoint, const RequestControl& control = {});

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
RVAE_API Client& default_client();

/// The protocol `endpoint` speaks: kHuggingFace or kOpenInference, as it says or as its URLs'
/// paths tell (Endpoint's WireProtocol::kAuto). InvalidArgument when its replicas disagree.
RVAE_API Result<WireProtocol> protocol_of(const Endpoint& endpoint);

/// default_client().decode(...)
RVAE_API Result<DecodeOutput> remote_decode(const Endpoint& endpoint, const TensorView& latents,
                                            const DecodeOptions& options = {});
/// default_client().encode(...) for an image.
RVAE_API Result<EncodeOutput> remote_encode(const Endpoint& endpoint, ImageView image,
                                            const EncodeOptions& options = {});
/// default_client().encode(...) for a pixel tensor.
RVAE_API Result<EncodeOutput> remote_encode(const Endpoint& endpoint, const TensorView& pixels,
                                            const EncodeOptions& options = {});

/// "0.1.0"
RVAE_API const char* version() noexcept;

}  // namespace rvae
