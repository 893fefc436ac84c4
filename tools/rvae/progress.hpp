// The progress of a batch on stderr: one bar redrawn in place on a terminal, fitted to its
// width (asked again at every redraw, so resizing the window is followed), with rate and ETA;
// plain lines, one per finished input, when stderr is not a terminal.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace rvae::cli {

/// Counts of a batch so far.
struct ProgressCounts {
  std::size_t total = 0;
  std::size_t succeeded = 0;
  std::size_t failed = 0;
  std::size_t in_flight = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  /// Frames written so far and in all, of the inputs whose frames stream to files (0 when none).
  std::int64_t frames_written = 0;
  std::int64_t frames_total = 0;
};

/// The bar's text for a terminal `columns` wide: never longer than columns - 1 (so the cursor
/// never wraps), dropping the less important parts first. With frames streaming, "frames 42/129"
/// follows the count, and a single input's bar fills by frames. Pure, for tests.
std::string progress_bar_text(const std::string& what, const ProgressCounts& counts,
                              double elapsed_seconds, int columns);

class ProgressDisplay {
 public:
  /// `enabled` false shows nothing (--quiet, --json with a terminal, or a single input that is
  /// not a video streaming to frames on a terminal).
  ProgressDisplay(std::FILE* stream, std::string what, bool enabled);
  /// Redraws (terminal, at most every 100 ms unless something finished) or prints a line for
  /// each newly finished input (otherwise).
  void update(const ProgressCounts& counts);
  /// Draws the final state and ends the bar's line.
  void finish(const ProgressCounts& counts);
  /// Clears the bar so a message can be printed on its own line; the next update redraws it.
  void clear();

 private:
  int columns() const;
  void draw(const ProgressCounts& counts);

  std::FILE* stream_;
  std::string what_;
  bool enabled_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
  std::size_t last_done_ = static_cast<std::size_t>(-1);
  bool drawn_ = false;
};

}  // namespace rvae::cli
