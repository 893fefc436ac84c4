// A bare TCP server on 127.0.0.1 for tests that must control the bytes and their timing exactly
// (how fast a request body is read, when the status line goes out), which an HTTP library hides.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <utility>

#include "support/test_socket.hpp"

namespace rvae::testing_support {

/// Accepts connections one after another on its own thread and hands each to `handler`
/// (the socket is closed when the handler returns).
class RawServer {
 public:
  using Handler = std::function<void(Socket fd)>;

  /// `receive_buffer` > 0 fixes each connection's kernel receive buffer, so a handler that does
  /// not read holds the client's upload back after a known amount.
  explicit RawServer(Handler handler, int receive_buffer = 0) : handler_(std::move(handler)) {
    listener_ = tcp_socket();
    if (receive_buffer > 0) set_int_option(listener_, SOL_SOCKET, SO_RCVBUF, receive_buffer);
    const sockaddr_in address = loopback_address();
    if (::bind(listener_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0 &&
        ::listen(listener_, 16) == 0) {
      port_ = local_port(listener_);
    }
    thread_ = std::thread([this] {
      while (true) {
        const Socket fd = ::accept(listener_, nullptr, nullptr);
        if (fd == kNoSocket) return;  // The listener was shut down.
        handler_(fd);
        close_socket(fd);
      }
    });
  }

  ~RawServer() {
    // Shutting the listener down wakes accept() on Linux; closing it does on Windows.
    ::shutdown(listener_, kShutdownBoth);
    close_socket(listener_);
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
  Socket listener_ = kNoSocket;
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
inline bool read_request_head(Socket fd, RawRequestHead& out) {
  std::string data;
  char buffer[4096];
  while (true) {
    const std::size_t end = data.find("\r\n\r\n");
    if (end != std::string::npos) {
      out.head = data.substr(0, end + 4);
      out.body_start = data.substr(end + 4);
      break;
    }
    const long got = recv_some(fd, buffer, sizeof(buffer));
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
inline std::size_t read_body(Socket fd, std::size_t count,
                             const std::function<void(const char*, std::size_t)>& on_bytes) {
  std::size_t total = 0;
  char buffer[65536];
  while (total < count) {
    const std::size_t want = std::min(sizeof(buffer), count - total);
    const long got = recv_some(fd, buffer, want);
    if (got <= 0) break;
    on_bytes(buffer, static_cast<std::size_t>(got));
    total += static_cast<std::size_t>(got);
  }
  return total;
}

/// Writes all of `data`; false when the peer went away.
inline bool write_all(Socket fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const long put = send_some(fd, data.data() + sent, data.size() - sent);
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
