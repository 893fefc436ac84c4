// An in-process HTTP server for tests: binds 127.0.0.1 on a free port, records every request and
// answers as the test scripts it.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/test_socket.hpp"

namespace rvae::testing_support {

/// One request as the server saw it.
struct RecordedRequest {
  std::string method;
  std::string target;  ///< Path and raw query string, exactly as sent.
  std::string path;
  httplib::Headers headers;
  std::string body;
  int remote_port = 0;

  bool has_header(const std::string& name) const { return headers.count(name) > 0; }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class ScriptedServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  /// Starts on 127.0.0.1 with a free port; by default answers 200 with an empty body.
  ScriptedServer() {
    auto dispatch = [this](const httplib::Request& request, httplib::Response& response) {
      Handler handler;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back({request.method, request.target, request.path, request.headers,
                             request.body, request.remote_port});
        handler = handler_;
      }
      if (handler) handler(request, response);
    };
    server_.Get(".*", dispatch);
    server_.Post(".*", dispatch);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Connections made before the accept loop runs wait in the backlog, but stop() is a no-op
    // until the loop runs, so the destructor could not stop a server that never got going.
    while (!server_.is_running())
      std::this_thread::yield();
  }

  ~ScriptedServer() {
    release_stalls();
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  void set_handler(Handler handler) {
    std::lock_guard<std::mutex> lock(mutex_);
    handler_ = std::move(handler);
  }

  std::vector<RecordedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

  /// Blocks the calling handler until the server is destroyed (or release_stalls is called):
  /// lets a test provoke client timeouts without sleeping in the test itself.
  void stall() {
    std::unique_lock<std::mutex> lock(stall_mutex_);
    stall_released_.wait(lock, [this] { return stalls_released_; });
  }
  void release_stalls() {
    {
      std::lock_guard<std::mutex> lock(stall_mutex_);
      stalls_released_ = true;
    }
    stall_released_.notify_all();
  }

 private:
  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  mutable std::mutex mutex_;
  Handler handler_;
  std::vector<RecordedRequest> requests_;
  std::mutex stall_mutex_;
  std::condition_variable stall_released_;
  bool stalls_released_ = false;
};

/// A port on 127.0.0.1 that nothing listens on (bound, then closed).
inline int unused_port() {
  const Socket fd = tcp_socket();
  const sockaddr_in address = loopback_address();
  int port = -1;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) {
    port = local_port(fd);
  }
  close_socket(fd);  // Never listened on: connecting to it is refused.
  return port;
}

}  // namespace rvae::testing_support
