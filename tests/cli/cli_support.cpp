#include "cli_support.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace rvae::cli_test {

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (std::filesystem::directory_iterator it(std::filesystem::u8path(dir), error), end;
       !error && it != end; it.increment(error)) {
    names.push_back(testing_support::TempDir::utf8(it->path().filename()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace rvae::cli_test
