#include "cli_support.hpp"

#include <dirent.h>

#include <algorithm>

namespace rvae::cli_test {

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* directory = ::opendir(dir.c_str())) {
    while (dirent* entry = ::readdir(directory)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(directory);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace rvae::cli_test
