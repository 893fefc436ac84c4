// Raw-socket clients that misbehave on purpose (idle, slow, oversized, pipelined), each bounded
// in bytes and in time so a server that does not hold makes the test fail, not hang; and the
// process's memory from /proc/self/status.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

namespace rvae::testing_test {

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

/// Samples VmRSS every few milliseconds on its own thread; peak() is the largest seen. (VmHWM
/// alone cannot tell one test's peak from an earlier test's in the same process.)
class RssSampler {
 public:
  RssSampler() : baseline_(proc_status_kib("VmRSS:")), peak_(baseline_) {
    thread_ = std::thread([this] {
      while (!done_) {
        const std::size_t now = proc_status_kib("VmRSS:");
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
  /// Largest VmRSS growth over the baseline so far, in MiB.
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
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int yes = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  /// Sends all of `data`; false when the peer closed or a send timed out.
  bool send_all(const std::string& data) {
    std::size_t sent = 0;
    while (fd_ >= 0 && sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return fd_ >= 0;
  }
  /// Reads until the peer closes, `limit` bytes arrive, or a receive times out.
  std::string read_until_close(std::size_t limit = std::size_t{64} << 20) {
    std::string out;
    char buffer[65536];
    while (fd_ >= 0 && out.size() < limit) {
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }
  /// True when the peer has closed: recv sees end-of-stream (or a reset) before the timeout.
  bool peer_closed() {
    char byte = 0;
    for (;;) {
      const ssize_t n = ::recv(fd_, &byte, 1, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  int fd_ = -1;
};

}  // namespace rvae::testing_test
