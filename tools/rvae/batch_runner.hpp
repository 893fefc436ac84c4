// Runs one request per input with at most `jobs` in flight, handing each result over as soon as
// it finishes (so its output is written then, not after the whole batch), and stops cleanly on
// Ctrl-C: requests in flight are cancelled, those that had already finished are still handed
// over, and the caller learns how many were never done.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>

#include "interrupt.hpp"
#include "progress.hpp"
#include "rvae/call_window.hpp"
#include "rvae/client.hpp"

namespace rvae::cli {

struct BatchSummary {
  std::size_t total = 0;
  std::size_t succeeded = 0;  ///< Handed over and accepted by `finish`.
  std::size_t failed = 0;
  std::size_t not_done = 0;  ///< Never started, or cancelled by an interrupt.
  bool interrupted = false;
};

/// `start(i, cancel)` reads input i and starts its request with `cancel` as its cancel token
/// (an rvae::Error thrown there fails that input alone, handed to `finish`); `finish(i, result)`
/// writes and reports input i's result on this thread and returns whether it succeeded (a write
/// may still fail). Runs on the library's call window: each result is handed over as it lands.
/// `sample`, when given, adds what only the caller can count (frames written) to the counts
/// before each redraw.
template <typename T>
BatchSummary run_batch(std::size_t total, std::size_t jobs,
                       const std::function<Pending<T>(std::size_t, const CancelToken&)>& start,
                       const std::function<bool(std::size_t, Result<T>)>& finish,
                       ProgressDisplay& display,
                       const std::function<void(ProgressCounts&)>& sample = {}) {
  InterruptGuard interrupt;
  BatchSummary summary;
  summary.total = total;
  ProgressCounts counts;
  counts.total = total;

  WindowJobs<T> window;
  window.count = total;
  window.limit = jobs;
  window.start = [&](std::size_t index, const CancelToken& cancel) {
    ++counts.in_flight;
    try {
      return start(index, cancel);
    } catch (const Error& error) {
      return make_ready_pending<T>(error);
    }
  };
  window.finish = [&](std::size_t index, Result<T> result) {
    --counts.in_flight;
    // After an interrupt, a cancelled request was simply not done; what finished still counts.
    if (InterruptGuard::received() != 0 && !result &&
        result.error().code() == ErrorCode::kCancelled) {
      ++summary.not_done;
      return WindowStep::kGoOn;
    }
    if (result) {
      counts.bytes_sent += result->timings.bytes_sent;
      counts.bytes_received += result->timings.bytes_received;
    }
    display.clear();
    if (finish(index, std::move(result))) {
      ++summary.succeeded;
    } else {
      ++summary.failed;
    }
    counts.succeeded = summary.succeeded;
    counts.failed = summary.failed;
    if (sample) sample(counts);
    display.update(counts);
    return InterruptGuard::received() != 0 ? WindowStep::kStop : WindowStep::kGoOn;
  };
  // The signal handler only records the signal: the tick notices it within 20 ms (and keeps the
  // progress display moving); results themselves arrive through the window's callbacks.
  window.tick = std::chrono::milliseconds(20);
  window.on_tick = [&] {
    if (sample) sample(counts);
    display.update(counts);
    return InterruptGuard::received() != 0 ? WindowStep::kStop : WindowStep::kGoOn;
  };
  const WindowSummary ran = run_window(window);

  if (InterruptGuard::received() != 0) {
    summary.interrupted = true;
    summary.not_done += total - ran.started;
  }
  counts.in_flight = 0;
  if (sample) sample(counts);
  display.finish(counts);
  return summary;
}

}  // namespace rvae::cli
