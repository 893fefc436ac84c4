// One bounded window of calls: at most N in flight, the next started as each finishes, every
// result handed over on the calling thread as it lands. Client::decode_batch/encode_batch, tiled
// calls and the rvae CLI's batches all run on it; use it for a batch whose inputs are read on
// demand or whose results must be used as soon as they land.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "rvae/cancel.hpp"
#include "rvae/error.hpp"
#include "rvae/pending.hpp"

namespace rvae {

/// What a window does after a result or a tick.
enum class WindowStep {
  kGoOn,
  kStop,  ///< Start nothing more; cancel the calls in flight (their results still arrive).
};

/// The calls of one window, numbered 0..count-1 and started in that order.
template <typename T>
struct WindowJobs {
  std::size_t count = 0;
  /// Most requests in flight at once (at least 1), counting each call as `weight` requests.
  std::size_t limit = 1;
  /// Optional: how many requests call i may have in flight at once (a tiled call sends several;
  /// default 1). A call heavier than the room left waits until enough is free, and a call
  /// heavier than `limit` starts alone.
  std::function<std::size_t(std::size_t index)> weight;
  /// Starts call i, on the calling thread. Give `cancel` to the call (RequestControl::cancel, or
  /// a token that follows it): the window cancels it when it stops. An invalid Pending counts as
  /// a call that failed with InvalidArgument.
  std::function<Pending<T>(std::size_t index, const CancelToken& cancel)> start;
  /// Optional: false while call i must wait for results to be consumed first.
  std::function<bool(std::size_t index)> may_start;
  /// Takes call i's result, on the calling thread, in the order results land. Also called for
  /// the calls still in flight when the window stopped (typically with Cancelled).
  std::function<WindowStep(std::size_t index, Result<T> result)> finish;
  /// Optional: called on the calling thread about every `tick` while calls are in flight (for
  /// progress displays and for noticing a signal); kStop stops the window.
  std::chrono::milliseconds tick{0};
  std::function<WindowStep()> on_tick;
  /// Optional: stops the window when cancelled, and cancels its calls.
  std::optional<CancelToken> cancel;
};

/// How a window ended.
struct WindowSummary {
  std::size_t started = 0;   ///< Calls started; count - started were never started.
  std::size_t finished = 0;  ///< Results handed to finish (== started).
  bool stopped = false;      ///< A finish, a tick or the cancel token stopped it.
  bool stalled = false;      ///< Nothing in flight and may_start refused the next call.
};

/// Runs `jobs` and returns once every call it started has finished and been handed over. Waits
/// on the calls' completion callbacks (Pending::then), never polls. Not re-entrant from finish.
template <typename T>
WindowSummary run_window(const WindowJobs<T>& jobs) {
  struct Landed {
    std::mutex mutex;
    std::condition_variable arrived;
    std::deque<std::pair<std::size_t, Result<T>>> results;
  };
  auto landed = std::make_shared<Landed>();
  CancelToken stop;
  if (jobs.cancel) stop.follow(*jobs.cancel);
  const std::size_t limit = std::max<std::size_t>(1, jobs.limit);
  WindowSummary summary;
  std::size_t in_flight = 0;  // Calls.
  std::size_t load = 0;       // Requests they may have on the wire.
  std::vector<std::size_t> weights;
  auto weight_of = [&](std::size_t index) {
    return jobs.weight ? std::max<std::size_t>(1, jobs.weight(index)) : std::size_t{1};
  };
  auto fits = [&](std::size_t index) { return in_flight == 0 || load + weight_of(index) <= limit; };
  bool stopping = false;
  auto halt = [&] {
    if (stopping) return;
    stopping = true;
    summary.stopped = true;
    stop.cancel();
  };

  while (true) {
    if (stop.cancelled()) halt();
    while (!stopping && summary.started < jobs.count && fits(summary.started) &&
           (!jobs.may_start || jobs.may_start(summary.started))) {
      const std::size_t index = summary.started++;
      ++in_flight;
      weights.resize(index + 1);
      weights[index] = weight_of(index);
      load += weights[index];
      Pending<T> pending = jobs.start(index, stop);
      pending.then([landed, index](Result<T> result) {
        {
          std::lock_guard<std::mutex> lock(landed->mutex);
          landed->results.emplace_back(index, std::move(result));
        }
        landed->arrived.notify_one();
      });
    }
    if (in_flight == 0) {
      summary.stalled = !stopping && summary.started < jobs.count;
      break;
    }
    std::deque<std::pair<std::size_t, Result<T>>> ready;
    {
      std::unique_lock<std::mutex> lock(landed->mutex);
      const auto have = [&] { return !landed->results.empty(); };
      if (jobs.on_tick && jobs.tick.count() > 0) {
        landed->arrived.wait_for(lock, jobs.tick, have);
      } else {
        landed->arrived.wait(lock, have);
      }
      ready.swap(landed->results);
    }
    if (ready.empty() && jobs.on_tick && jobs.on_tick() == WindowStep::kStop) halt();
    for (auto& [index, result] : ready) {
      --in_flight;
      load -= weights[index];
      ++summary.finished;
      if (jobs.finish(index, std::move(result)) == WindowStep::kStop) halt();
    }
    if (!ready.empty() && jobs.on_tick && !stopping && jobs.on_tick() == WindowStep::kStop) halt();
  }
  return summary;
}

}  // namespace rvae
