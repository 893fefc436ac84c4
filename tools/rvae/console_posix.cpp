#include <sys/ioctl.h>
#include <unistd.h>

#include "console.hpp"

namespace rvae::cli {

std::vector<std::string> utf8_arguments(int argc, char** argv) {
  // The bytes as given: file names are bytes, and UTF-8 under a UTF-8 locale.
  return std::vector<std::string>(argv + 1, argv + argc);
}

void prepare_standard_streams() {}

bool is_terminal(std::FILE* stream) {
  return ::isatty(::fileno(stream)) != 0;
}

int terminal_columns(std::FILE* stream) {
  winsize size{};
  if (::ioctl(::fileno(stream), TIOCGWINSZ, &size) == 0) return size.ws_col;
  return 0;
}

}  // namespace rvae::cli
