// Binding the reference endpoint's address with POSIX sockets.
#include "testing/listen_socket.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace rvae::reference {
namespace {

constexpr int kDeferAcceptSeconds = 10;

}  // namespace

Result<ListenSocket> open_listen_socket(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int status =
      ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  const std::string where = host + ":" + service;
  if (status != 0) {
    return Error(ErrorCode::kUnavailable,
                 "cannot bind " + where + ": " + std::string(::gai_strerror(status)));
  }
  std::string failure = "no address";
  ListenSocket out;
  for (addrinfo* a = found; a != nullptr && out.fd < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR allows quick restarts; SO_REUSEPORT is left off so a second endpoint cannot
    // bind a port that is already serving.
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    // Connections that send nothing are not worth a thread: the kernel hands one over only once
    // its first bytes arrive (or, after the defer period, lets the server time it out), so a
    // crowd of idle sockets costs the server neither threads nor accept work.
    int defer_seconds = kDeferAcceptSeconds;
    ::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_seconds, sizeof(defer_seconds));
    // A burst of new connections (a client opening many at once) must not see SYNs dropped.
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      failure = std::strerror(errno);
      ::close(fd);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof(bound);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
      failure = std::strerror(errno);
      ::close(fd);
      continue;
    }
    out.fd = fd;
    out.ipv6 = bound.ss_family == AF_INET6;
    out.port = out.ipv6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                        : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  ::freeaddrinfo(found);
  if (out.fd < 0) return Error(ErrorCode::kUnavailable, "cannot bind " + where + ": " + failure);
  return out;
}

void close_listen_socket(const ListenSocket& socket) {
  if (socket.fd >= 0) ::close(static_cast<int>(socket.fd));
}

}  // namespace rvae::reference
