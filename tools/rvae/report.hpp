// What decode and encode say about each input: "wrote ..." lines (text), one JSON object per
// input on stdout (--json, nothing else goes there), or nothing but errors (--quiet); failures
// on stderr, one line each; the batch's closing summary.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "batch_runner.hpp"
#include "rvae/client.hpp"

namespace rvae::cli {

/// One input's outcome.
struct InputReport {
  std::string input;
  std::string output;  ///< Path written ("-" for standard output); empty when nothing was.
  std::string model;
  std::string endpoint;
  Shape shape;              ///< Of what was written (latents for encode, pixels for decode).
  std::string dtype;        ///< Of what was written, when it is a tensor.
  std::uint64_t bytes = 0;  ///< Bytes written.
  /// Decode to frames: how many frame files were written (also when the call failed).
  std::optional<std::int64_t> frames_written;
  /// Decode to frames: from the reply's first byte to the first frame's file written.
  std::optional<double> first_frame_ms;
  std::optional<RequestTimings> timings;
  std::optional<Error> error;
};

enum class ReportStyle { kText, kJson, kQuiet };

/// "Code: message (HTTP n): server said: ..." without saying the status twice.
std::string describe(const Error& error);

/// The JSON object for one input, on one line.
std::string report_json(const InputReport& report);

class Reporter {
 public:
  /// `many`: a batch (errors name their input); otherwise a single input, whose error line is
  /// "rvae <command>: <error>".
  Reporter(std::string command, ReportStyle style, bool verbose, bool many);
  /// Prints the input's line(s).
  void report(const InputReport& report) const;
  /// The batch's last words on stderr, and the exit code: 0 all written, 1 some failed, 128+N
  /// when interrupted by signal N.
  int conclude(const BatchSummary& summary, std::size_t read_failures = 0) const;

 private:
  std::string command_;
  ReportStyle style_;
  bool verbose_;
  bool many_;
};

/// "a.npy: 1 attempt to URL (HTTP/1.1), prepare 0.1 ms, ..., 24 B sent, 130 B received"
std::string timing_line(const std::string& name, const RequestTimings& timings);

}  // namespace rvae::cli
