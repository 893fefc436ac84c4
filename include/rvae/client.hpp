// The client: sends decode/encode requests to remote VAE endpoints over reused connections.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "rvae/error.hpp"
#include "rvae/image.hpp"
#include "rvae/options.hpp"
#include "rvae/tensor.hpp"

namespace rvae {

/// Severity of a log message.
enum class LogLevel { kDebug, kInfo, kWarning };

/// Receives diagnostics; the library never prints. Called from the thread doing the request.
/// Messages never contain tokens.
using LogCallback = std::function<void(LogLevel level, std::string_view message)>;

/// Settings of a Client; fixed for its lifetime.
struct ClientOptions {
  /// Time allowed to establish a connection (TCP and TLS).
  std::chrono::milliseconds connect_timeout{10'000};
  /// Time allowed for a whole request, upload to last byte of the reply.
  std::chrono::milliseconds request_timeout{300'000};
  /// Bearer token sent as `Authorization: Bearer <token>`; empty sends none.
  std::string token;
  /// Sent as User-Agent; empty means "rvae/<version>".
  std::string user_agent;
  /// Replies larger than this are refused (ResourceExhausted) instead of buffered.
  std::size_t max_reply_bytes = std::size_t{2} << 30;
  /// Images in replies with more pixels than this are refused.
  std::uint64_t max_reply_pixels = 8192ull * 8192ull;
  /// CA bundle file for TLS verification; empty uses the system's. Verification is always on.
  std::string ca_file;
  /// Optional diagnostics sink.
  LogCallback log;
};

/// A connection-reusing client. Thread-safe: any number of threads may call its methods at once;
/// each call uses its own connection from a pool that keeps connections alive between calls.
/// Not copyable; movable (a moved-from Client must not be used).
class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Decodes `latents` ([B,C,h,w] image, [B,L,4C] packed Flux, or [B,C,T,h,w] video latents;
  /// float16, bfloat16 or float32) at `endpoint`. The latents' bytes are sent from the caller's
  /// buffer without a copy. The reply is validated against the request (size, channels, dtype,
  /// frame count). Errors: InvalidArgument for bad input; the HTTP status's code for an error
  /// reply (with the server's message); DataLoss for a reply that does not match what it says
  /// or what was asked; DeadlineExceeded / Unavailable for network trouble.
  Result<DecodeOutput> decode(std::string_view endpoint, const TensorView& latents,
                              const DecodeOptions& options = {});

  /// Encodes an image (sent as PNG) at `endpoint`; returns the [1,C,H/8,W/8] latents.
  Result<Tensor> encode(std::string_view endpoint, const Image& image,
                        const EncodeOptions& options = {});
  /// Encodes a pixel tensor ([B,3,H,W] in [-1,1]) at `endpoint`; returns [B,C,H/8,W/8] latents.
  Result<Tensor> encode(std::string_view endpoint, const TensorView& pixels,
                        const EncodeOptions& options = {});

  const ClientOptions& options() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A process-wide Client with default options, created on first use.
Client& default_client();

/// default_client().decode(...)
Result<DecodeOutput> remote_decode(std::string_view endpoint, const TensorView& latents,
                                   const DecodeOptions& options = {});
/// default_client().encode(...) for an image.
Result<Tensor> remote_encode(std::string_view endpoint, const Image& image,
                             const EncodeOptions& options = {});
/// default_client().encode(...) for a pixel tensor.
Result<Tensor> remote_encode(std::string_view endpoint, const TensorView& pixels,
                             const EncodeOptions& options = {});

/// "0.1.0"
const char* version() noexcept;

}  // namespace rvae
