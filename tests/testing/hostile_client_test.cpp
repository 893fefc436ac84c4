// The reference endpoint against hostile clients: compressed and endless chunked bodies, huge
// headers, hundreds of idle connections, slow-header (slowloris) connections, pipelining, and
// more connections than allowed. Every client is bounded in bytes and time (hostile_clients.hpp);
// memory is the test process's VmRSS (the endpoint runs in it), sampled while the attack lasts.
// Liveness bounds ("served within 5 s") are generous on purpose: they catch a server that is
// blocked, not one that is slow.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hostile_clients.hpp"
#include "reference_test_support.hpp"
#include "rvae/testing/reference_endpoint.hpp"

namespace rvae::testing_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kQuery =
    "image_format=jpg&output_type=pt&partial_postprocess=True&shape=1&shape=4&shape=2&shape=2&"
    "dtype=float32";

class HostileClientTest : public EndpointTest {
 protected:
  // A small decode over its own connection; the status line and the time it took.
  std::pair<std::string, Clock::duration> timed_decode() {
    const auto start = Clock::now();
    RawConnection connection(endpoint_->port(), 5000ms);
    std::string head;
    if (connection.connected() &&
        connection.send_all("POST /sd15/decode/?" + kQuery +
                            " HTTP/1.1\r\nHost: x\r\nContent-Type: tensor/binary\r\nAccept: "
                            "tensor/binary\r\nConnection: close\r\nContent-Length: " +
                            std::to_string(body_.size()) + "\r\n\r\n" + body_)) {
      const std::string reply = connection.read_until_close();
      head = reply.substr(0, reply.find("\r\n"));
    }
    return {head, Clock::now() - start};
  }
  void expect_served_promptly(const char* what) {
    const auto [status, elapsed] = timed_decode();
    EXPECT_EQ(status, "HTTP/1.1 200 OK") << what;
    EXPECT_LT(elapsed, 5s) << what;
    std::printf("[ measured ] decode %s: %.1f ms\n", what,
                std::chrono::duration<double, std::milli>(elapsed).count());
  }

  const std::string body_ = to_body(make_latents(16, 3));
};

TEST_F(HostileClientTest, CompressedBodiesAreRefusedUnread) {
  for (const char* encoding : {"gzip", "deflate", "br"}) {
    SCOPED_TRACE(encoding);
    const RawReply reply =
        raw_post(endpoint_->port(), "/sd15/decode/?" + kQuery, std::string(1019, '\x1f'),
                 {"Content-Type: tensor/binary", "Accept: tensor/binary",
                  std::string("Content-Encoding: ") + encoding});
    EXPECT_EQ(reply.status, 415) << reply.head;
    EXPECT_EQ(raw_header(reply.head, "Content-Type"), "application/json");
    EXPECT_EQ(error_text(reply.body), "Content-Encoding `" + std::string(encoding) +
                                          "` is not supported; send the body uncompressed.");
  }
  EXPECT_EQ(endpoint_->stats().inference_requests, 0u);
}

