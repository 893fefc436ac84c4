// A bare TCP server on 127.0.0.1 for tests that must control the bytes and their timing exactly
// (how fast a request body is read, when the status line goes out), which an HTTP library hides.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <utility>

namespace rvae::testing_support {

/// Accepts connections one after another on its own thread and hands each to `handler`
/// (the socket is closed when the handler returns).
class RawServer {
 public:
  using Handler = std::function<void(int fd)>;

  /// `receive_buffer` > 0 fixes each connection's kernel receive buffer, so a handler that does
  /// not read holds the client's upload back after a known amount.
  explicit RawServer(Handler handler, int receive_buffer = 0) : handler_(std::move(handler)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      ::setsockopt(listener_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        ::listen(listener_, 16) == 0 &&
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      port_ = ntohs(address.sin_port);
    }
    thread_ = std::thread([this] {
      while (true) {
        const int fd = ::accept(listener_, nullptr, nullptr);
        if (fd < 0) return;  // The listener was shut down.
        handler_(fd);
        ::close(fd);
      }
    });
  }

  ~RawServer() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    if (thread_.joinable()) thread_.join();
  }

  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  Handler handler_;
  int listener_ = -1;
  int port_ = -1;
  std::thread thread_;
};

/// A request's head (request line and headers) and the body bytes that arrived with it.
struct RawRequestHead {
  std::string head;
  std::string body_start;
  std::size_t content_length = 0;
};

/// Reads up to the blank line after the headers; false when the peer closed first.
inline bool read_request_head(int fd, RawRequestHead& out) {
  std::string data;
  char buffer[4096];
  while (true) {
    const std::size_t end = data.find("\r\n\r\n");
    if (end != std::string::npos) {
      out.head = data.substr(0, end + 4);
      out.body_start = data.substr(end + 4);
      break;
    }
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
    if (got <= 0) return false;
    data.append(buffer, static_cast<std::size_t>(got));
  }
  std::string lower = out.head;
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  const std::size_t at = lower.find("\r\ncontent-length:");
  if (at != std::string::npos) {
    out.content_length = std::strtoull(lower.c_str() + at + 17, nullptr, 10);
  }
  return true;
}

/// Reads until `count` more bytes arrived or the peer closed; calls `on_bytes` with each piece.
/// Returns how many bytes were read.
inline std::size_t read_body(int fd, std::size_t count,
                             const std::function<void(const char*, std::size_t)>& on_bytes) {
  std::size_t total = 0;
  char buffer[65536];
  while (total < count) {
    const std::size_t want = std::min(sizeof(buffer), count - total);
    const ssize_t got = ::recv(fd, buffer, want, 0);
    if (got <= 0) break;
    on_bytes(buffer, static_cast<std::size_t>(got));
    total += static_cast<std::size_t>(got);
  }
  return total;
}

/// Writes all of `data`; false when the peer went away.
inline bool write_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t put = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (put <= 0) return false;
    sent += static_cast<std::size_t>(put);
  }
  return true;
}

/// An HTTP/1.1 200 reply carrying a tensor body with its `shape` and `dtype` headers.
inline std::string tensor_reply(const std::string& shape, const std::string& dtype,
                                const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: tensor/binary\r\nshape: " + shape +
         "\r\ndtype: " + dtype + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace rvae::testing_support
