// The HTTP transport behind a small interface, so the layers above are testable without sockets.
#pragma once

#include <memory>

#include "protocol/http_message.hpp"
#include "rvae/client.hpp"
#include "rvae/error.hpp"

namespace rvae::transport {

/// Sends one request and returns the full reply, or a transport-level Error (connect failure,
/// timeout, reply too large, body cut short). HTTP error statuses are not Errors here: the
/// protocol layer interprets them. Implementations are thread-safe.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<protocol::HttpResponse> send(const protocol::HttpRequest& request) = 0;
};

/// The libcurl transport: a pool of easy handles whose connections stay open between requests.
std::unique_ptr<Transport> make_curl_transport(const ClientOptions& options);

}  // namespace rvae::transport
