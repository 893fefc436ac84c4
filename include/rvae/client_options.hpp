// Settings of a Client and of its batches, and the endpoints it calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rvae/cancel.hpp"
#include "rvae/export.h"
#include "rvae/retry.hpp"

namespace rvae {

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
  /// Most requests this client has on the wire at once, whatever asked for them (calls,
  /// batches, tiles); further requests queue in the order they were asked for (their queue time
  /// is reported in RequestTimings). Batch and tiling limits may only lower it.
  std::size_t max_in_flight = 64;
  /// Bearer token sent as `Authorization: Bearer <token>`. When empty and
  /// `token_from_environment` is true: HF_TOKEN, else the file at $HF_TOKEN_PATH, else
  /// $HF_HOME/token, else ~/.cache/huggingface/token (%USERPROFILE%\.cache\huggingface\token on
  /// Windows). Never sent to another host after a redirect; never in an error message or a log
  /// line.
  std::string token;
  bool token_from_environment = true;
  /// A token (given or found) is never sent over plain http to a host other than loopback
  /// unless this is set: such a call fails with InvalidArgument before anything is sent.
  bool allow_token_over_http = false;
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

/// The wire protocol an endpoint speaks.
enum class WireProtocol {
  /// From the URL: a path ending in `/v2/models/{name}` or `/v2/models/{name}/versions/{v}`
  /// (a trailing slash tolerated) is the Open Inference Protocol, anything else Hugging Face's.
  kAuto,
  kHuggingFace,    ///< Hugging Face's hybrid-inference endpoints (PROTOCOL.md §1-5).
  kOpenInference,  ///< KServe v2 / Triton / OpenVINO Model Server / Seldon (PROTOCOL.md §8).
};

/// One model's endpoint: one URL, or several replicas of it (which share its protocol). Each
/// call goes to the replica with the fewest requests in flight among those not recently failing.
/// Converts implicitly from a URL string.
class Endpoint {
 public:
  Endpoint(const char* url) : urls_{std::string(url)} {}               // NOLINT
  Endpoint(std::string url) : urls_{std::move(url)} {}                 // NOLINT
  Endpoint(std::string_view url) : urls_{std::string(url)} {}          // NOLINT
  Endpoint(std::vector<std::string> urls) : urls_(std::move(urls)) {}  // NOLINT
  Endpoint(std::initializer_list<std::string> urls) : urls_(urls) {}   // NOLINT

  const std::vector<std::string>& urls() const noexcept { return urls_; }

  /// Says which protocol the URLs speak instead of guessing it from their path.
  Endpoint& with_protocol(WireProtocol protocol) {
    protocol_ = protocol;
    return *this;
  }
  WireProtocol protocol() const noexcept { return protocol_; }

  /// Open Inference Protocol: the model's input and output tensor to use. Empty (the default)
  /// takes the model's only input and only output, from its metadata.
  Endpoint& with_tensor_names(std::string input, std::string output) {
    input_name_ = std::move(input);
    output_name_ = std::move(output);
    return *this;
  }
  const std::string& input_name() const noexcept { return input_name_; }
  const std::string& output_name() const noexcept { return output_name_; }

 private:
  std::vector<std::string> urls_;
  WireProtocol protocol_ = WireProtocol::kAuto;
  std::string input_name_;
  std::string output_name_;
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
  /// Most calls of this batch in flight at once (also bounded by ClientOptions::max_in_flight).
  std::size_t max_in_flight = 8;
  /// Cancels every call of the batch not yet finished, as each call's own token
  /// (RequestControl::cancel) does too.
  std::optional<CancelToken> cancel;
  /// Called on the batch's calling thread after each request finishes and as bytes move
  /// (at most every 100 ms).
  std::function<void(const BatchProgress&)> on_progress;
};

}  // namespace rvae
