#include "batch_io.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "args.hpp"
#include "common.hpp"
#include "paths.hpp"
#include "rvae/error.hpp"

namespace rvae::cli {

std::vector<std::string> expand_inputs(const std::vector<std::string>& arguments,
                                       const std::vector<std::string>& extensions) {
  std::vector<std::string> files;
  for (const std::string& argument : arguments) {
    if (argument == "-" && arguments.size() > 1) {
      throw UsageError{"'-' (standard input) must be the only input"};
    }
    if (!is_directory(argument)) {
      if (argument != "-" && std::find(extensions.begin(), extensions.end(),
                                       extension_of(argument)) == extensions.end()) {
        std::string known;
        for (const std::string& extension : extensions)
          known += (known.empty() ? "" : ", ") + extension;
        throw UsageError{"'" + argument + "' is not a " + known + " file"};
      }
      files.push_back(argument);
      continue;
    }
    std::vector<std::string> found;
    std::error_code error;
    for (std::filesystem::directory_iterator it(fs_path(argument), error), end; !error && it != end;
         it.increment(error)) {
      const std::string name = it->path().filename().u8string();
      const std::string path = argument + (is_path_separator(argument.back()) ? "" : "/") + name;
      if (std::find(extensions.begin(), extensions.end(), extension_of(name)) != extensions.end() &&
          !is_directory(path)) {
        found.push_back(path);
      }
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  if (files.empty()) throw UsageError{"no input files"};
  return files;
}

std::string stem_of(const std::string& path) {
  if (path == "-") return "stdin";
  const std::size_t slash = path.find_last_of(kPathSeparators);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::size_t dot = name.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

Bytes read_stdin(std::size_t max_bytes) {
  Bytes data;
  std::uint8_t buffer[65536];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      throw Error(ErrorCode::kInvalidArgument,
                  std::string("cannot read standard input: ") + std::strerror(errno));
    }
    if (n == 0) break;
    if (data.size() + static_cast<std::size_t>(n) > max_bytes) {
      throw Error(ErrorCode::kResourceExhausted,
                  "standard input holds more than " + std::to_string(max_bytes) + " bytes");
    }
    data.insert(data.end(), buffer, buffer + n);
  }
  if (data.empty()) throw Error(ErrorCode::kInvalidArgument, "standard input is empty");
  return data;
}

}  // namespace rvae::cli
