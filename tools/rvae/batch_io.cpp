#include "batch_io.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "args.hpp"
#include "common.hpp"

namespace rvae::cli {
namespace {

bool is_directory(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::string milliseconds(std::chrono::microseconds value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f ms", static_cast<double>(value.count()) / 1000.0);
  return text;
}

}  // namespace

std::vector<std::string> expand_inputs(const std::vector<std::string>& arguments,
                                       const std::vector<std::string>& extensions) {
  std::vector<std::string> files;
  for (const std::string& argument : arguments) {
    if (!is_directory(argument)) {
      files.push_back(argument);
      continue;
    }
    std::vector<std::string> found;
    if (DIR* directory = ::opendir(argument.c_str())) {
      while (dirent* entry = ::readdir(directory)) {
        const std::string name = entry->d_name;
        const std::string path = argument + (argument.back() == '/' ? "" : "/") + name;
        if (std::find(extensions.begin(), extensions.end(), extension_of(name)) !=
                extensions.end() &&
            !is_directory(path)) {
          found.push_back(path);
        }
      }
      ::closedir(directory);
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  if (files.empty()) throw UsageError{"no input files"};
  return files;
}

std::string stem_of(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::size_t dot = name.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

ProgressDisplay::ProgressDisplay(std::FILE* stream, std::string what)
    : stream_(stream), what_(std::move(what)), terminal_(::isatty(::fileno(stream)) != 0) {}

void ProgressDisplay::update(const BatchProgress& progress) {
  const std::size_t done = progress.succeeded + progress.failed;
  if (terminal_) {
    constexpr int kWidth = 30;
    const int filled =
        progress.total == 0 ? kWidth : static_cast<int>(done * kWidth / progress.total);
    std::string bar(static_cast<std::size_t>(filled), '=');
    bar.resize(kWidth, ' ');
    std::fprintf(stream_, "\r%s [%s] %zu/%zu, %zu failed, %zu in flight, %.1f MB up, %.1f MB down ",
                 what_.c_str(), bar.c_str(), done, progress.total, progress.failed,
                 progress.in_flight, static_cast<double>(progress.bytes_sent) / 1e6,
                 static_cast<double>(progress.bytes_received) / 1e6);
    drew_ = true;
  } else if (done != last_done_) {
    std::fprintf(stream_, "%s: %zu/%zu done, %zu failed\n", what_.c_str(), done, progress.total,
                 progress.failed);
  }
  last_done_ = done;
  std::fflush(stream_);
}

void ProgressDisplay::finish() {
  if (terminal_ && drew_) std::fputc('\n', stream_);
  std::fflush(stream_);
}

std::string timing_line(const std::string& name, const RequestTimings& timings) {
  return name + ": " + std::to_string(timings.attempts) +
         (timings.attempts == 1 ? " attempt" : " attempts") + " to " + timings.endpoint + " (" +
         (timings.protocol.empty() ? "no reply" : timings.protocol) + ")" + ", prepare " +
         milliseconds(timings.prepare) + ", queue " + milliseconds(timings.queue) + ", connect " +
         milliseconds(timings.connect) + ", tls " + milliseconds(timings.tls) + ", upload " +
         milliseconds(timings.upload) + ", server " + milliseconds(timings.server_wait) +
         ", download " + milliseconds(timings.download) + ", decode " +
         milliseconds(timings.decode) + ", total " + milliseconds(timings.total) + ", " +
         std::to_string(timings.bytes_sent) + " B sent, " + std::to_string(timings.bytes_received) +
         " B received";
}

}  // namespace rvae::cli
