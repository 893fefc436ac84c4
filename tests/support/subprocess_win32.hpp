// subprocess.hpp on Windows: CreateProcessW with pipes; a thread drains each pipe (so a child
// filling one while we wait on the other never deadlocks), the exit is waited on with a time
// limit. Included by subprocess.hpp.
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cwctype>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace rvae::testing_support {

namespace detail {

inline std::wstring wide(const std::string& utf8) {
  return std::filesystem::u8path(utf8).wstring();
}

// One argument quoted as the C runtime's command-line parser (and CommandLineToArgvW) reads it:
// backslashes are literal except before a quote, where they are doubled.
inline std::wstring quoted_argument(const std::wstring& argument) {
  if (!argument.empty() && argument.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    return argument;
  }
  std::wstring quoted = L"\"";
  std::size_t backslashes = 0;
  for (const wchar_t c : argument) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    quoted.append(c == L'"' ? 2 * backslashes + 1 : backslashes, L'\\');
    backslashes = 0;
    quoted += c;
  }
  quoted.append(2 * backslashes, L'\\');
  return quoted + L"\"";
}

inline bool same_name(const std::wstring& entry, const std::wstring& name) {
  if (entry.size() <= name.size() || entry[name.size()] != L'=') return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (std::towupper(entry[i]) != std::towupper(name[i])) return false;  // Names ignore case.
  }
  return true;
}

// The parent's environment with `overrides` (an empty value unsets), as CreateProcessW's block.
inline std::wstring environment_block(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::wstring> entries;
  if (wchar_t* strings = ::GetEnvironmentStringsW()) {
    for (const wchar_t* entry = strings; *entry != L'\0'; entry += std::wcslen(entry) + 1) {
      const std::wstring text = entry;
      bool overridden = false;
      for (const auto& [name, value] : overrides)
        overridden = overridden || same_name(text, wide(name));
      if (!overridden) entries.push_back(text);
    }
    ::FreeEnvironmentStringsW(strings);
  }
  for (const auto& [name, value] : overrides) {
    if (!value.empty()) entries.push_back(wide(name) + L"=" + wide(value));
  }
  std::wstring block;
  for (const std::wstring& entry : entries)
    block += entry + L'\0';
  return block + L'\0';
}

}  // namespace detail

