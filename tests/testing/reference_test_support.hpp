// Shared helpers for the reference endpoint tests: PROTOCOL.md §6's tables from the hand-typed
// copy in support/published_models.hpp (so expectations do not come from the implementation),
// latent generators, and raw HTTP helpers.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "rvae/client.hpp"
#include "rvae/tensor.hpp"
#include "rvae/testing/reference_endpoint.hpp"
#include "support/published_models.hpp"
#include "support/test_socket.hpp"

namespace rvae::testing_test {

/// The latents of an encode result (these tests look at the tensor only).
inline rvae::Result<rvae::Tensor> latents_only(rvae::Result<rvae::EncodeOutput>&& result) {
  if (!result) return std::move(result).error();
  return std::move(result->latents);
}

/// One model of PROTOCOL.md §1 and §6, in the short names of §6's formulas.
struct ModelTable {
  const char* name;
  int channels;
  double s0;
  double t0;
  std::vector<double> f;  // channels x 3
  double b[3];
};

/// The models of support/published_models.hpp (the document typed in by hand).
inline const std::vector<ModelTable>& model_tables() {
  static const std::vector<ModelTable> tables = [] {
    std::vector<ModelTable> out;
    for (const rvae::published::PublishedModel& m : rvae::published::published_models()) {
      out.push_back({m.name.c_str(),
                     m.latent_channels,
                     m.scaling_factor,
                     m.shift_factor.value_or(0.0),
                     m.f,
                     {m.b[0], m.b[1], m.b[2]}});
    }
    return out;
  }();
  return tables;
}

inline const ModelTable& table(const std::string& name) {
  for (const ModelTable& t : model_tables()) {
    if (name == t.name) return t;
  }
  throw std::runtime_error("no table " + name);
}

/// rgb in [-1,1] of one raw latent pixel z (C values), PROTOCOL.md §6.
inline std::vector<double> expected_rgb(const ModelTable& t, const std::vector<double>& z) {
  std::vector<double> rgb(3);
  for (int k = 0; k < 3; ++k) {
    double sum = t.b[k];
    for (int c = 0; c < t.channels; ++c)
      sum +=
          t.f[static_cast<std::size_t>(c * 3 + k)] * (z[static_cast<std::size_t>(c)] - t.t0) * t.s0;
    rgb[static_cast<std::size_t>(k)] = std::min(1.0, std::max(-1.0, sum));
  }
  return rgb;
}

/// Deterministic latents with a spread of magnitudes (some large enough to clamp).
inline std::vector<float> make_latents(std::size_t count, int seed) {
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i) {
    const double phase = 0.731 * static_cast<double>(i) + 0.37 * seed;
    double v = 3.0 * std::sin(phase) + 1.5 * std::cos(2.3 * phase);
    if (i % 29 == 7) v *= 12.0;
    values[i] = static_cast<float>(v);
  }
  return values;
}

