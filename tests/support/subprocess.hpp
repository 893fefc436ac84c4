// Runs a program (the rvae binary, an example) as a child process for end-to-end tests:
// ChildProcess with its stdout and stderr piped here. subprocess_posix.hpp (posix_spawn) and
// subprocess_win32.hpp (CreateProcessW) implement it with the same interface.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace rvae::testing_support {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

}  // namespace rvae::testing_support

#ifdef _WIN32
#include "support/subprocess_win32.hpp"
#else
#include "support/subprocess_posix.hpp"
#endif

namespace rvae::testing_support {

/// Runs a command to completion.
inline ProcessResult run_process(std::vector<std::string> argv,
                                 const std::vector<std::pair<std::string, std::string>>& env = {}) {
  ChildProcess child(std::move(argv), env);
  if (!child.started()) return {};
  return child.wait();
}

}  // namespace rvae::testing_support
