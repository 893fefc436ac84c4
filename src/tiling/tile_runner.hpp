// Runs the requests of one tiled call through the engine's async interface on the one call
// window (rvae/call_window.hpp): results merged on the calling thread as they land, one deadline
// and one cancel for the whole call, the first failure ending it.
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

#include "api/engine.hpp"
#include "rvae/call_window.hpp"
#include "rvae/cancel.hpp"
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

/// Runs `jobs`; `window` requests at most in flight. Returns the first error (after the requests
/// already sent were cancelled and have ended, so no buffer they borrow is freed early).
template <typename T>
Result<void> run_tiles(Engine& engine, const RequestControl& control, std::size_t window,
                       const TileProgressCallback& on_progress, TileJobs<T>& jobs,
                       TileTotals& totals) {
  using Clock = std::chrono::steady_clock;
  const auto deadline_at = Clock::now() + control.deadline.value_or(engine.options().deadline);
  std::optional<Error> failure;
  TileProgress progress;
  progress.total = jobs.count;
  std::size_t in_flight = 0;
  auto fail = [&](Error error) {
    if (!failure) failure = std::move(error);
    return WindowStep::kStop;
  };

  WindowJobs<T> run;
  run.count = jobs.count;
  run.limit = std::max<std::size_t>(1, std::min(window, engine.options().max_in_flight));
  run.cancel = control.cancel;
  run.may_start = jobs.may_start;
  run.start = [&](std::size_t index, const CancelToken& cancel) -> Pending<T> {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_at - Clock::now());
    RequestControl one;
    one.cancel = cancel;
    // A call whose deadline passed still goes through the engine, which ends it at once.
    one.deadline = std::max(left, std::chrono::milliseconds(0));
    Result<Pending<T>> started = jobs.start(index, one);
    Pending<T> pending =
        started ? std::move(started).value() : make_ready_pending<T>(std::move(started).error());
    ++in_flight;
    if (index + 1 == jobs.count && jobs.all_sent) {
      if (Result<void> done = jobs.all_sent(); !done) {
        fail(std::move(done).error());  // The window stops at the next result.
      }
    }
    return pending;
  };
  run.finish = [&](std::size_t index, Result<T> result) -> WindowStep {
    --in_flight;
    if (failure) return WindowStep::kStop;
    if (!result) return fail(tile_error(result.error(), jobs.describe(index)));
    totals.attempts += result->timings.attempts;
    totals.bytes_sent += result->timings.bytes_sent;
    totals.bytes_received += result->timings.bytes_received;
    totals.endpoint = result->timings.endpoint;
    totals.protocol = result->timings.protocol;
    Result<void> accepted = jobs.accept(index, std::move(result).value());
    if (!accepted) return fail(tile_error(accepted.error(), jobs.describe(index)));
    ++progress.finished;
    progress.in_flight = in_flight;
    if (on_progress) on_progress(progress);
    return WindowStep::kGoOn;
  };
  const WindowSummary summary = run_window(run);
  if (control.cancel && control.cancel->cancelled()) {
    return Error(ErrorCode::kCancelled, "the tiled call was cancelled");
  }
  if (failure) return std::move(*failure);
  if (summary.stalled) {
    return Error(ErrorCode::kInternal, "tiled call stalled: nothing in flight and " +
                                           jobs.describe(summary.started) + " may not start");
  }
  return {};
}

}  // namespace rvae::detail
