// Runs a command with a reference endpoint serving on a free loopback port, its base URL in
// RVAE_TEST_ENDPOINT (e.g. "http://127.0.0.1:41234"), so programs in languages other than C++
// (the C example, the Python ctypes test) are tested against the real protocol.
// Usage: with_endpoint <program> [args...]; exits with the program's status.
#ifdef _WIN32
#include <process.h>
#else
#include <spawn.h>
#include <sys/wait.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <string>

#include <rvae/testing/reference_endpoint.hpp>

#ifndef _WIN32
extern char** environ;
#endif

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <program> [args...]\n", argv[0]);
    return 2;
  }
  rvae::reference::ReferenceEndpoint endpoint;
  if (rvae::Result<void> started = endpoint.start(); !started) {
    std::fprintf(stderr, "with_endpoint: %s\n", started.error().what());
    return 2;
  }
  std::string base = endpoint.url("/");
  if (!base.empty() && base.back() == '/') base.pop_back();
#ifdef _WIN32
  _putenv_s("RVAE_TEST_ENDPOINT", base.c_str());
  // The arguments go on as they are: _spawnvp does not quote them, and the consumer tests' have
  // no spaces.
  const intptr_t status = _spawnvp(_P_WAIT, argv[1], argv + 1);
  endpoint.stop();
  if (status == -1) {
    std::perror("with_endpoint: _spawnvp");
    return 2;
  }
  return static_cast<int>(status);
#else
  setenv("RVAE_TEST_ENDPOINT", base.c_str(), 1);
  pid_t pid = 0;
  if (posix_spawnp(&pid, argv[1], nullptr, nullptr, argv + 1, environ) != 0) {
    std::perror("with_endpoint: posix_spawnp");
    return 2;
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return 2;
  endpoint.stop();
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  std::fprintf(stderr, "with_endpoint: %s ended by signal %d\n", argv[1], WTERMSIG(status));
  return 2;
#endif
}
