// Runs one request per input with at most `jobs` in flight, handing each result over as soon as
// it finishes (so its output is written then, not after the whole batch), and stops cleanly on
// Ctrl-C: requests in flight are cancelled, those that had already finished are still handed
// over, and the caller learns how many were never done.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <optional>

#include "interrupt.hpp"
#include "progress.hpp"
#include "rvae/client.hpp"

namespace rvae::cli {

struct BatchSummary {
  std::size_t total = 0;
  std::size_t succeeded = 0;  ///< Handed over and accepted by `finish`.
  std::size_t failed = 0;
  std::size_t not_done = 0;  ///< Never started, or cancelled by an interrupt.
  bool interrupted = false;
};

/// `start(i)` reads input i and starts its request (an rvae::Error thrown there fails that
/// input alone, handed to `finish`); `finish(i, result)` writes and reports input i's result on
/// this thread and returns whether it succeeded (a write may still fail).
template <typename T>
BatchSummary run_batch(std::size_t total, std::size_t jobs,
                       const std::function<Pending<T>(std::size_t)>& start,
                       const std::function<bool(std::size_t, Result<T>)>& finish,
                       ProgressDisplay& display) {
  struct InFlight {
    std::size_t index;
    Pending<T> pending;
  };
  InterruptGuard interrupt;
  BatchSummary summary;
  summary.total = total;
  ProgressCounts counts;
  counts.total = total;
  std::list<InFlight> in_flight;
  std::size_t next = 0;

  auto hand_over = [&](std::size_t index, Result<T> result) {
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
  };

  while ((next < total || !in_flight.empty()) && InterruptGuard::received() == 0) {
    while (in_flight.size() < jobs && next < total) {
      const std::size_t index = next++;
      try {
        in_flight.push_back({index, start(index)});
      } catch (const Error& error) {
        hand_over(index, error);
      }
    }
    bool any_finished = false;
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      if (it->pending.wait_for(std::chrono::milliseconds(0))) {
        const std::size_t index = it->index;
        Result<T> result = it->pending.get();
        it = in_flight.erase(it);
        hand_over(index, std::move(result));
        any_finished = true;
      } else {
        ++it;
      }
    }
    counts.in_flight = in_flight.size();
    display.update(counts);
    // Short waits, so an interrupt is seen within 20 ms.
    if (!any_finished && !in_flight.empty()) {
      (void)in_flight.front().pending.wait_for(std::chrono::milliseconds(20));
    }
  }

  if (InterruptGuard::received() != 0) {
    summary.interrupted = true;
    for (InFlight& each : in_flight)
      each.pending.cancel();
    for (InFlight& each : in_flight) {
      Result<T> result = each.pending.get();
      // What finished before the cancel still counts; a cancelled request was simply not done.
      if (!result && result.error().code() == ErrorCode::kCancelled) {
        ++summary.not_done;
      } else {
        hand_over(each.index, std::move(result));
      }
    }
    summary.not_done += total - next;
  }
  counts.in_flight = 0;
  display.finish(counts);
  return summary;
}

}  // namespace rvae::cli