TEST_F(HostileClientTest, ChunkedBodiesAreCountedWhileReading) {
  rvae::reference::ReferenceEndpointOptions options;
  options.max_body_bytes = std::size_t{1} << 20;
  start_with(options);
  // Under the limit, a chunked body is served like any other.
  {
    RawConnection connection(endpoint_->port(), 5000ms);
    char size_line[32];
    std::snprintf(size_line, sizeof(size_line), "%zx\r\n", body_.size());
    ASSERT_TRUE(connection.send_all("POST /sd15/decode/?" + kQuery +
                                    " HTTP/1.1\r\nHost: x\r\nContent-Type: tensor/binary\r\n"
                                    "Accept: tensor/binary\r\nTransfer-Encoding: chunked\r\n"
                                    "Connection: close\r\n\r\n" +
                                    size_line + body_ + "\r\n0\r\n\r\n"));
    const std::string reply = connection.read_until_close();
    EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply.substr(0, 200);
  }
  // 128 chunks of 1 MiB: the server must stop reading at about 1 MiB.
  RssSampler memory;
  std::size_t sent = 0;
  {
    RawConnection connection(endpoint_->port(), 2000ms);
    ASSERT_TRUE(connection.send_all("POST /sd15/decode/?" + kQuery +
                                    " HTTP/1.1\r\nHost: x\r\nContent-Type: tensor/binary\r\n"
                                    "Transfer-Encoding: chunked\r\n\r\n"));
    const std::string chunk = "100000\r\n" + std::string(std::size_t{1} << 20, 'z') + "\r\n";
    for (int i = 0; i < 128 && connection.send_all(chunk); ++i)
      sent += chunk.size();
  }
  memory.stop();
  const double sent_mib = static_cast<double>(sent) / (1 << 20);
  std::printf("[ measured ] endless chunked body: %.1f MiB accepted, RSS +%.1f MiB\n", sent_mib,
              memory.growth_mib());
  // Socket buffers on both ends hold a few MiB; the server itself at most the 1 MiB limit.
  EXPECT_LT(sent_mib, 32.0);
  EXPECT_LT(memory.growth_mib(), 48.0);
  EXPECT_EQ(endpoint_->stats().inference_requests, 1u);  // only the one under the limit
  expect_served_promptly("after an endless chunked body");
}

// The Open Inference Protocol's JSON form has its own, far smaller cap, counted the same way; a
// nesting bomb under it is refused by the depth bound, not by the stack.
TEST_F(HostileClientTest, OpenInferenceJsonBodiesHaveTheirOwnCap) {
  rvae::reference::ReferenceEndpointOptions options;
  options.max_json_body_bytes = std::size_t{4} << 20;
  start_with(options);
  RssSampler memory;
  std::size_t sent = 0;
  {
    RawConnection connection(endpoint_->port(), 2000ms);
    ASSERT_TRUE(connection.send_all(
        "POST /v2/models/sd15_decoder/infer HTTP/1.1\r\nHost: x\r\nContent-Type: "
        "application/json\r\nTransfer-Encoding: chunked\r\n\r\n"));
    std::string numbers;
    while (numbers.size() < (std::size_t{1} << 20))
      numbers += "0.125,";
    char size_line[32];
    std::snprintf(size_line, sizeof(size_line), "%zx\r\n", numbers.size());
    const std::string chunk = size_line + numbers + "\r\n";
    for (int i = 0; i < 128 && connection.send_all(chunk); ++i)
      sent += chunk.size();
  }
  memory.stop();
  const double sent_mib = static_cast<double>(sent) / (1 << 20);
  std::printf("[ measured ] endless chunked JSON: %.1f MiB accepted, RSS +%.1f MiB\n", sent_mib,
              memory.growth_mib());
  EXPECT_LT(sent_mib, 40.0);
  EXPECT_LT(memory.growth_mib(), 64.0);
  EXPECT_EQ(endpoint_->stats().inference_requests, 0u);

  const std::string bomb = std::string(std::size_t{2} << 20, '[') + std::string(2 << 20, ']');
  const RawReply reply = raw_post(endpoint_->port(), "/v2/models/sd15_decoder/infer", bomb,
                                  {"Content-Type: application/json"});
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(error_text(reply.body).find("nests deeper than 32"), std::string::npos)
      << reply.body.substr(0, 200);
  expect_served_promptly("after hostile JSON");
}

