#include <winsock2.h>
#include <ws2tcpip.h>

#include <cctype>
#include <cstdint>

#include "bind_problem.hpp"

namespace rvae::cli {
namespace {

// The words POSIX systems use for the causes a user can act on, so that messages read alike.
std::string text_of(int error) {
  switch (error) {
    case WSAEADDRINUSE:
      return "address already in use";
    case WSAEACCES:
      return "permission denied";
    case WSAEADDRNOTAVAIL:
      return "cannot assign requested address";
    default:
      break;
  }
  char buffer[256] = {};
  const DWORD size =
      ::FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                       static_cast<DWORD>(error), 0, buffer, sizeof(buffer), nullptr);
  std::string text(buffer, size);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == '.'))
    text.pop_back();
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text.empty() ? "socket error " + std::to_string(error) : text;
}

}  // namespace

std::string bind_problem(const std::string& host, int port) {
  WSADATA data{};
  if (::WSAStartup(MAKEWORD(2, 2), &data) != 0) return "Winsock is unavailable";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  std::string problem;
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    problem = "'" + host + "' is not an IPv4 address";
  } else if (const SOCKET fd = ::socket(AF_INET, SOCK_STREAM, 0); fd == INVALID_SOCKET) {
    problem = text_of(::WSAGetLastError());
  } else {
    // Without SO_REUSEADDR: on Windows it would let this socket share a port in use.
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      problem = text_of(::WSAGetLastError());
    }
    ::closesocket(fd);
  }
  ::WSACleanup();
  return problem;
}

}  // namespace rvae::cli
