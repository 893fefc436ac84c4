#define WIN32_LEAN_AND_MEAN
#include <fcntl.h>
#include <io.h>
#include <windows.h>
// After windows.h.
#include <shellapi.h>

#include <cstdlib>

#include "console.hpp"

namespace rvae::cli {
namespace {

std::string utf8_of(const wchar_t* text) {
  const int size = ::WideCharToMultiByte(CP_UTF8, 0, text, -1, nullptr, 0, nullptr, nullptr);
  if (size <= 1) return "";
  std::string utf8(static_cast<std::size_t>(size), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, text, -1, utf8.data(), size, nullptr, nullptr);
  utf8.pop_back();  // The terminating NUL.
  return utf8;
}

UINT g_previous_output_code_page = 0;
DWORD g_previous_error_mode = 0;

// The code page and modes belong to the console, which outlives us: the shell gets its own
// back.
void restore_output_code_page() {
  ::SetConsoleOutputCP(g_previous_output_code_page);
}

void restore_error_mode() {
  ::SetConsoleMode(reinterpret_cast<HANDLE>(::_get_osfhandle(::_fileno(stderr))),
                   g_previous_error_mode);
}

HANDLE handle_of(std::FILE* stream) {
  return reinterpret_cast<HANDLE>(::_get_osfhandle(::_fileno(stream)));
}

}  // namespace

std::vector<std::string> utf8_arguments(int argc, char** argv) {
  int count = 0;
  wchar_t** wide = ::CommandLineToArgvW(::GetCommandLineW(), &count);
  if (wide == nullptr) return std::vector<std::string>(argv + 1, argv + argc);
  std::vector<std::string> arguments;
  for (int i = 1; i < count; ++i)
    arguments.push_back(utf8_of(wide[i]));
  ::LocalFree(wide);
  return arguments;
}

void prepare_standard_streams() {
  // Text mode would turn "\n" into "\r\n" inside PNG and latents bytes, and stop reading at ^Z;
  // messages end in "\n" as on every other system (consoles show them alike).
  ::_setmode(::_fileno(stdin), _O_BINARY);
  ::_setmode(::_fileno(stdout), _O_BINARY);
  ::_setmode(::_fileno(stderr), _O_BINARY);
  g_previous_output_code_page = ::GetConsoleOutputCP();
  if (g_previous_output_code_page != 0 && g_previous_output_code_page != CP_UTF8 &&
      ::SetConsoleOutputCP(CP_UTF8)) {
    std::atexit(restore_output_code_page);
  }
  // The progress bar erases the line with ESC [ K (Windows 10 and later consoles).
  const HANDLE error = handle_of(stderr);
  if (::GetConsoleMode(error, &g_previous_error_mode) &&
      (g_previous_error_mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING) == 0 &&
      ::SetConsoleMode(error, g_previous_error_mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING)) {
    std::atexit(restore_error_mode);
  }
}

bool is_terminal(std::FILE* stream) {
  // Not _isatty: it is true of the NUL device too.
  DWORD mode = 0;
  return ::GetConsoleMode(handle_of(stream), &mode) != 0;
}

int terminal_columns(std::FILE* stream) {
  CONSOLE_SCREEN_BUFFER_INFO info{};
  if (!::GetConsoleScreenBufferInfo(handle_of(stream), &info)) return 0;
  return info.srWindow.Right - info.srWindow.Left + 1;
}

}  // namespace rvae::cli
