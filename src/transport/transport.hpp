// The HTTP transport behind a small interface, so the layers above are testable without sockets.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <vector>

#include "core/buffer_pool.hpp"
#include "http/message.hpp"
#include "rvae/cancel.hpp"
#include "rvae/error.hpp"
#include "rvae/progress.hpp"

namespace rvae::transport {

using Clock = std::chrono::steady_clock;

/// What a transport is set up with, once.
struct TransportConfig {
  /// Sent as User-Agent on every request.
  std::string user_agent;
  /// Sent as `Authorization: Bearer <token>` to the request's own origin only; empty sends none.
  std::string token;
  /// Most transfers on the wire at once; further ones wait (at least 1).
  std::size_t max_in_flight = 64;
  /// A reply body larger than this is refused (ResourceExhausted) before it is buffered.
  std::size_t max_reply_bytes = std::size_t{2} << 30;
  /// CA bundle for TLS verification; empty uses the system's. Verification is always on.
  std::string ca_file;
  /// Where reply bodies are received into and handed back to; unset: a pool of the transport's
  /// own.
  std::shared_ptr<detail::BufferPool> buffers;
};

/// Lets a paused transfer go on; callable from any thread, any number of times, also after the
/// transfer ended (then it does nothing).
using Resume = std::function<void()>;

/// Where the body of a successful (2xx) reply goes as it arrives, instead of one buffer: for
/// replies too large to hold, and for consumers that start before the last byte. Other replies
/// (errors, redirects) are still buffered whole, for the protocol to read. Called on the
/// transport's thread, one call at a time; must not block. An Error returned ends the transfer
/// with it.
class ReplySink {
 public:
  enum class Flow {
    kTaken,  ///< The bytes were consumed.
    kPause,  ///< Nothing was consumed: pause the transfer; the same bytes come again after resume.
  };
  virtual ~ReplySink() = default;
  /// The final reply's status and headers, before its first body byte. `resume` lets a transfer
  /// paused by write() go on.
  virtual Result<void> begin(int status, const std::vector<http::Header>& headers,
                             Resume resume) = 0;
  /// The next `size` bytes of the body.
  virtual Result<Flow> write(const std::uint8_t* data, std::size_t size) = 0;
};

/// Limits and hooks of one transfer (one attempt).
struct TransferOptions {
  /// Ends the transfer with DeadlineExceeded; it never starts after this.
  Clock::time_point deadline = Clock::time_point::max();
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds attempt_timeout{300'000};
  std::uint32_t low_speed_bytes = 0;
  std::chrono::seconds low_speed_time{0};
  std::optional<CancelToken> cancel;
  /// Called on the transport's thread as bytes move (of the current leg). If it throws, the
  /// transfer ends with the exception turned into its error.
  ProgressCallback on_progress;
  /// Unset: a successful reply's body is buffered whole into HttpResponse::body.
  std::shared_ptr<ReplySink> sink;
  /// Whether TransportConfig::token goes with this transfer (to its own origin only): the layer
  /// above decides per destination which token may go where.
  bool send_token = true;
};

/// What a transfer measured. The phases are those of the last leg (after redirects): upload
/// ends when the last request byte is written, server_wait ends at the first reply byte.
struct TransferTimings {
  std::chrono::microseconds queue{0};
  std::chrono::microseconds connect{0};
  std::chrono::microseconds tls{0};
  std::chrono::microseconds upload{0};
  std::chrono::microseconds server_wait{0};
  std::chrono::microseconds download{0};
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::string protocol;  ///< "HTTP/1.1", "HTTP/2", ...; empty when no reply came.
};

struct TransferResult {
  /// The reply, or a transport-level Error (connect failure, timeout, reply too large, body cut
  /// short, a redirect that cannot be followed, Cancelled). HTTP error statuses are replies, not
  /// Errors: the protocol layer interprets them.
  Result<http::HttpResponse> response;
  TransferTimings timings;
};

using TransferDone = std::function<void(TransferResult&&)>;

/// Runs transfers. Implementations are thread-safe.
class Transport {
 public:
  virtual ~Transport() = default;

  /// Starts `request` to `url` no earlier than `not_before` (and once a slot
  /// under max_in_flight is free), then calls `done` exactly once, on the transport's own thread
  /// or, when it cannot start at all, on the caller's — also when the transport is destroyed
  /// first (with Cancelled). `done` must be quick and must not block; it may submit again. The
  /// request (and any body it borrows) must stay alive until `done`.
  virtual void submit(std::string url, std::shared_ptr<const http::HttpRequest> request,
                      TransferOptions options, Clock::time_point not_before, TransferDone done) = 0;

  /// submit() and wait: for callers that want one reply and nothing else.
  TransferResult send(std::string url, std::shared_ptr<const http::HttpRequest> request,
                      TransferOptions options = {});
};

/// The libcurl transport: one network thread, one multi handle (shared connection cache,
/// HTTP/2 multiplexing over TLS), at most config.max_in_flight transfers at once.
std::unique_ptr<Transport> make_curl_transport(TransportConfig config);

}  // namespace rvae::transport
