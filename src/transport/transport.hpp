// The HTTP transport behind a small interface, so the layers above are testable without sockets.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "protocol/http_message.hpp"
#include "rvae/cancel.hpp"
#include "rvae/error.hpp"
#include "rvae/options.hpp"

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
  /// Called on the transport's thread as bytes move. If it throws, the transfer ends with the
  /// exception turned into its error.
  ProgressCallback on_progress;
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
  Result<protocol::HttpResponse> response;
  TransferTimings timings;
};

using TransferDone = std::function<void(TransferResult&&)>;

/// Runs transfers. Implementations are thread-safe.
class Transport {
 public:
  virtual ~Transport() = default;

  /// Starts `request` (its `url` must be set) no earlier than `not_before` (and once a slot
  /// under max_in_flight is free), then calls `done` exactly once, on the transport's own thread
  /// or, when it cannot start at all, on the caller's — also when the transport is destroyed
  /// first (with Cancelled). `done` must be quick and must not block; it may submit again. The
  /// request (and any body it borrows) must stay alive until `done`.
  virtual void submit(std::shared_ptr<const protocol::HttpRequest> request, TransferOptions options,
                      Clock::time_point not_before, TransferDone done) = 0;

  /// Hands back a reply body nobody kept, so a later reply can be received into it without a
  /// fresh allocation. The default drops it.
  virtual void recycle(Bytes&& buffer) { Bytes().swap(buffer); }

  /// A buffer for `expected` bytes: a recycled one when the transport keeps them (its pages
  /// are already mapped; its size and bytes as recycled, for a decoder that overwrites them),
  /// else a new empty one. For decoded pixels, which are not a reply body.
  virtual Bytes take_buffer(std::size_t expected) {
    (void)expected;
    return Bytes();
  }

  /// submit() and wait: for callers that want one reply and nothing else.
  TransferResult send(std::shared_ptr<const protocol::HttpRequest> request,
                      TransferOptions options = {});
};

/// The libcurl transport: one network thread, one multi handle (shared connection cache,
/// HTTP/2 multiplexing over TLS), at most config.max_in_flight transfers at once.
std::unique_ptr<Transport> make_curl_transport(TransportConfig config);

}  // namespace rvae::transport