inline std::string to_body(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

inline rvae::TensorView view_of(const std::vector<float>& values, rvae::Shape shape) {
  return rvae::TensorView{values.data(), values.size() * sizeof(float), std::move(shape),
                          rvae::DType::kFloat32};
}

/// "shape=1&shape=4&..." for a shape.
inline std::string shape_query(const rvae::Shape& shape) {
  std::string out;
  for (std::int64_t d : shape)
    out += (out.empty() ? "" : "&") + ("shape=" + std::to_string(d));
  return out;
}

/// Level a uint8 reply must hold for rgb value v, and whether v sits too close to a rounding
/// boundary for float-vs-double arithmetic to agree (then +-1 is allowed).
inline int expected_level(double v, bool* near_tie) {
  const double scaled = (v + 1.0) * 127.5;
  const double frac = scaled - std::floor(scaled);
  *near_tie = std::fabs(frac - 0.5) < 1e-3;
  return static_cast<int>(std::lround(scaled));
}

/// The error text of a JSON error body {"error": "..."}.
inline std::string error_text(const std::string& body) {
  const std::string key = "{\"error\": \"";
  if (body.rfind(key, 0) != 0 || body.size() < key.size() + 2) return "<not an error body>";
  return body.substr(key.size(), body.size() - key.size() - 2);
}

/// A started endpoint on 127.0.0.1:<any> plus a raw httplib client to it.
class EndpointTest : public ::testing::Test {
 protected:
  void SetUp() override { start_with({}); }

  void start_with(rvae::reference::ReferenceEndpointOptions options) {
    http_.reset();
    endpoint_ = std::make_unique<rvae::reference::ReferenceEndpoint>(std::move(options));
    rvae::Result<void> started = endpoint_->start();
    ASSERT_TRUE(started) << started.error().what();
    http_ = std::make_unique<httplib::Client>("127.0.0.1", endpoint_->port());
    http_->set_read_timeout(30, 0);
  }

  httplib::Result post(const std::string& path_and_query, const std::string& body,
                       const std::string& content_type, const std::string& accept) {
    httplib::Headers headers;
    if (!accept.empty()) headers.emplace("Accept", accept);
    return http_->Post(path_and_query, headers, body, content_type);
  }

  std::unique_ptr<rvae::reference::ReferenceEndpoint> endpoint_;
  std::unique_ptr<httplib::Client> http_;
};

/// Sends raw bytes to 127.0.0.1:port and returns everything read until the server closes (or
/// 30 s pass). For replies whose framing is deliberately broken.
inline std::string raw_exchange(int port, const std::string& request) {
  using namespace testing_support;
  const Socket fd = tcp_socket();
  if (fd == kNoSocket) return {};
  set_timeouts(fd, std::chrono::seconds(30));
  const sockaddr_in address = loopback_address(port);
  std::string reply;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) {
    std::size_t sent = 0;
    while (sent < request.size()) {
      const long n = send_some(fd, request.data() + sent, request.size() - sent);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    char buffer[65536];
    for (;;) {
      const long n = recv_some(fd, buffer, sizeof(buffer));
      if (n <= 0) break;
      reply.append(buffer, static_cast<std::size_t>(n));
    }
  }
  close_socket(fd);
  return reply;
}

/// A reply read by raw_post.
struct RawReply {
  int status = 0;
  std::string head;
  std::string body;
};

/// POSTs `body` with exactly the given extra header lines (each "Name: value"), and nothing
/// else but Host, Content-Length and Connection: close; for requests an HTTP library would add
/// headers to (httplib sends Content-Type: text/plain when given none).
inline RawReply raw_post(int port, const std::string& path, const std::string& body,
                         const std::vector<std::string>& header_lines);

/// Splits a raw HTTP reply into head (status line + headers) and body.
inline std::pair<std::string, std::string> split_reply(const std::string& reply) {
  const std::size_t end = reply.find("\r\n\r\n");
  if (end == std::string::npos) return {reply, {}};
  return {reply.substr(0, end + 2), reply.substr(end + 4)};
}

/// A header's value from a raw head, matched case-insensitively; empty when absent.
inline std::string raw_header(const std::string& head, const std::string& name) {
  std::string lower_head = head;
  std::string lower_name = name;
  std::transform(lower_head.begin(), lower_head.end(), lower_head.begin(), ::tolower);
  std::transform(lower_name.begin(), lower_name.end(), lower_name.begin(), ::tolower);
  const std::size_t at = lower_head.find("\r\n" + lower_name + ":");
  if (at == std::string::npos) return {};
  std::size_t start = at + 2 + name.size() + 1;
  while (start < head.size() && head[start] == ' ')
    ++start;
  const std::size_t end = head.find("\r\n", start);
  return head.substr(start, end - start);
}

inline RawReply raw_post(int port, const std::string& path, const std::string& body,
                         const std::vector<std::string>& header_lines) {
  std::string request = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const std::string& line : header_lines)
    request += line + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  request += body;
  const std::string reply = raw_exchange(port, request);
  RawReply out;
  std::tie(out.head, out.body) = split_reply(reply);
  if (out.head.rfind("HTTP/1.1 ", 0) == 0 && out.head.size() > 12) {
    out.status = std::atoi(out.head.substr(9, 3).c_str());
  }
  return out;
}

}  // namespace rvae::testing_test
