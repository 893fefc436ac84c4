// What the decode and encode commands share for many inputs: input expansion, output naming,
// the progress display and per-request timing lines.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "rvae/client.hpp"

namespace rvae::cli {

/// Files named on the command line, with each directory replaced by its files whose extension is
/// one of `extensions` (sorted by name). UsageError when nothing remains.
std::vector<std::string> expand_inputs(const std::vector<std::string>& arguments,
                                       const std::vector<std::string>& extensions);

/// The file name without directory and extension ("dir/a.npy" -> "a").
std::string stem_of(const std::string& path);

/// Draws a progress bar on a terminal (redrawn in place) or prints plain lines otherwise.
class ProgressDisplay {
 public:
  ProgressDisplay(std::FILE* stream, std::string what);
  void update(const BatchProgress& progress);
  /// Ends the bar's line (terminal mode).
  void finish();

 private:
  std::FILE* stream_;
  std::string what_;
  bool terminal_;
  std::size_t last_done_ = static_cast<std::size_t>(-1);
  bool drew_ = false;
};

/// "a.npy: 1 attempt, queue 0.0 ms, connect 0.2 ms, ... total 23.1 ms, 24 KiB sent, ..."
std::string timing_line(const std::string& name, const RequestTimings& timings);

}  // namespace rvae::cli
