#include "output_files.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <system_error>

#include "args.hpp"
#include "paths.hpp"
#include "rvae/error.hpp"

namespace rvae::cli {

bool is_directory_target(const std::string& path) {
  return (!path.empty() && is_path_separator(path.back())) || is_directory(path);
}

std::string directory_without_slash(const std::string& dir) {
  std::string trimmed = dir;
  while (trimmed.size() > 1 && is_path_separator(trimmed.back()))
    trimmed.pop_back();
  return trimmed;
}

std::string join_path(const std::string& dir, const std::string& name) {
  const std::string base = directory_without_slash(dir);
  return base == "/" ? "/" + name : base + "/" + name;
}

void make_directories(const std::string& dir) {
  const std::string path = directory_without_slash(dir);
  // A root ("/", "C:\\", "C:") is there or cannot be made: not asked of the system, as Windows'
  // "C:" names the current directory of drive C.
  if (!fs_path(path).has_relative_path()) return;
  std::error_code error;
  if (std::filesystem::exists(fs_path(path), error)) {
    if (is_directory(path)) return;
    throw Error(ErrorCode::kInvalidArgument, "'" + path + "' exists and is not a directory");
  }
  const std::size_t slash = path.find_last_of(kPathSeparators);
  if (slash != std::string::npos) make_directories(path.substr(0, slash + 1));
  if (!std::filesystem::create_directory(fs_path(path), error) && error) {
    throw Error(ErrorCode::kInvalidArgument,
                "cannot create directory '" + path + "': " + error.message());
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
    // At most 1 GiB a call: Windows' write takes an unsigned int count.
    const auto chunk = static_cast<unsigned>(std::min<std::size_t>(size - done, 1u << 30));
    const auto n = ::write(STDOUT_FILENO, data + done, chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw Error(ErrorCode::kInvalidArgument,
                  std::string("cannot write to standard output: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
}

std::uint64_t bytes_on_disk(const std::string& path) {
  std::error_code error;
  const std::filesystem::path root = fs_path(path);
  if (!std::filesystem::is_directory(root, error)) {
    const std::uintmax_t size = std::filesystem::file_size(root, error);
    return error ? 0 : static_cast<std::uint64_t>(size);
  }
  std::uint64_t total = 0;
  for (std::filesystem::directory_iterator it(root, error), end; !error && it != end;
       it.increment(error)) {
    total += bytes_on_disk(join_path(path, it->path().filename().u8string()));
  }
  return total;
}

}  // namespace rvae::cli
