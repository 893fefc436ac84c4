// Why host:port cannot be listened on, asked of the system directly (the server's own error
// does not carry the cause): "address already in use", "permission denied", ... or "" when a
// socket binds there now. bind_problem_posix.cpp and bind_problem_win32.cpp (Winsock).
#pragma once

#include <string>

namespace rvae::cli {

std::string bind_problem(const std::string& host, int port);

}  // namespace rvae::cli