/// A running child with its stdout and stderr piped to us and its stdin from a file (NUL when
/// none is given).
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv,
               const std::vector<std::pair<std::string, std::string>>& env = {},
               const std::string& stdin_path = "") {
    SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    HANDLE out_write = nullptr;
    HANDLE err_write = nullptr;
    if (!::CreatePipe(&streams_[0].read, &out_write, &inherit, 0)) return;
    if (!::CreatePipe(&streams_[1].read, &err_write, &inherit, 0)) {
      ::CloseHandle(out_write);
      return;
    }
    // Only the write ends go to the child: with a read end it would keep its own pipe open.
    ::SetHandleInformation(streams_[0].read, HANDLE_FLAG_INHERIT, 0);
    ::SetHandleInformation(streams_[1].read, HANDLE_FLAG_INHERIT, 0);
    const std::wstring input = stdin_path.empty() ? L"NUL" : detail::wide(stdin_path);
    HANDLE stdin_handle = ::CreateFileW(input.c_str(), GENERIC_READ, FILE_SHARE_READ, &inherit,
                                        OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    std::wstring command_line;
    for (const std::string& argument : argv)
      command_line +=
          (command_line.empty() ? L"" : L" ") + detail::quoted_argument(detail::wide(argument));
    std::wstring environment = detail::environment_block(env);
    STARTUPINFOW startup{};
    startup.cb = sizeof(startup);
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = stdin_handle;
    startup.hStdOutput = out_write;
    startup.hStdError = err_write;
    PROCESS_INFORMATION info{};
    // A console of its own, without a window: signal(SIGINT) sends Ctrl-C on it alone.
    if (::CreateProcessW(detail::wide(argv.at(0)).c_str(), command_line.data(), nullptr, nullptr,
                         TRUE, CREATE_UNICODE_ENVIRONMENT | CREATE_NO_WINDOW, environment.data(),
                         nullptr, &startup, &info)) {
      process_ = info.hProcess;
      pid_ = info.dwProcessId;
      ::CloseHandle(info.hThread);
    }
    ::CloseHandle(out_write);
    ::CloseHandle(err_write);
    if (stdin_handle != INVALID_HANDLE_VALUE) ::CloseHandle(stdin_handle);
    for (Stream& stream : streams_)
      stream.reader = std::thread([this, &stream] { drain(stream); });
  }

  ~ChildProcess() {
    if (process_ != nullptr && !reaped_) {
      ::TerminateProcess(process_, 128 + 9);
      ::WaitForSingleObject(process_, INFINITE);
    }
    join_readers();
    if (process_ != nullptr) ::CloseHandle(process_);
  }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return process_ != nullptr; }
  unsigned long pid() const { return pid_; }

  /// Reads stdout up to and including the next newline; what there is at end of stream or
  /// after `timeout`.
  std::string read_stdout_line(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    Stream& out = streams_[0];
    std::unique_lock<std::mutex> lock(mutex_);
    std::size_t newline = std::string::npos;
    changed_.wait_for(lock, timeout, [&] {
      newline = out.text.find('\n', out.consumed);
      return newline != std::string::npos || out.closed;
    });
    const std::size_t end = newline == std::string::npos ? out.text.size() : newline + 1;
    std::string line = out.text.substr(out.consumed, end - out.consumed);
    out.consumed = end;
    return line;
  }

  /// SIGINT: Ctrl-C on the child's console, as a user's key press; any other number ends it
  /// with exit code 128 + number, as a death by that signal reads.
  void signal(int number) {
    if (process_ == nullptr || reaped_) return;
    if (number == SIGINT) {
      // A console event goes to the processes attached to the sender's console: attach to the
      // child's for the moment of sending, ignoring the event here. (This process's own
      // console, if it had one, is given up; under ctest its output is a pipe anyway.)
      ::FreeConsole();
      if (::AttachConsole(pid_)) {
        ::SetConsoleCtrlHandler(nullptr, TRUE);
        ::GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0);
        ::Sleep(100);  // The event reaches us too, on a thread of its own: let it pass.
        ::FreeConsole();
        ::SetConsoleCtrlHandler(nullptr, FALSE);  // Inherited by children started later.
      }
    } else {
      ::TerminateProcess(process_, static_cast<UINT>(128 + number));
    }
  }

  /// Collects the rest of both streams and waits for the exit, ending the child after
  /// `timeout` (then `timed_out`, when given, is set).
  ProcessResult wait(std::chrono::milliseconds timeout = std::chrono::hours(24),
                     bool* timed_out = nullptr) {
    ProcessResult result;
    if (process_ == nullptr) return result;
    const auto limit = static_cast<DWORD>(std::min<long long>(timeout.count(), INFINITE - 1));
    if (::WaitForSingleObject(process_, limit) == WAIT_TIMEOUT) {
      ::TerminateProcess(process_, 128 + 9);
      ::WaitForSingleObject(process_, INFINITE);
      if (timed_out != nullptr) *timed_out = true;
    }
    reaped_ = true;
    join_readers();
    DWORD code = 0;
    ::GetExitCodeProcess(process_, &code);
    result.exit_code = static_cast<int>(code);
    result.out = streams_[0].text;
    result.err = streams_[1].text;
    return result;
  }

 private:
  struct Stream {
    HANDLE read = nullptr;
    std::thread reader;
    std::string text;
    std::size_t consumed = 0;  // What read_stdout_line has returned.
    bool closed = false;
  };

  void drain(Stream& stream) {
    char buffer[65536];
    DWORD count = 0;
    while (stream.read != nullptr &&
           ::ReadFile(stream.read, buffer, sizeof(buffer), &count, nullptr) && count > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      stream.text.append(buffer, count);
      changed_.notify_all();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    stream.closed = true;
    changed_.notify_all();
  }

  // The pipes end when the child (and anything it started with our handles) has exited.
  void join_readers() {
    for (Stream& stream : streams_) {
      if (stream.reader.joinable()) stream.reader.join();
      if (stream.read != nullptr) ::CloseHandle(stream.read);
      stream.read = nullptr;
    }
  }

  HANDLE process_ = nullptr;
  unsigned long pid_ = 0;
  bool reaped_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
  Stream streams_[2];
};

}  // namespace rvae::testing_support
