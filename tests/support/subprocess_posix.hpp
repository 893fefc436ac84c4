// subprocess.hpp on POSIX: posix_spawn, pipes and poll.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace rvae::testing_support {

namespace detail {

inline std::vector<std::string> environment_with(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    bool overridden = false;
    for (const auto& [name, value] : overrides) {
      overridden = overridden || text.rfind(name + "=", 0) == 0;
    }
    if (!overridden) entries.push_back(text);
  }
  for (const auto& [name, value] : overrides) {
    if (!value.empty()) entries.push_back(name + "=" + value);  // Empty value: unset it.
  }
  return entries;
}

inline std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& text : strings)
    pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace detail

/// A running child with its stdout and stderr piped to us.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv,
               const std::vector<std::pair<std::string, std::string>>& env = {}) {
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    std::vector<std::string> environment = detail::environment_with(env);
    std::vector<char*> argv_pointers = detail::c_strings(argv);
    std::vector<char*> env_pointers = detail::c_strings(environment);
    if (::posix_spawn(&pid_, argv_pointers[0], &actions, nullptr, argv_pointers.data(),
                      env_pointers.data()) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
  }

  ~ChildProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
  }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }

  /// Reads stdout up to and including the next newline; empty at end of stream.
  std::string read_stdout_line() {
    std::string line;
    char byte = 0;
    while (::read(out_fd_, &byte, 1) == 1) {
      line += byte;
      if (byte == '\n') break;
    }
    out_ += line;
    return line;
  }

  void signal(int number) { ::kill(pid_, number); }

  /// Collects the rest of both streams and waits for the exit.
  ProcessResult wait() {
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    std::string* sinks[2] = {&out_, &err_};
    int open_streams = 2;
    char buffer[4096];
    while (open_streams > 0) {
      if (::poll(fds, 2, -1) < 0) break;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
        const ssize_t count = ::read(fds[i].fd, buffer, sizeof(buffer));
        if (count <= 0) {
          fds[i].fd = -1;
          --open_streams;
        } else {
          sinks[i]->append(buffer, static_cast<std::size_t>(count));
        }
      }
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    ProcessResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = out_;
    result.err = err_;
    return result;
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool reaped_ = false;
  std::string out_;
  std::string err_;
};

}  // namespace rvae::testing_support
