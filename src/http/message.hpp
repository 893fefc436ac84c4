// The HTTP vocabulary shared by the wire protocols (which build requests and read replies) and
// the transport (which moves them): requests, replies, headers. Nothing here knows a protocol.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rvae/bytes.hpp"

namespace rvae::http {

struct Header {
  std::string name;
  std::string value;
};

/// One contiguous run of a request body.
struct BodyPiece {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
};

/// A request body: pieces sent one after another without being copied together, so an owned
/// header can precede a tensor borrowed from the caller. Move-only, since owned pieces point
/// into buffers this body keeps (a moved std::vector keeps its data pointer).
class Body {
 public:
  Body() = default;
  Body(Body&&) noexcept = default;
  Body& operator=(Body&&) noexcept = default;
  Body(const Body&) = delete;
  Body& operator=(const Body&) = delete;

  /// Appends bytes the body keeps (e.g. an encoded PNG, a JSON header).
  void append_owned(Bytes bytes);
  /// Appends bytes borrowed from the caller; they must outlive every send of this body.
  void append_borrowed(const std::uint8_t* data, std::size_t size);

  const std::vector<BodyPiece>& pieces() const noexcept { return pieces_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

 private:
  std::vector<Bytes> owned_;
  std::vector<BodyPiece> pieces_;
  std::size_t size_ = 0;
};

/// A request as a protocol wants it on the wire, for any endpoint: where it goes is given to
/// the transport beside it. The transport adds only transport-level headers (User-Agent, an
/// empty Expect:, Authorization); when `headers` has no Content-Type the transport must send
/// none at all (libcurl would otherwise add a form Content-Type).
struct HttpRequest {
  std::string method = "POST";
  std::vector<Header> headers;  ///< In the order they are sent.
  Body body;

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

/// Value of the first header with this name (case-insensitive); nullptr when absent.
const std::string* find_header(const std::vector<Header>& headers, std::string_view name) noexcept;

/// The first header of this name as a plain decimal number (digits only, no overflow); nullopt
/// when absent or anything else (its parser then reports it).
std::optional<std::size_t> find_decimal_header(const std::vector<Header>& headers,
                                               std::string_view name) noexcept;

}  // namespace rvae::http
