// What the decode and encode commands share for many inputs: input expansion, output naming,
// the progress display and per-request timing lines.
#pragma once

#include <cstdio>
#include <iostream>
#include <optional>
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

/// Inputs of one batch command: which were read, and why the others could not be.
struct BatchInputs {
  std::vector<std::string> files;
  std::vector<std::size_t> sent;                  ///< Indices into files, in request order.
  std::vector<std::optional<Error>> read_errors;  ///< Per file.
};

/// Writes each result with `write(input, output) -> "wrote ..." line`, reports failures one line
/// each on stderr (in single mode the first error is thrown instead, for main() to report), and
/// returns the exit code: 0 when every input succeeded, else 1.
template <typename Output, typename Write>
int finish_batch(const char* command, bool many, bool verbose, const BatchInputs& inputs,
                 std::vector<Result<Output>>& results, Write write) {
  std::size_t failures = 0;
  auto fail = [&](const std::string& input, const Error& error) {
    if (!many) throw error;
    std::cerr << "rvae " << command << ": " << input << ": " << error.what() << "\n";
    ++failures;
  };
  for (std::size_t k = 0; k < results.size(); ++k) {
    const std::string& input = inputs.files[inputs.sent[k]];
    if (!results[k]) {
      fail(input, results[k].error());
      continue;
    }
    std::string line;
    try {
      line = write(input, *results[k]);
    } catch (const Error& error) {
      fail(input, error);
      continue;
    }
    if (verbose) std::cout << timing_line(input, results[k]->timings) << "\n";
    std::cout << line << "\n";
  }
  for (std::size_t i = 0; i < inputs.files.size(); ++i) {
    if (inputs.read_errors[i]) fail(inputs.files[i], *inputs.read_errors[i]);
  }
  if (failures == 0) return 0;
  std::cerr << "rvae " << command << ": " << failures << " of " << inputs.files.size()
            << " inputs failed\n";
  return 1;
}

}  // namespace rvae::cli
