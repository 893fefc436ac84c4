// What the CLI tests share: temporary directories, the rvae binary run as a child with a time
// limit (killed when it overruns, so no test can hang), `rvae serve` on a free port, images.
#pragma once

#ifndef _WIN32
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "rvae/rvae.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "support/test_data.hpp"

namespace rvae::cli_test {

inline const std::string kRvae = RVAE_CLI_PATH;

/// What a child's standard input reads by default: nothing.
#ifdef _WIN32
inline const std::string kNoInput = "NUL";
#else
inline const std::string kNoInput = "/dev/null";
#endif

/// A temporary directory (removed with its contents), its names as UTF-8 strings.
class TempDir {
 public:
  TempDir() : dir_("rvae-cli-test"), path_(dir_.str()) {}
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  testing_support::TempDir dir_;
  std::string path_;
};

struct Outcome {
  int exit_code = -1;  ///< 128 + N when killed by signal N; -1 when it could not start.
  bool timed_out = false;
  std::string out;
  std::string err;
};

using Env = std::vector<std::pair<std::string, std::string>>;

#ifdef _WIN32
/// A child with stdout and stderr piped here and stdin from a file (default NUL).
class Child {
 public:
  explicit Child(std::vector<std::string> argv, const Env& env = {},
                 const std::string& stdin_path = kNoInput)
      : process_(std::move(argv), env, stdin_path) {}

  bool started() const { return process_.started(); }
  unsigned long pid() const { return process_.pid(); }
  /// SIGINT arrives as Ctrl-Break; other numbers end the child (exit code 128 + number).
  void signal(int number) { process_.signal(number); }

  /// Reads stdout up to and including a newline; "" at end of stream or after `timeout`.
  std::string read_stdout_line(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return process_.read_stdout_line(timeout);
  }

  /// Collects both streams until the child exits, killing it after `timeout`.
  Outcome wait(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    Outcome outcome;
    if (!process_.started()) return outcome;
    testing_support::ProcessResult result = process_.wait(timeout, &outcome.timed_out);
    outcome.exit_code = result.exit_code;
    outcome.out = std::move(result.out);
    outcome.err = std::move(result.err);
    return outcome;
  }

 private:
  testing_support::ChildProcess process_;
};
#else
/// A child with stdout and stderr piped here and stdin from a file (default /dev/null).
class Child {
 public:
  explicit Child(std::vector<std::string> argv, const Env& env = {},
                 const std::string& stdin_path = kNoInput) {
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
#endif

/// Runs to completion (killed after `timeout`).
inline Outcome run(std::vector<std::string> argv, const Env& env = {},
                   const std::string& stdin_path = kNoInput,
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
  std::error_code error;
  return std::filesystem::exists(std::filesystem::u8path(path), error);
}

/// Creates the directory `path` (its parent must exist); true when it was made.
inline bool make_dir(const std::string& path) {
  std::error_code error;
  return std::filesystem::create_directory(std::filesystem::u8path(path), error);
}

/// Writes sd15 latents [1, 4, 2, 2] of zeros to `path` (.npy).
inline void write_small_latents(const std::string& path) {
  const Tensor latents = Tensor::zeros({1, 4, 2, 2}, DType::kFloat32).value();
  (void)write_npy(path, latents.view());
}

}  // namespace rvae::cli_test
