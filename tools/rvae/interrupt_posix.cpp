#include "interrupt.hpp"

#include <pthread.h>
#include <signal.h>

namespace rvae::cli {
namespace {

volatile sig_atomic_t g_received = 0;
struct sigaction g_previous_int {};
struct sigaction g_previous_term {};

extern "C" void on_signal(int number) {
  g_received = number;
  // The next one is not caught: a user pressing Ctrl-C twice means "now".
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  sigaction(number, &fallback, nullptr);
}

}  // namespace

InterruptGuard::InterruptGuard() {
  g_received = 0;
  struct sigaction action {};
  action.sa_handler = on_signal;
  // Other threads' system calls (libcurl's poll) carry on; the batch loop polls the flag.
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

int InterruptGuard::received() {
  return g_received;
}

namespace {

sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

}  // namespace

// Taken by one thread with sigwait, which may then do anything (a handler may not).
StopRequests::StopRequests() {
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

StopRequests::~StopRequests() = default;

void StopRequests::wait() {
  const sigset_t signals = stop_signals();
  int received = 0;
  sigwait(&signals, &received);
}

}  // namespace rvae::cli
