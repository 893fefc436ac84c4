#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <atomic>
#include <csignal>

#include "interrupt.hpp"

namespace rvae::cli {
namespace {

std::atomic<int> g_received{0};
HANDLE g_stop_event = nullptr;

// Console control handlers run on a thread of their own, so the flag is atomic. Closing the
// console is left to the default handler: Windows ends the process soon after any handler
// returns, too soon for the batch to wind down.
BOOL WINAPI on_console_event(DWORD event) {
  if (event != CTRL_C_EVENT && event != CTRL_BREAK_EVENT) return FALSE;
  // The next one goes to the default handler, which ends the process: Ctrl-C twice means "now".
  if (g_received.exchange(SIGINT) != 0) return FALSE;
  return TRUE;
}

// For serve: closing the console stops it too; the process ends when this returns, so the
// handler gives the server's stop a moment first.
BOOL WINAPI on_stop_event(DWORD event) {
  if (event != CTRL_C_EVENT && event != CTRL_BREAK_EVENT && event != CTRL_CLOSE_EVENT) {
    return FALSE;
  }
  ::SetEvent(g_stop_event);
  if (event == CTRL_CLOSE_EVENT) ::Sleep(2000);
  return TRUE;
}

}  // namespace

InterruptGuard::InterruptGuard() {
  g_received = 0;
  ::SetConsoleCtrlHandler(on_console_event, TRUE);
}

InterruptGuard::~InterruptGuard() {
  ::SetConsoleCtrlHandler(on_console_event, FALSE);
}

int InterruptGuard::received() {
  return g_received;
}

StopRequests::StopRequests() {
  g_stop_event = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  ::SetConsoleCtrlHandler(on_stop_event, TRUE);
}

StopRequests::~StopRequests() {
  ::SetConsoleCtrlHandler(on_stop_event, FALSE);
  ::CloseHandle(g_stop_event);
  g_stop_event = nullptr;
}

void StopRequests::wait() {
  ::WaitForSingleObject(g_stop_event, INFINITE);
}

}  // namespace rvae::cli
