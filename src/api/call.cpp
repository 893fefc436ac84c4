#include "api/call.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "api/retry_schedule.hpp"
#include "core/try.hpp"
#include "protocol/protocol.hpp"
#include "transport/url.hpp"

namespace rvae::detail {

using transport::Clock;

namespace {

long long milliseconds(Clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

struct CallState {
  CallContext context;
  std::vector<std::string> urls;
  CallRoute route;
  std::size_t replica = 0;
  std::shared_ptr<const http::HttpRequest> request;
  RequestControl control;
  CancelToken token;
  CallDone done;
  CallInfo info;
  Clock::time_point deadline;
  Clock::time_point not_before;
  transport::Clock::duration queued{0};
  std::string url;
  // Set when the caller's log callback threw: the call then ends with this instead.
  std::optional<Error> callback_error;

  Clock::time_point now() const { return context.now(); }

  // The log callback runs on the network thread, under the transport's completion: what it
  // throws must not unwind there, so it becomes the call's error.
  void log(LogLevel level, const std::string& line) {
    if (!context.options->log || callback_error) return;
    try {
      context.options->log(level, line);
    } catch (const std::exception& error) {
      callback_error =
          Error(ErrorCode::kInternal, std::string("the log callback failed: ") + error.what());
    } catch (...) {
      callback_error = Error(ErrorCode::kInternal, "the log callback failed with an exception");
    }
  }
};

void attempt(const std::shared_ptr<CallState>& state);

void finish(const std::shared_ptr<CallState>& state, transport::TransferResult&& result) {
  state->info.finished = state->now();
  if (state->callback_error) {
    if (result.response) state->context.buffers->give(std::move(result.response->body));
    result.response = *state->callback_error;
  }
  result.timings.queue = std::chrono::duration_cast<std::chrono::microseconds>(state->queued);
  CallDone done = std::move(state->done);
  done(std::move(result), state->info);
}

void on_attempt_done(const std::shared_ptr<CallState>& state, transport::TransferResult&& result) {
  const Clock::time_point now = state->now();
  state->queued += result.timings.queue;
  bool retryable = false;
  std::optional<std::chrono::milliseconds> retry_after;
  std::string outcome;
  if (result.response) {
    const int status = result.response->status;
    retryable = is_retryable_status(status);
    if (const std::string* header = result.response->header("Retry-After")) {
      retry_after = parse_retry_after(*header, std::chrono::system_clock::now());
    }
    outcome = "HTTP " + std::to_string(status);
    const bool not_ready =
        state->route.replica_not_ready && state->route.replica_not_ready(*result.response);
    state->context.replicas->finish(
        state->url, retryable || not_ready ? Outcome::kRetryableFailure : Outcome::kSuccess, now);
    // A replica without the model: move on at once to one that may have it. With none left,
    // the status decides as for any reply (503 is retried after a backoff, 404 ends the call).
    const bool another =
        not_ready && std::any_of(state->urls.begin(), state->urls.end(), [&](const auto& url) {
          return !state->context.replicas->tripped(url, now);
        });
    if (another && !state->callback_error && now < state->deadline) {
      state->log(LogLevel::kWarning, "attempt " + std::to_string(state->info.attempts) + " " +
                                         state->info.endpoint + " -> " + outcome +
                                         ": the model is not ready there; trying another replica");
      state->context.buffers->give(std::move(result.response->body));
      state->not_before = now;
      attempt(state);
      return;
    }
  } else {
    const Error& error = result.response.error();
    retryable = error.retryable() && !state->token.cancelled();
    outcome = error.what();
    state->context.replicas->finish(
        state->url, retryable ? Outcome::kRetryableFailure : Outcome::kOtherFailure, now);
  }
  const std::string line = "attempt " + std::to_string(state->info.attempts) + " " +
                           state->info.endpoint + " -> " + outcome + " after " +
                           std::to_string(milliseconds(now - state->info.started)) + " ms";
  if (!retryable) {
    state->log(LogLevel::kDebug, line);
    finish(state, std::move(result));
    return;
  }
  if (state->route.retry_refused) {
    if (std::optional<std::string> reason = state->route.retry_refused()) {
      state->info.gave_up_why = std::move(*reason);
      state->log(LogLevel::kWarning, line + "; giving up: " + state->info.gave_up_why);
      finish(state, std::move(result));
      return;
    }
  }
  const RetryDecision decision =
      decide_retry(state->context.options->retry, state->info.attempts, true, retry_after, now,
                   state->deadline, state->context.random_bits());
  if (!decision.retry) {
    state->info.gave_up_why = decision.reason;
    state->log(LogLevel::kWarning, line + "; giving up: " + decision.reason);
    finish(state, std::move(result));
    return;
  }
  state->log(LogLevel::kWarning,
             line + "; retrying in " + std::to_string(decision.delay.count()) + " ms");
  if (state->callback_error) {
    finish(state, std::move(result));
    return;
  }
  // The failed reply's body is not kept: the next reply can be received into it.
  if (result.response) state->context.buffers->give(std::move(result.response->body));
  state->not_before = now + decision.delay;
  attempt(state);
}

void attempt(const std::shared_ptr<CallState>& state) {
  const std::size_t index = state->context.replicas->choose(state->urls, state->now());
  state->replica = index;
  state->url = state->urls[index];
  state->info.endpoint = transport::redact_url(state->url);
  ++state->info.attempts;
  const ClientOptions& options = *state->context.options;
  transport::TransferOptions limits;
  limits.deadline = state->deadline;
  limits.connect_timeout = options.connect_timeout;
  limits.attempt_timeout = options.attempt_timeout;
  limits.low_speed_bytes = options.low_speed_bytes;
  limits.low_speed_time = options.low_speed_time;
  limits.cancel = state->token;
  limits.on_progress = state->control.on_progress;
  limits.sink = state->route.sink;
  limits.send_token =
      state->context.token != nullptr &&
      token_goes_to(*state->context.token, state->url, options.allow_token_over_http)
          .value_or(false);
  const std::string& target =
      state->route.request_urls.empty() ? state->url : state->route.request_urls[index];
  state->context.transport->submit(
      protocol::compose_url(target, state->route.query), state->request, std::move(limits),
      state->not_before,
      [state](transport::TransferResult&& result) { on_attempt_done(state, std::move(result)); });
}

}  // namespace

void start_call(const CallContext& context, const std::vector<std::string>& urls, CallRoute route,
                std::shared_ptr<const http::HttpRequest> request, const RequestControl& control,
                CancelToken call_token, Clock::time_point started, CallDone done) {
  auto state = std::make_shared<CallState>();
  state->context = context;
  state->urls = urls;
  state->route = std::move(route);
  state->request = std::move(request);
  state->control = control;
  state->token = std::move(call_token);
  state->done = std::move(done);
  state->info.started = started;
  state->not_before = state->now();
  state->info.prepare = state->not_before - started;
  const std::chrono::milliseconds budget = control.deadline.value_or(context.options->deadline);
  state->deadline = budget.count() <= 0 ? state->info.started : state->info.started + budget;
  attempt(state);
}

Result<void> validate_endpoints(const std::vector<std::string>& urls) {
  if (urls.empty()) return Error(ErrorCode::kInvalidArgument, "no endpoint URL given");
  for (std::size_t i = 0; i < urls.size(); ++i) {
    if (Result<void> valid = protocol::validate_endpoint(urls[i]); !valid) {
      if (urls.size() == 1) return valid;
      return Error(ErrorCode::kInvalidArgument,
                   "replica " + std::to_string(i + 1) + ": " + valid.error().message());
    }
  }
  return {};
}

Result<void> check_token_destinations(const CallContext& context,
                                      const std::vector<std::string>& urls) {
  if (context.token == nullptr) return {};
  for (const std::string& url : urls) {
    RVAE_TRY(token_goes_to(*context.token, url, context.options->allow_token_over_http));
  }
  return {};
}

Error annotate_failure(Error error, const CallInfo& info) {
  if (info.attempts <= 1 && info.gave_up_why.empty()) return error;
  std::string message = error.message() + " (" + std::to_string(info.attempts) +
                        (info.attempts == 1 ? " attempt" : " attempts");
  if (!info.gave_up_why.empty()) message += "; not retried: " + info.gave_up_why;
  message += ")";
  Error annotated(error.code(), message);
  return std::move(annotated)
      .with_http_status(error.http_status())
      .with_server_message(error.server_message())
      .with_retryable(error.retryable());
}

RequestTimings make_timings(const transport::TransferTimings& transfer, const CallInfo& info,
                            transport::Clock::duration decode) {
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  RequestTimings timings;
  timings.prepare = duration_cast<microseconds>(info.prepare);
  timings.queue = transfer.queue;
  timings.connect = transfer.connect;
  timings.tls = transfer.tls;
  timings.upload = transfer.upload;
  timings.server_wait = transfer.server_wait;
  timings.download = transfer.download;
  timings.decode = duration_cast<microseconds>(decode);
  timings.total = duration_cast<microseconds>(info.finished - info.started + decode);
  timings.attempts = info.attempts;
  timings.bytes_sent = transfer.bytes_sent;
  timings.bytes_received = transfer.bytes_received;
  timings.endpoint = info.endpoint;
  timings.protocol = transfer.protocol;
  return timings;
}

}  // namespace rvae::detail
