// Runs the requests of one tiled call through Client's public async API: a bounded window in
// flight, results handled on the calling thread as they arrive, one deadline and one cancel
// for the whole call, the first failure ending it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rvae/cancel.hpp"
#include "rvae/client.hpp"
#include "rvae/error.hpp"
#include "rvae/options.hpp"
#include "rvae/tiling.hpp"

namespace rvae::detail {

/// Sums of the requests of a tiled call, for its RequestTimings.
struct TileTotals {
  int attempts = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::string endpoint;
  std::string protocol;

  /// Writes these sums, and the time since `started`, into a tiled result's timings.
  void write_to(RequestTimings& timings, std::chrono::steady_clock::time_point started) const {
    timings.attempts = attempts;
    timings.bytes_sent = bytes_sent;
    timings.bytes_received = bytes_received;
    timings.endpoint = endpoint;
    timings.protocol = protocol;
    timings.total = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
  }
};

/// The error of request `what` of a tiled call, keeping its code, status and server message.
inline Error tile_error(const Error& error, const std::string& what) {
  return Error(error.code(), what + ": " + error.message())
      .with_http_status(error.http_status())
      .with_server_message(error.server_message())
      .with_retryable(error.retryable());
}

/// One tiled call's requests, numbered 0..count-1 and sent in that order.
template <typename T>
struct TileJobs {
  std::size_t count = 0;
  /// Starts request i with `control` (the call's cancel token and remaining deadline).
  std::function<Result<Pending<T>>(std::size_t, const RequestControl&)> start;
  /// Takes request i's result; an error ends the call.
  std::function<Result<void>(std::size_t, T&&)> accept;
  /// False while request i must wait (memory held by earlier replies); nullptr: never waits.
  std::function<bool(std::size_t)> may_start;
  /// "tile (r, c) of R x C" for error messages.
  std::function<std::string(std::size_t)> describe;
  /// Optional: called once, when every request has been sent, for work best done while they are
  /// computed; an error ends the call.
  std::function<Result<void>()> all_sent;
};

// Why polling: Pending offers wait_for but no completion callback in the public API. Waiting a
// couple of milliseconds on the oldest request and then sweeping the others costs nothing next
// to a request's duration.
constexpr std::chrono::milliseconds kTilePollInterval{2};

/// Runs `jobs`; `window` requests at most in flight. Returns the first error (after waiting for
/// the requests already sent, which are cancelled, so no buffer they borrow is freed early).
template <typename T>
Result<void> run_tiles(Client& client, const RequestControl& control, std::size_t window,
                       const TileProgressCallback& on_progress, TileJobs<T>& jobs,
                       TileTotals& totals) {
  using Clock = std::chrono::steady_clock;
  const auto deadline_at = Clock::now() + control.deadline.value_or(client.options().deadline);
  CancelToken inner;
  std::optional<std::uint64_t> chained;
  std::optional<CancelToken> user = control.cancel;  // a copy shares the caller's flag
  if (user) chained = user->add_callback([inner]() mutable { inner.cancel(); });
  struct InFlight {
    std::size_t index;
    Pending<T> pending;
  };
  std::vector<InFlight> flying;
  std::optional<Error> failure;
  TileProgress progress;
  progress.total = jobs.count;
  std::size_t next = 0;
  window = std::max<std::size_t>(1, std::min(window, client.options().max_in_flight));

  while (!failure && progress.finished < jobs.count) {
    while (!failure && next < jobs.count && flying.size() < window &&
           (!jobs.may_start || jobs.may_start(next))) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline_at - Clock::now());
      if (left.count() <= 0) {
        failure = Error(ErrorCode::kDeadlineExceeded, "the tiled call's deadline passed before " +
                                                          jobs.describe(next) + " could be sent")
                      .with_retryable(true);
        break;
      }
      RequestControl one;
      one.cancel = inner;
      one.deadline = left;
      Result<Pending<T>> started = jobs.start(next, one);
      if (!started) {
        failure = tile_error(started.error(), jobs.describe(next));
        break;
      }
      flying.push_back({next, std::move(started).value()});
      ++next;
      if (next == jobs.count && jobs.all_sent) {
        Result<void> done = jobs.all_sent();
        if (!done) failure = std::move(done).error();
      }
    }
    if (failure) break;
    if (user && user->cancelled()) {
      failure = Error(ErrorCode::kCancelled, "the tiled call was cancelled");
      break;
    }
    if (flying.empty()) {
      failure = Error(ErrorCode::kInternal, "tiled call stalled: nothing in flight and " +
                                                jobs.describe(next) + " may not start");
      break;
    }
    progress.in_flight = flying.size();
    flying.front().pending.wait_for(kTilePollInterval);
    for (std::size_t i = 0; i < flying.size() && !failure;) {
      if (!flying[i].pending.wait_for(std::chrono::nanoseconds(0))) {
        ++i;
        continue;
      }
      const std::size_t index = flying[i].index;
      Result<T> result = flying[i].pending.get();
      flying.erase(flying.begin() + static_cast<std::ptrdiff_t>(i));
      if (!result) {
        failure = tile_error(result.error(), jobs.describe(index));
        break;
      }
      totals.attempts += result->timings.attempts;
      totals.bytes_sent += result->timings.bytes_sent;
      totals.bytes_received += result->timings.bytes_received;
      totals.endpoint = result->timings.endpoint;
      totals.protocol = result->timings.protocol;
      Result<void> accepted = jobs.accept(index, std::move(result).value());
      if (!accepted) {
        failure = tile_error(accepted.error(), jobs.describe(index));
        break;
      }
      ++progress.finished;
      progress.in_flight = flying.size();
      if (on_progress) on_progress(progress);
    }
  }
  if (failure) {
    // The requests still out borrow the tiles' latents: stop them and wait before returning.
    inner.cancel();
    for (InFlight& f : flying)
      f.pending.wait();
  }
  if (chained) user->remove_callback(*chained);
  if (failure) {
    if (user && user->cancelled() && failure->code() == ErrorCode::kCancelled) {
      return Error(ErrorCode::kCancelled, "the tiled call was cancelled");
    }
    return std::move(*failure);
  }
  return {};
}

}  // namespace rvae::detail
