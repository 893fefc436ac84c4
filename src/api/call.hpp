// One call of the Client: attempts over replicas with retries, bounded by the call's deadline,
// driven by transfer completions on the transport's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/replica_tracker.hpp"
#include "api/token_policy.hpp"
#include "core/buffer_pool.hpp"
#include "http/message.hpp"
#include "rvae/cancel.hpp"
#include "rvae/client_options.hpp"
#include "rvae/options.hpp"
#include "transport/transport.hpp"

namespace rvae::detail {

/// The time source of calls: steady_clock in a Client, a fake one in tests.
using CallClock = std::function<transport::Clock::time_point()>;
/// Random bits for retry jitter: a PRNG in a Client, fixed values in tests.
using RandomBits = std::function<std::uint64_t()>;

/// What a call needs of its Client; the Client outlives every call it starts.
struct CallContext {
  const ClientOptions* options = nullptr;
  transport::Transport* transport = nullptr;
  ReplicaTracker* replicas = nullptr;
  BufferPool* buffers = nullptr;       ///< Where the bodies of refused replies go back to.
  const ScopedToken* token = nullptr;  ///< The client's token and where it may go.
  CallClock now;
  RandomBits random_bits;
};

/// How a call went, beside its last transfer's result.
struct CallInfo {
  int attempts = 0;
  transport::Clock::time_point started;   ///< When the caller asked, before the request was built.
  transport::Clock::duration prepare{0};  ///< Building the request.
  transport::Clock::time_point finished;
  std::string endpoint;     ///< The URL of the last attempt, redacted.
  std::string gave_up_why;  ///< Why no further attempt was made after a retryable failure.
};

using CallDone = std::function<void(transport::TransferResult&&, const CallInfo&)>;

/// Where one call's request goes, beside the replicas' health (kept per endpoint URL).
struct CallRoute {
  /// The query to append to the replica chosen ("" for none).
  std::string query;
  /// When not empty, the request goes to request_urls[i] for replica urls[i] instead (e.g. an
  /// Open Inference model's infer route), with `query` appended.
  std::vector<std::string> request_urls;
  /// A reply saying this replica cannot serve the model now (not loaded yet, e.g. Triton's 404
  /// "no available versions"): the replica is skipped for its cooldown and the call moves on at
  /// once to one that is not; only when none is left does the reply end the call.
  std::function<bool(const http::HttpResponse&)> replica_not_ready;
  /// Where every attempt's successful reply body goes instead of one buffer (see ReplySink; it
  /// starts over at each attempt's begin()).
  std::shared_ptr<transport::ReplySink> sink;
  /// When set and it gives a reason, a failed attempt is not retried (e.g. part of a streamed
  /// reply was handed out and must not be again); the reason joins the error's message.
  std::function<std::optional<std::string>()> retry_refused;
};

/// Sends `request` to one of `urls` per attempt, with `query` appended to the replica chosen,
/// retrying transient failures per options->retry until the call's deadline. `done` runs once, on
/// the transport's thread (or at once when the call cannot start). `call_token` cancels the call
/// (it follows control.cancel, set by the caller). `started` is when the caller asked (before the
/// request was built); the deadline counts from there. `urls` must have passed validate_endpoints.
void start_call(const CallContext& context, const std::vector<std::string>& urls, CallRoute route,
                std::shared_ptr<const http::HttpRequest> request, const RequestControl& control,
                CancelToken call_token, transport::Clock::time_point started, CallDone done);

/// InvalidArgument when the client's token would have to go over plain http to a host other
/// than loopback for one of `urls` (ClientOptions::allow_token_over_http unset).
Result<void> check_token_destinations(const CallContext& context,
                                      const std::vector<std::string>& urls);

/// InvalidArgument for an empty list or a URL that is not a usable endpoint (naming which
/// replica, when there are several).
Result<void> validate_endpoints(const std::vector<std::string>& urls);

/// Adds how many attempts were made (and why retrying stopped) to a final error.
Error annotate_failure(Error error, const CallInfo& info);

/// The public timings of a call: its last transfer's phases, plus queue and totals.
RequestTimings make_timings(const transport::TransferTimings& transfer, const CallInfo& info,
                            transport::Clock::duration decode);

}  // namespace rvae::detail
