#include "output_files.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "args.hpp"
#include "rvae/error.hpp"

namespace rvae::cli {

bool is_directory_target(const std::string& path) {
  struct stat info {};
  return (!path.empty() && path.back() == '/') ||
         (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode));
}

std::string directory_without_slash(const std::string& dir) {
  std::string trimmed = dir;
  while (trimmed.size() > 1 && trimmed.back() == '/')
    trimmed.pop_back();
  return trimmed;
}

std::string join_path(const std::string& dir, const std::string& name) {
  const std::string base = directory_without_slash(dir);
  return base == "/" ? "/" + name : base + "/" + name;
}

void make_directories(const std::string& dir) {
  const std::string path = directory_without_slash(dir);
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) return;
    throw Error(ErrorCode::kInvalidArgument, "'" + path + "' exists and is not a directory");
  }
  const std::size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) make_directories(path.substr(0, slash));
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    throw Error(ErrorCode::kInvalidArgument,
                "cannot create directory '" + path + "': " + std::strerror(errno));
  }
}

void check_output_collisions(const std::vector<std::string>& inputs,
                             const std::vector<std::string>& targets) {
  std::map<std::string, std::size_t> first_input;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    auto [it, inserted] = first_input.emplace(targets[i], i);
    if (!inserted) {
      throw UsageError{"inputs '" + inputs[it->second] + "' and '" + inputs[i] +
                       "' would both be written to '" + targets[i] +
                       "'; rename one or decode them into different directories"};
    }
  }
}

void write_stdout(const std::uint8_t* data, std::size_t size) {
  std::fflush(stdout);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(STDOUT_FILENO, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw Error(ErrorCode::kInvalidArgument,
                  std::string("cannot write to standard output: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
}

std::uint64_t bytes_on_disk(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  if (!S_ISDIR(info.st_mode)) return static_cast<std::uint64_t>(info.st_size);
  std::uint64_t total = 0;
  if (DIR* directory = ::opendir(path.c_str())) {
    while (dirent* entry = ::readdir(directory)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") total += bytes_on_disk(join_path(path, name));
    }
    ::closedir(directory);
  }
  return total;
}

}  // namespace rvae::cli
