// Binding the reference endpoint's address with Winsock.
#include "testing/listen_socket.hpp"

#include <winsock2.h>
#include <ws2tcpip.h>

#include <mutex>
#include <string>

namespace rvae::reference {
namespace {

// Winsock must be started before the first socket call. The count WSAStartup keeps is never
// dropped: the endpoint may be started and stopped many times in one process, and libmicrohttpd
// relies on Winsock staying up until the process ends.
int start_winsock() {
  static std::once_flag once;
  static int status = 0;
  std::call_once(once, [] {
    WSADATA data;
    status = ::WSAStartup(MAKEWORD(2, 2), &data);
  });
  return status;
}

std::string winsock_message(int code) {
  char* text = nullptr;
  const DWORD length = ::FormatMessageA(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, static_cast<DWORD>(code), 0, reinterpret_cast<char*>(&text), 0, nullptr);
  std::string message = length > 0 && text != nullptr ? std::string(text, length)
                                                      : "Winsock error " + std::to_string(code);
  if (text != nullptr) ::LocalFree(text);
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r' ||
                              message.back() == ' ' || message.back() == '.')) {
    message.pop_back();
  }
  return message;
}

}  // namespace

Result<ListenSocket> open_listen_socket(const std::string& host, int port) {
  const std::string service = std::to_string(port);
  const std::string where = host + ":" + service;
  if (const int status = start_winsock(); status != 0) {
    return Error(ErrorCode::kUnavailable, "cannot bind " + where + ": " + winsock_message(status));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int status =
      ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  if (status != 0) {
    return Error(ErrorCode::kUnavailable, "cannot bind " + where + ": " + winsock_message(status));
  }
  std::string failure = "no address";
  ListenSocket out;
  for (addrinfo* a = found; a != nullptr && out.fd < 0; a = a->ai_next) {
    // Not inherited by child processes (the CLI's tests start some while serving).
    const SOCKET fd = ::WSASocketW(a->ai_family, a->ai_socktype, a->ai_protocol, nullptr, 0,
                                   WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (fd == INVALID_SOCKET) continue;
    // Windows' SO_REUSEADDR would let a second socket take over a port in use; exclusive use is
    // what keeps a second endpoint off a serving port here (a closed port is reusable at once).
    BOOL yes = TRUE;
    ::setsockopt(fd, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&yes),
                 sizeof(yes));
    // There is no TCP_DEFER_ACCEPT: an idle connection holds a server thread until the
    // endpoint's keep-alive timeout closes it.
    if (::bind(fd, a->ai_addr, static_cast<int>(a->ai_addrlen)) != 0 ||
        ::listen(fd, SOMAXCONN) != 0) {
      failure = winsock_message(::WSAGetLastError());
      ::closesocket(fd);
      continue;
    }
    sockaddr_storage bound{};
    int length = sizeof(bound);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
      failure = winsock_message(::WSAGetLastError());
      ::closesocket(fd);
      continue;
    }
    out.fd = static_cast<std::intptr_t>(fd);
    out.ipv6 = bound.ss_family == AF_INET6;
    out.port = out.ipv6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                        : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  ::freeaddrinfo(found);
  if (out.fd < 0) return Error(ErrorCode::kUnavailable, "cannot bind " + where + ": " + failure);
  return out;
}

void close_listen_socket(const ListenSocket& socket) {
  if (socket.fd >= 0) ::closesocket(static_cast<SOCKET>(socket.fd));
}

}  // namespace rvae::reference
