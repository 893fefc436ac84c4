// Ctrl-C (SIGINT) and SIGTERM during a batch (on Windows: Ctrl-C and Ctrl-Break, through
// SetConsoleCtrlHandler): the handler only records it; the batch loop sees it within one poll,
// cancels what is in flight, keeps what was written and reports. A second one while the batch
// winds down ends the process at once (the default action).
// interrupt_posix.cpp and interrupt_win32.cpp hold the system calls.
#pragma once

namespace rvae::cli {

/// Installs the handlers for its lifetime and restores the previous ones after.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  /// The signal received (SIGINT or SIGTERM; SIGINT for either console event on Windows), or 0.
  static int received();
  /// The exit status for it: 128 + signal number, as shells report.
  static int exit_code() { return 128 + received(); }
};

/// For a server: the requests to stop (SIGINT, SIGTERM; the console events on Windows) taken
/// from its construction on, so that wait() sees them. Construct it before starting threads:
/// on POSIX the signals are blocked, and threads started later inherit that.
class StopRequests {
 public:
  StopRequests();
  ~StopRequests();
  StopRequests(const StopRequests&) = delete;
  StopRequests& operator=(const StopRequests&) = delete;

  /// Returns once a request to stop has come.
  void wait();
};

}  // namespace rvae::cli
