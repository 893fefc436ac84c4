// Splits one transfer leg into upload, server wait and download from the moments it passed.
#pragma once

#include <chrono>
#include <optional>

namespace rvae::transport {

/// Moments of one leg, each measured from the moment it started.
struct LegMarks {
  std::chrono::microseconds request_start{0};  ///< Connected (and TLS done); sending begins.
  /// The last request byte was written; unset when never seen (nothing to send, or it failed).
  std::optional<std::chrono::microseconds> upload_done;
  /// The first reply byte arrived; unset when no reply came.
  std::optional<std::chrono::microseconds> first_byte;
  std::chrono::microseconds end{0};  ///< The last reply byte arrived (or the leg failed).
};

struct LegPhases {
  std::chrono::microseconds upload{0};
  std::chrono::microseconds server_wait{0};
  std::chrono::microseconds download{0};
};

/// upload: request_start to upload_done; server_wait: from there to first_byte; download: from
/// there to end. A reply arriving before the upload finished ends the upload at it; marks out
/// of order are clamped so no phase is negative and the three never sum past `end`.
LegPhases split_phases(const LegMarks& marks);

}  // namespace rvae::transport
