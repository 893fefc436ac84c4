// The reference endpoint's listening socket, bound here rather than by libmicrohttpd so the
// endpoint controls the address options (no SO_REUSEPORT), the backlog and port 0.
#pragma once

#include <string>

#include "rvae/error.hpp"

namespace rvae::reference {

/// A bound, listening TCP socket.
struct ListenSocket {
  int fd = -1;
  int port = -1;
  bool ipv6 = false;
};

/// Binds `host:port` (port 0: any free port) and listens with the system's largest backlog.
/// Unavailable when nothing can be bound.
Result<ListenSocket> open_listen_socket(const std::string& host, int port);

}  // namespace rvae::reference
