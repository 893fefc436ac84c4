// Plain HTTP request/response values passed between the protocol layer and the transport.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rvae/bytes.hpp"

namespace rvae::protocol {

struct Header {
  std::string name;
  std::string value;
};

/// A request as the protocol wants it on the wire. The transport adds only transport-level
/// headers (User-Agent, an empty Expect:, Authorization); when `headers` has no Content-Type the
/// transport must send none at all (libcurl would otherwise add a form Content-Type).
struct HttpRequest {
  std::string method = "POST";
  /// The query the protocol asks for ("a=1&b=2", no '?'), independent of any endpoint.
  std::string query;
  /// Where the transport sends it: an endpoint with `query` appended (compose_url), set once
  /// the replica is chosen.
  std::string url;
  std::vector<Header> headers;  ///< In the order they are sent.

  /// Body the request owns (e.g. an encoded PNG). When empty, `borrowed_body` is sent instead.
  Bytes owned_body;
  /// Body borrowed from the caller (tensor bytes sent without a copy); must outlive the send.
  const std::uint8_t* borrowed_body = nullptr;
  std::size_t borrowed_body_size = 0;

  const std::uint8_t* body_data() const noexcept {
    return owned_body.empty() ? borrowed_body : owned_body.data();
  }
  std::size_t body_size() const noexcept {
    return owned_body.empty() ? borrowed_body_size : owned_body.size();
  }
  /// Value of the first header with this name (case-insensitive); nullptr when absent.
  const std::string* header(std::string_view name) const noexcept;
};

/// A reply as received. Header names keep the server's spelling; look them up with header().
struct HttpResponse {
  int status = 0;
  std::vector<Header> headers;
  Bytes body;

  /// Value of the first header with this name (case-insensitive); nullptr when absent.
  const std::string* header(std::string_view name) const noexcept;
};

/// ASCII case-insensitive equality, for header names.
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace rvae::protocol