TEST_F(HostileClientTest, RequestHeadersAreCapped) {
  // Just over the cap, then silence: the server answers 431 and closes.
  {
    RawConnection connection(endpoint_->port(), 5000ms);
    ASSERT_TRUE(connection.send_all("GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " +
                                    std::string(std::size_t{100} << 10, 'h') + "\r\n\r\n"));
    const std::string reply = connection.read_until_close();
    EXPECT_EQ(reply.rfind("HTTP/1.1 431", 0), 0u) << reply.substr(0, 200);
  }
  // 64 MiB of header lines: the server must stop reading at about the cap.
  RssSampler memory;
  std::size_t sent = 0;
  {
    RawConnection connection(endpoint_->port(), 2000ms);
    ASSERT_TRUE(connection.send_all("POST /sd15/decode/ HTTP/1.1\r\nHost: x\r\n"));
    const std::string line = "X-Pad: " + std::string(16 << 10, 'h') + "\r\n";
    for (int i = 0; i < 4096 && connection.send_all(line); ++i)
      sent += line.size();
  }
  memory.stop();
  const double sent_mib = static_cast<double>(sent) / (1 << 20);
  std::printf("[ measured ] endless headers: %.1f MiB accepted, RSS +%.1f MiB\n", sent_mib,
              memory.growth_mib());
  EXPECT_LT(sent_mib, 32.0);
  EXPECT_LT(memory.growth_mib(), 48.0);
  expect_served_promptly("after endless headers");
}

TEST_F(HostileClientTest, IdleConnectionsDoNotBlockOthers) {
  rvae::reference::ReferenceEndpointOptions options;
  options.keep_alive_timeout = std::chrono::seconds(30);  // the idle ones stay for the test
  start_with(options);
  RssSampler memory;
#ifdef _WIN32
  // Windows has no deferred accept: the server takes a thread for each silent connection too.
  const std::size_t threads_at_start = process_thread_count();
#endif
  // 500 connections that send nothing: the kernel holds them (deferred accept, on Linux).
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 500; ++i) {
    idle.push_back(std::make_unique<RawConnection>(endpoint_->port(), 5000ms));
    ASSERT_TRUE(idle.back()->connected()) << i;
  }
  expect_served_promptly("with 500 silent connections open");
  // 500 that began a request and went quiet: the server holds them, a thread each.
#ifdef _WIN32
  const std::size_t threads_before = threads_at_start + 500;
#else
  const std::size_t threads_before = process_thread_count();
#endif
  std::vector<std::unique_ptr<RawConnection>> started;
  for (int i = 0; i < 500; ++i) {
    started.push_back(std::make_unique<RawConnection>(endpoint_->port(), 5000ms));
    ASSERT_TRUE(started.back()->send_all("GET /health HTTP/1.1\r\n")) << i;
  }
  // Timed once the server holds them all, not while its accept backlog drains (slow under
  // sanitizers).
  const auto accept_deadline = Clock::now() + 60s;
  while (process_thread_count() < threads_before + 500 && Clock::now() < accept_deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_GE(process_thread_count(), threads_before + 500);
  expect_served_promptly("with 500 idle mid-request connections open");
  auto health = http_->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->body, "Ok");
  memory.stop();
  std::printf("[ measured ] 500 silent + 500 idle mid-request connections: RSS +%.1f MiB\n",
              memory.growth_mib());
  // stop() does not wait for them.
  const auto start = Clock::now();
  endpoint_->stop();
  EXPECT_LT(Clock::now() - start, 10s);
}

TEST_F(HostileClientTest, SlowHeaderClientsDoNotBlockOthers) {
  // 16 slowloris connections, each sending a header byte every 100 ms for 3 s.
  std::atomic<bool> done{false};
  std::vector<std::thread> slow;
  for (int i = 0; i < 16; ++i) {
    slow.emplace_back([&] {
      RawConnection connection(endpoint_->port(), 2000ms);
      if (!connection.send_all("POST /sd15/decode/ HTTP/1.1\r\nHost: x\r\nX-Slow: ")) return;
      for (int n = 0; n < 30 && !done; ++n) {
        if (!connection.send_all("s")) return;
        std::this_thread::sleep_for(100ms);
      }
    });
  }
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < 3; ++i)
    expect_served_promptly("with 16 slowloris connections");
  done = true;
  for (std::thread& t : slow)
    t.join();
}

