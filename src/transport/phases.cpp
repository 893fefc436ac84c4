#include "transport/phases.hpp"

#include <algorithm>

namespace rvae::transport {

LegPhases split_phases(const LegMarks& marks) {
  using std::chrono::microseconds;
  const microseconds end = std::max(marks.end, microseconds(0));
  const microseconds start = std::clamp(marks.request_start, microseconds(0), end);
  const microseconds first_byte = std::clamp(marks.first_byte.value_or(end), start, end);
  const microseconds upload_done = std::clamp(marks.upload_done.value_or(start), start, first_byte);
  LegPhases phases;
  phases.upload = upload_done - start;
  if (marks.first_byte) {
    phases.server_wait = first_byte - upload_done;
    phases.download = end - first_byte;
  } else {
    phases.server_wait = end - upload_done;
  }
  return phases;
}

}  // namespace rvae::transport
