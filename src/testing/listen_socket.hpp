// The reference endpoint's listening socket, bound here rather than by libmicrohttpd so the
// endpoint controls the address options (no SO_REUSEPORT), the backlog and port 0.
#pragma once

#include <cstdint>
#include <string>

#include "rvae/error.hpp"

namespace rvae::reference {

/// A bound, listening TCP socket.
struct ListenSocket {
  // A file descriptor, or a Winsock SOCKET (INVALID_SOCKET is -1 here): both fit, and
  // libmicrohttpd's MHD_socket is the platform's own type.
  std::intptr_t fd = -1;
  int port = -1;
  bool ipv6 = false;
};

/// Binds `host:port` (port 0: any free port) and listens with the system's largest backlog.
/// Unavailable when nothing can be bound.
Result<ListenSocket> open_listen_socket(const std::string& host, int port);

/// Closes a socket open_listen_socket returned that was not handed over to libmicrohttpd.
void close_listen_socket(const ListenSocket& socket);

}  // namespace rvae::reference