TEST_F(HostileClientTest, SilentConnectionsAreClosed) {
  // keep_alive_timeout is 1 s by default: silence between and within requests ends the
  // connection.
  RawConnection half_request(endpoint_->port(), 5000ms);
  ASSERT_TRUE(half_request.send_all("POST /sd15/decode/ HTTP/1.1\r\nHost: x\r\nCont"));
  RawConnection after_reply(endpoint_->port(), 5000ms);
  ASSERT_TRUE(after_reply.send_all("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto start = Clock::now();
  EXPECT_TRUE(half_request.peer_closed());
  EXPECT_TRUE(after_reply.peer_closed());  // reads the reply, then sees the close
  EXPECT_LT(Clock::now() - start, 5s);
  // One that never sends a byte waits in the kernel for the deferred-accept period (10 s, in
  // SYN-ACK retransmissions), then gets the same timeout.
  RawConnection silent(endpoint_->port(), 60000ms);
  EXPECT_TRUE(silent.peer_closed());
  EXPECT_LT(Clock::now() - start, 60s);
}

TEST_F(HostileClientTest, PipelinedRequestsAreAnsweredOrClosedCleanly) {
  // Three requests in one write. Each reply that comes must answer the request in its place, and
  // if fewer than three come, the last must say `Connection: close` and the connection must
  // close: a client is told which requests to send again, none is dropped silently.
  // (libmicrohttpd answers the first and closes.)
  const std::string decode = "POST /sd15/decode/?" + kQuery +
                             " HTTP/1.1\r\nHost: x\r\nContent-Type: tensor/binary\r\nAccept: "
                             "tensor/binary\r\nContent-Length: " +
                             std::to_string(body_.size()) + "\r\n\r\n" + body_;
  for (int order = 0; order < 2; ++order) {
    SCOPED_TRACE(order == 0 ? "health first" : "decode first");
    const std::string health = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    RawConnection connection(endpoint_->port(), 5000ms);
    const auto start = Clock::now();
    ASSERT_TRUE(
        connection.send_all((order == 0 ? health + decode : decode + health) +
                            "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    const std::string replies = connection.read_until_close();
    EXPECT_LT(Clock::now() - start, 4s);  // ended by the server's close, not the read timeout
    std::vector<std::size_t> starts;
    for (std::size_t at = replies.find("HTTP/1.1 "); at != std::string::npos;
         at = replies.find("HTTP/1.1 ", at + 1)) {
      starts.push_back(at);
    }
    ASSERT_GE(starts.size(), 1u);
    ASSERT_LE(starts.size(), 3u);
    starts.push_back(replies.size());
    for (std::size_t n = 0; n + 1 < starts.size(); ++n) {
      const auto [head, body] = split_reply(replies.substr(starts[n], starts[n + 1] - starts[n]));
      EXPECT_EQ(head.substr(0, 12), "HTTP/1.1 200") << head;
      const bool is_health = (n == 0) == (order == 0);
      if (n == 2) {
        EXPECT_EQ(body.rfind("inf_batch_current_size", 0), 0u) << body;
      } else if (is_health) {
        EXPECT_EQ(body, "Ok");
      } else {
        EXPECT_EQ(raw_header(head, "shape"), "[1,16,16,3]");
        EXPECT_EQ(body.size(), 16u * 16 * 3);
      }
      if (n + 2 == starts.size() && starts.size() < 4) {
        EXPECT_EQ(raw_header(head, "Connection"), "close") << head;
      }
    }
  }
}

TEST_F(HostileClientTest, ConnectionsBeyondTheLimitAreClosed) {
  rvae::reference::ReferenceEndpointOptions options;
  options.max_connections = 8;
  start_with(options);
  // Each sends a byte, or the kernel would not hand it to the server (deferred accept).
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::make_unique<RawConnection>(endpoint_->port(), 2000ms));
    ASSERT_TRUE(held.back()->send_all("G"));
  }
  std::this_thread::sleep_for(200ms);
  RawConnection extra(endpoint_->port(), 2000ms);
  ASSERT_TRUE(extra.connected());  // the kernel accepts it; the server closes it at once
  ASSERT_TRUE(extra.send_all("G"));
  EXPECT_TRUE(extra.peer_closed());
  held.clear();
  std::this_thread::sleep_for(200ms);
  expect_served_promptly("after the connection limit was reached");
}

}  // namespace
}  // namespace rvae::testing_test
