// The few socket calls the tests' servers and clients make, the same on POSIX and on Windows
// (Winsock: started once, SOCKET handles, closesocket, WSAPoll, timeouts in milliseconds).
#pragma once

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#endif

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace rvae::testing_support {

#ifdef _WIN32
using Socket = SOCKET;
constexpr Socket kNoSocket = INVALID_SOCKET;
using PollEntry = WSAPOLLFD;
constexpr int kShutdownBoth = SD_BOTH;
#else
using Socket = int;
constexpr Socket kNoSocket = -1;
using PollEntry = pollfd;
constexpr int kShutdownBoth = SHUT_RDWR;
#endif

/// Winsock needs WSAStartup before the first call (once per process; never undone, so sockets
/// of static objects stay usable to the end). Nothing to do on POSIX.
inline void start_sockets() {
#ifdef _WIN32
  static const bool started = [] {
    WSADATA data;
    return ::WSAStartup(MAKEWORD(2, 2), &data) == 0;
  }();
  (void)started;
#endif
}

/// A TCP socket (not inherited by child processes).
inline Socket tcp_socket() {
  start_sockets();
#ifdef _WIN32
  // Overlapped, as socket() makes them: SO_RCVTIMEO works only on those.
  return ::WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0,
                      WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
#else
  return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
#endif
}

inline void close_socket(Socket socket) {
  if (socket == kNoSocket) return;
#ifdef _WIN32
  ::closesocket(socket);
#else
  ::close(socket);
#endif
}

/// 127.0.0.1:port.
inline sockaddr_in loopback_address(int port = 0) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  return address;
}

/// The port a socket is bound to; -1 when it cannot be read.
inline int local_port(Socket socket) {
  sockaddr_in address{};
  socklen_t length = sizeof(address);
  if (::getsockname(socket, reinterpret_cast<sockaddr*>(&address), &length) != 0) return -1;
  return ntohs(address.sin_port);
}

/// Bytes sent (> 0), or <= 0 when the peer went away; never raises SIGPIPE.
inline long send_some(Socket socket, const char* data, std::size_t size) {
#ifdef _WIN32
  const int chunk = size > 0x40000000 ? 0x40000000 : static_cast<int>(size);
  return ::send(socket, data, chunk, 0);
#else
  return static_cast<long>(::send(socket, data, size, MSG_NOSIGNAL));
#endif
}

/// Bytes received (> 0), 0 at end of stream, < 0 on an error or a timeout.
inline long recv_some(Socket socket, char* buffer, std::size_t size) {
#ifdef _WIN32
  const int chunk = size > 0x40000000 ? 0x40000000 : static_cast<int>(size);
  return ::recv(socket, buffer, chunk, 0);
#else
  return static_cast<long>(::recv(socket, buffer, size, 0));
#endif
}

inline int set_int_option(Socket socket, int level, int name, int value) {
  return ::setsockopt(socket, level, name, reinterpret_cast<const char*>(&value), sizeof(value));
}

/// SO_RCVTIMEO and SO_SNDTIMEO: a timeval on POSIX, milliseconds on Windows.
inline void set_timeouts(Socket socket, std::chrono::milliseconds timeout) {
#ifdef _WIN32
  const DWORD ms = static_cast<DWORD>(timeout.count());
  ::setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, reinterpret_cast<const char*>(&ms), sizeof(ms));
  ::setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, reinterpret_cast<const char*>(&ms), sizeof(ms));
#else
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
#endif
}

inline bool set_nonblocking(Socket socket, bool on) {
#ifdef _WIN32
  u_long mode = on ? 1 : 0;
  return ::ioctlsocket(socket, FIONBIO, &mode) == 0;
#else
  const int flags = ::fcntl(socket, F_GETFL, 0);
  if (flags < 0) return false;
  return ::fcntl(socket, F_SETFL, on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK)) == 0;
#endif
}

/// poll(2) / WSAPoll.
inline int poll_sockets(PollEntry* entries, std::size_t count, int timeout_ms) {
#ifdef _WIN32
  return ::WSAPoll(entries, static_cast<ULONG>(count), timeout_ms);
#else
  return ::poll(entries, static_cast<nfds_t>(count), timeout_ms);
#endif
}

/// The last socket call's failure was a reset by the peer.
inline bool last_error_was_reset() {
#ifdef _WIN32
  const int error = ::WSAGetLastError();
  return error == WSAECONNRESET || error == WSAECONNABORTED;
#else
  return errno == ECONNRESET;
#endif
}

/// The last socket call would have blocked (a non-blocking socket, or a timeout).
inline bool last_error_was_would_block() {
#ifdef _WIN32
  const int error = ::WSAGetLastError();
  return error == WSAEWOULDBLOCK || error == WSAETIMEDOUT;
#else
  return errno == EAGAIN || errno == EWOULDBLOCK;
#endif
}

}  // namespace rvae::testing_support
