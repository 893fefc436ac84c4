// Ctrl-C (SIGINT) and SIGTERM during a batch: the handler only records the signal; the batch
// loop sees it within one poll, cancels what is in flight, keeps what was written and reports.
// A second signal while the batch winds down ends the process at once (the default action).
#pragma once

namespace rvae::cli {

/// Installs the handlers for its lifetime and restores the previous ones after.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  /// The signal received (SIGINT or SIGTERM), or 0.
  static int received();
  /// The exit status for it: 128 + signal number, as shells report.
  static int exit_code() { return 128 + received(); }
};

}  // namespace rvae::cli
