// Shared helpers for the protocol tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol/protocol.hpp"
#include "support/result_matchers.hpp"

namespace rvae::protocol::test {

/// A request as the client sends it to one replica: with the URL composed from the endpoint
/// and the request's query.
template <typename Request>
struct Composed : Request {
  std::string url;
};

/// The endpoint validated first, then the request built and its URL composed.
inline Result<Composed<DecodeRequest>> decode_request_for(std::string_view endpoint,
                                                          const TensorView& latents,
                                                          const DecodeOptions& options) {
  if (Result<void> valid = validate_endpoint(endpoint); !valid) return std::move(valid).error();
  Result<DecodeRequest> request = build_decode_request(latents, options);
  if (!request) return std::move(request).error();
  std::string url = compose_url(endpoint, request->query);
  return Composed<DecodeRequest>{{std::move(request).value()}, std::move(url)};
}
template <typename Input>
Result<Composed<EncodeRequest>> encode_request_for(std::string_view endpoint, const Input& input,
                                                   const EncodeOptions& options) {
  if (Result<void> valid = validate_endpoint(endpoint); !valid) return std::move(valid).error();
  Result<EncodeRequest> request = build_encode_request(input, options);
  if (!request) return std::move(request).error();
  std::string url = compose_url(endpoint, request->query);
  return Composed<EncodeRequest>{{std::move(request).value()}, std::move(url)};
}

/// The one piece of a request body (every request of this protocol has one, or none).
inline http::BodyPiece only_piece(const http::HttpRequest& request) {
  const auto& pieces = request.body.pieces();
  return pieces.size() == 1 ? pieces.front() : http::BodyPiece{};
}

inline Bytes to_bytes(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

/// n bytes of a simple non-constant pattern, so misplaced slices are noticed.
inline Bytes pattern_bytes(std::size_t n, unsigned seed = 0) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<std::uint8_t>((i * 31u + seed) & 0xFF);
  return out;
}

inline HttpResponse make_response(int status, std::vector<Header> headers, Bytes body) {
  HttpResponse response;
  response.status = status;
  response.headers = std::move(headers);
  response.body = std::move(body);
  return response;
}

inline HttpResponse tensor_response(std::string shape, std::string dtype, Bytes body) {
  return make_response(200, {{"shape", std::move(shape)}, {"dtype", std::move(dtype)}},
                       std::move(body));
}

/// "Name: value\n" per header, in order: compared as one string for a readable diff.
inline std::string header_lines(const std::vector<Header>& headers) {
  std::string out;
  for (const Header& h : headers)
    out += h.name + ": " + h.value + "\n";
  return out;
}

/// An image with distinct pixel values.
inline Image pattern_image(int width, int height, int channels = 3, unsigned seed = 0) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels = pattern_bytes(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                                   static_cast<std::size_t>(channels),
                               seed);
  return image;
}

}  // namespace rvae::protocol::test
