// Raw-socket clients that misbehave on purpose (idle, slow, oversized, pipelined), each bounded
// in bytes and in time so a server that does not hold makes the test fail, not hang; and the
// process's memory and threads (/proc/self/status on Linux, the process's counters on Windows).
#pragma once

#include "support/test_socket.hpp"  // winsock2.h, which must come before windows.h

#ifdef _WIN32
#include <windows.h>

// After windows.h, whose types they use.
#include <psapi.h>
#include <tlhelp32.h>
#endif

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

namespace rvae::testing_test {

using testing_support::kNoSocket;
using testing_support::Socket;

#ifdef _WIN32
/// The process's working set in KiB (Linux's VmRSS).
inline std::size_t process_rss_kib() {
  PROCESS_MEMORY_COUNTERS counters{};
  if (!::GetProcessMemoryInfo(::GetCurrentProcess(), &counters, sizeof(counters))) return 0;
  return static_cast<std::size_t>(counters.WorkingSetSize / 1024);
}

/// How many threads the process has.
inline std::size_t process_thread_count() {
  const HANDLE snapshot = ::CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
  if (snapshot == INVALID_HANDLE_VALUE) return 0;
  const DWORD self = ::GetCurrentProcessId();
  std::size_t count = 0;
  THREADENTRY32 entry{};
  entry.dwSize = sizeof(entry);
  for (BOOL more = ::Thread32First(snapshot, &entry); more;
       more = ::Thread32Next(snapshot, &entry)) {
    if (entry.th32OwnerProcessID == self) ++count;
  }
  ::CloseHandle(snapshot);
  return count;
}
#else
/// A number ("VmRSS:", "VmHWM:" in kB, "Threads:") of /proc/self/status; 0 when absent.
inline std::size_t proc_status_kib(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key, 0) == 0)
      return static_cast<std::size_t>(std::stoull(line.substr(key.size())));
  }
  return 0;
}

/// The process's resident memory in KiB.
inline std::size_t process_rss_kib() {
  return proc_status_kib("VmRSS:");
}

/// How many threads the process has.
inline std::size_t process_thread_count() {
  return proc_status_kib("Threads:");
}
#endif

/// Samples the resident memory every few milliseconds on its own thread; peak() is the largest
/// seen. (VmHWM alone cannot tell one test's peak from an earlier test's in the same process.)
class RssSampler {
 public:
  RssSampler() : baseline_(process_rss_kib()), peak_(baseline_) {
    thread_ = std::thread([this] {
      while (!done_) {
        const std::size_t now = process_rss_kib();
        if (now > peak_) peak_ = now;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
  }
  ~RssSampler() { stop(); }
  RssSampler(const RssSampler&) = delete;
  RssSampler& operator=(const RssSampler&) = delete;
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::size_t baseline_kib() const { return baseline_; }
  /// Largest resident memory growth over the baseline so far, in MiB.
  double growth_mib() const { return static_cast<double>(peak_.load() - baseline_) / 1024.0; }

 private:
  const std::size_t baseline_;
  std::atomic<std::size_t> peak_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

/// A TCP connection to 127.0.0.1:port with send and receive timeouts (so no call blocks longer);
/// closed on destruction.
class RawConnection {
 public:
  RawConnection(int port, std::chrono::milliseconds timeout) {
    using namespace testing_support;
    fd_ = tcp_socket();
    if (fd_ == kNoSocket) return;
    set_timeouts(fd_, timeout);
    set_int_option(fd_, IPPROTO_TCP, TCP_NODELAY, 1);
    const sockaddr_in address = loopback_address(port);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      close_socket(fd_);
      fd_ = kNoSocket;
    }
  }
  ~RawConnection() { testing_support::close_socket(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ != kNoSocket; }
  /// Sends all of `data`; false when the peer closed or a send timed out.
  bool send_all(const std::string& data) {
    std::size_t sent = 0;
    while (fd_ != kNoSocket && sent < data.size()) {
      const long n = testing_support::send_some(fd_, data.data() + sent, data.size() - sent);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return fd_ != kNoSocket;
  }
  /// Reads until the peer closes, `limit` bytes arrive, or a receive times out.
  std::string read_until_close(std::size_t limit = std::size_t{64} << 20) {
    std::string out;
    char buffer[65536];
    while (fd_ != kNoSocket && out.size() < limit) {
      const long n = testing_support::recv_some(fd_, buffer, sizeof(buffer));
      if (n <= 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }
  /// True when the peer has closed: recv sees end-of-stream (or a reset) before the timeout.
  bool peer_closed() {
    char byte = 0;
    for (;;) {
      const long n = testing_support::recv_some(fd_, &byte, 1);
      if (n == 0) return true;
      if (n < 0) return testing_support::last_error_was_reset();
    }
  }

 private:
  Socket fd_ = kNoSocket;
};

}  // namespace rvae::testing_test
