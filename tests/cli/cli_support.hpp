// What the CLI tests share: temporary directories, the rvae binary run as a child with a time
// limit (killed when it overruns, so no test can hang), `rvae serve` on a free port, images.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rvae/rvae.hpp"
#include "support/subprocess.hpp"
#include "support/test_data.hpp"

extern char** environ;

namespace rvae::cli_test {

inline const std::string kRvae = RVAE_CLI_PATH;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/rvae-cli-test-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    path_ = made != nullptr ? made : "/tmp";
  }
  ~TempDir() {
    pid_t pid = 0;
    const char* argv[] = {"/bin/rm", "-rf", path_.c_str(), nullptr};
    if (::posix_spawn(&pid, argv[0], nullptr, nullptr, const_cast<char**>(argv), environ) == 0) {
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Outcome {
  int exit_code = -1;  ///< 128 + N when killed by signal N; -1 when it could not start.
  bool timed_out = false;
  std::string out;
  std::string err;
};

using Env = std::vector<std::pair<std::string, std::string>>;

/// A child with stdout and stderr piped here and stdin from a file (default /dev/null).
class Child {
 public:
  explicit Child(std::vector<std::string> argv, const Env& env = {},
                 const std::string& stdin_path = "/dev/null") {
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe(out_pipe) != 0) return;
    if (::pipe(err_pipe) != 0) {
      ::close(out_pipe[0]);
      ::close(out_pipe[1]);
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, stdin_path.c_str(), O_RDONLY, 0);
    std::vector<std::string> environment = testing_support::detail::environment_with(env);
    std::vector<char*> argv_pointers = testing_support::detail::c_strings(argv);
    std::vector<char*> env_pointers = testing_support::detail::c_strings(environment);
    if (::posix_spawn(&pid_, argv_pointers[0], &actions, nullptr, argv_pointers.data(),
                      env_pointers.data()) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    fds_[0] = out_pipe[0];
    fds_[1] = err_pipe[0];
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void signal(int number) const {
    if (pid_ > 0 && !reaped_) ::kill(pid_, number);
  }

  /// Reads stdout up to and including a newline; "" at end of stream or after `timeout`.
  std::string read_stdout_line(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string line;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd fd{fds_[0], POLLIN, 0};
      if (::poll(&fd, 1, 50) <= 0) continue;
      char byte = 0;
      if (::read(fds_[0], &byte, 1) != 1) break;
      line += byte;
      if (byte == '\n') break;
    }
    sinks_[0] += line;
    return line;
  }

  /// Collects both streams until the child exits, killing it after `timeout`.
  Outcome wait(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    Outcome outcome;
    if (pid_ <= 0) return outcome;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int open_streams = 2;
    char buffer[65536];
    while (open_streams > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        outcome.timed_out = true;
        ::kill(pid_, SIGKILL);
        break;
      }
      pollfd fds[2] = {{fds_[0], POLLIN, 0}, {fds_[1], POLLIN, 0}};
      if (::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 100))) < 0) break;
      for (int i = 0; i < 2; ++i) {
        if (fds_[i] < 0 || (fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
        const ssize_t count = ::read(fds_[i], buffer, sizeof(buffer));
        if (count <= 0) {
          ::close(fds_[i]);
          fds_[i] = -1;
          --open_streams;
        } else {
          sinks_[i].append(buffer, static_cast<std::size_t>(count));
        }
      }
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    outcome.out = sinks_[0];
    outcome.err = sinks_[1];
    return outcome;
  }

 private:
  pid_t pid_ = -1;
  int fds_[2] = {-1, -1};
  bool reaped_ = false;
  std::string sinks_[2];
};

/// Runs to completion (killed after `timeout`).
inline Outcome run(std::vector<std::string> argv, const Env& env = {},
                   const std::string& stdin_path = "/dev/null",
                   std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  Child child(std::move(argv), env, stdin_path);
  return child.wait(timeout);
}

/// `rvae serve --port 0 ...` in a child; its URL read from the first line it prints.
class Serve {
 public:
  explicit Serve(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {kRvae, "serve", "--port", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    child_ = std::make_unique<Child>(argv);
    const std::string line = child_->read_stdout_line();
    const std::string prefix = "serving ";
    if (line.rfind(prefix, 0) == 0 && line.size() > prefix.size() + 1) {
      url_ = line.substr(prefix.size(), line.size() - prefix.size() - 1);
    }
  }
  ~Serve() {
    child_->signal(SIGTERM);
    (void)child_->wait(std::chrono::seconds(10));
  }
  const std::string& url() const { return url_; }  ///< "http://127.0.0.1:PORT/"
  Child& child() { return *child_; }

 private:
  std::unique_ptr<Child> child_;
  std::string url_;
};

using testing_support::gradient_image;

/// Names in `dir` (without . and ..), or empty when it cannot be read.
std::vector<std::string> list_dir(const std::string& dir);

inline bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

/// Writes sd15 latents [1, 4, 2, 2] of zeros to `path` (.npy).
inline void write_small_latents(const std::string& path) {
  const Tensor latents = Tensor::zeros({1, 4, 2, 2}, DType::kFloat32).value();
  (void)write_npy(path, latents.view());
}

}  // namespace rvae::cli_test
