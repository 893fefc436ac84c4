#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/scripted_server.hpp"
#include "support/test_data.hpp"
#include "transport/transport.hpp"
#include "transport/url.hpp"

namespace rvae::transport {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::random_bytes;
using testing_support::ScriptedServer;

// A POST and where it goes.
struct Post {
  std::string url;
  std::shared_ptr<http::HttpRequest> request;
};

Post post(const std::string& url, const std::string& body) {
  auto request = std::make_shared<http::HttpRequest>();
  request->body.append_owned(Bytes(body.begin(), body.end()));
  return {url, std::move(request)};
}

TransferResult send(Transport& transport, const Post& post, TransferOptions options = {}) {
  return transport.send(post.url, post.request, std::move(options));
}

TEST(CurlTransportTest, SendsBodyAndHeadersExactlyAndReturnsTheReply) {
  ScriptedServer server;
  const std::string reply_body = random_bytes(3 << 20, 2);
  server.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.set_header("shape", "[1,3,512,512]");
    response.set_content(reply_body, "application/octet-stream");
  });
  const std::string body = random_bytes(5 << 20, 1);  // Over 1 MiB: where Expect: would stall.
  Post request = post(server.url("/?a=1&b=2"), body);
  request.request->headers = {{"Content-Type", "tensor/binary"}, {"Accept", "tensor/binary"}};

  auto transport = make_curl_transport({});
  Result<http::HttpResponse> response = send(*transport, request).response;

  ASSERT_TRUE(response) << response.error().what();
  EXPECT_EQ(response->status, 200);
  ASSERT_NE(response->header("SHAPE"), nullptr);
  EXPECT_EQ(*response->header("shape"), "[1,3,512,512]");
  EXPECT_EQ(std::string(response->body.begin(), response->body.end()), reply_body);

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/?a=1&b=2");
  EXPECT_EQ(requests[0].body, body);
  EXPECT_EQ(requests[0].header("Content-Type"), "tensor/binary");
  EXPECT_EQ(requests[0].header("Accept"), "tensor/binary");
  EXPECT_EQ(requests[0].header("User-Agent"), std::string("rvae/") + RVAE_VERSION_STRING);
  EXPECT_FALSE(requests[0].has_header("Expect"));
  EXPECT_FALSE(requests[0].has_header("Authorization"));
}

TEST(CurlTransportTest, SendsNoContentTypeWhenTheRequestHasNone) {
  ScriptedServer server;
  auto transport = make_curl_transport({});
  ASSERT_TRUE(send(*transport, post(server.url(), "png bytes")).response);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_FALSE(requests[0].has_header("Content-Type"));
  EXPECT_EQ(requests[0].body, "png bytes");
}

TEST(CurlTransportTest, SendsTheBearerTokenAndCustomUserAgent) {
  ScriptedServer server;
  TransportConfig options;
  options.token = "hf_secret_token";
  options.user_agent = "my-app/2";
  auto transport = make_curl_transport(options);
  ASSERT_TRUE(send(*transport, post(server.url(), "x")).response);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("Authorization"), "Bearer hf_secret_token");
  EXPECT_EQ(requests[0].header("User-Agent"), "my-app/2");
}

TEST(CurlTransportTest, ReusesTheConnectionAcrossRequests) {
  ScriptedServer server;
  auto transport = make_curl_transport({});
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(send(*transport, post(server.url(), "x")).response);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].remote_port, requests[0].remote_port);
  EXPECT_EQ(requests[2].remote_port, requests[0].remote_port);
}

TEST(CurlTransportTest, ErrorStatusesAreRepliesNotTransportErrors) {
  ScriptedServer server;
  server.set_handler([](const httplib::Request&, httplib::Response& response) {
    response.status = 503;
    response.set_content(R"({"error": "503 Service Unavailable"})", "application/json");
  });
  auto transport = make_curl_transport({});
  Result<http::HttpResponse> response = send(*transport, post(server.url(), "x")).response;
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(std::string(response->body.begin(), response->body.end()),
            R"({"error": "503 Service Unavailable"})");
}

TEST(CurlTransportTest, ConnectionRefusedIsUnavailableAndRetryable) {
  TransportConfig options;
  options.token = "hf_secret_token";
  auto transport = make_curl_transport(options);
  const std::string url =
      "http://127.0.0.1:" + std::to_string(testing_support::unused_port()) + "/";
  Result<http::HttpResponse> response = send(*transport, post(url, "x")).response;
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(response.error().retryable());
  EXPECT_THAT(response.error().message(), HasSubstr("could not connect"));
  EXPECT_THAT(response.error().what(), Not(HasSubstr("hf_secret_token")));
}

TEST(CurlTransportTest, StalledReplyEndsInDeadlineExceeded) {
  ScriptedServer server;
  server.set_handler([&](const httplib::Request&, httplib::Response&) { server.stall(); });
  auto transport = make_curl_transport({});
  TransferOptions limits;
  limits.attempt_timeout = std::chrono::milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  Result<http::HttpResponse> response = send(*transport, post(server.url(), "x"), limits).response;
  const auto elapsed = std::chrono::steady_clock::now() - start;
  server.release_stalls();
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_TRUE(response.error().retryable());
  // Returned by the timeout, not by the server letting go (which happens only after this).
  EXPECT_LT(elapsed, std::chrono::seconds(30));
}

TEST(CurlTransportTest, BodyCutShortIsDataLoss) {
  ScriptedServer server;
  server.set_handler([](const httplib::Request&, httplib::Response& response) {
    response.set_content_provider(1000, "tensor/binary",
                                  [](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                                    if (offset > 0)
                                      return false;  // Closes the connection 900 bytes early.
                                    const std::string part(100, 'a');
                                    sink.write(part.data(), part.size());
                                    return true;
                                  });
  });
  auto transport = make_curl_transport({});
  Result<http::HttpResponse> response = send(*transport, post(server.url(), "x")).response;
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ErrorCode::kDataLoss);
  EXPECT_THAT(response.error().message(), HasSubstr("cut short"));
}

TEST(CurlTransportTest, ReplyOverTheCapIsRefused) {
  ScriptedServer server;
  server.set_handler([](const httplib::Request&, httplib::Response& response) {
    response.set_content(std::string(5000, 'z'), "tensor/binary");
  });
  TransportConfig options;
  options.max_reply_bytes = 1000;
  auto transport = make_curl_transport(options);
  Result<http::HttpResponse> response = send(*transport, post(server.url(), "x")).response;
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(response.error().message(), HasSubstr("1000 bytes"));
}

TEST(CurlTransportTest, RedirectToAnotherHostDropsTheToken) {
  ScriptedServer target;
  ScriptedServer origin;
  // "localhost" is another host name than "127.0.0.1", though the same machine.
  const std::string elsewhere = "http://localhost:" + std::to_string(target.port()) + "/landing";
  origin.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.status = 307;
    response.set_header("Location", elsewhere);
  });
  TransportConfig options;
  options.token = "hf_secret_token";
  auto transport = make_curl_transport(options);
  Result<http::HttpResponse> response = send(*transport, post(origin.url(), "x")).response;
  ASSERT_TRUE(response) << response.error().what();
  EXPECT_EQ(response->status, 200);
  ASSERT_EQ(origin.requests().size(), 1u);
  EXPECT_EQ(origin.requests()[0].header("Authorization"), "Bearer hf_secret_token");
  ASSERT_EQ(target.requests().size(), 1u);
  EXPECT_EQ(target.requests()[0].path, "/landing");
  EXPECT_FALSE(target.requests()[0].has_header("Authorization"));
}

TEST(CurlTransportTest, ConnectionClosedWithoutAReplyIsUnavailableAndRetryable) {
  // A listener that accepts and closes at once, as an overloaded proxy may.
  using namespace testing_support;
  const Socket listener = tcp_socket();
  const sockaddr_in address = loopback_address();
  ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  const int port = local_port(listener);
  ASSERT_GT(port, 0);
  std::thread closer([listener] { close_socket(::accept(listener, nullptr, nullptr)); });
  auto transport = make_curl_transport({});
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  Result<http::HttpResponse> response = send(*transport, post(url, "x")).response;
  closer.join();
  close_socket(listener);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(response.error().retryable());
}

TEST(CurlTransportTest, RedirectLoopEndsWithAnError) {
  ScriptedServer server;
  server.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.status = 307;
    response.set_header("Location", server.url("/again"));
  });
  auto transport = make_curl_transport({});
  Result<http::HttpResponse> response = send(*transport, post(server.url(), "x")).response;
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(response.error().retryable());
  EXPECT_THAT(response.error().message(), HasSubstr("too many redirects"));
  EXPECT_EQ(server.requests().size(), 6u);  // The first request and 5 redirects.
}

TEST(CurlTransportTest, MalformedUrlIsInvalidArgument) {
  auto transport = make_curl_transport({});
  Result<http::HttpResponse> response =
      send(*transport, post("ftp://example.invalid/", "x")).response;
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ErrorCode::kInvalidArgument);
}

TEST(CurlTransportTest, HeaderWithLineBreakIsRefusedBeforeSending) {
  ScriptedServer server;
  Post request = post(server.url(), "x");
  request.request->headers = {{"Accept", "image/png\r\nX-Injected: 1"}};
  auto transport = make_curl_transport({});
  Result<http::HttpResponse> response = send(*transport, request).response;
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(server.requests().empty());
}

TEST(CurlTransportTest, UnresolvableHostStaysUnavailableOnEveryReuseOfTheTransport) {
  // The second attempt runs on the handle the failed first one used.
  auto transport = make_curl_transport({});
  for (int i = 0; i < 3; ++i) {
    Result<http::HttpResponse> response =
        send(*transport, post("http://rvae-no-such-host.invalid/", "x")).response;
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code(), ErrorCode::kUnavailable) << response.error().what();
    EXPECT_TRUE(response.error().retryable());
    EXPECT_THAT(response.error().message(), HasSubstr("rvae-no-such-host.invalid"));
  }
}

TEST(CurlTransportTest, RedirectToAnotherPortDropsTheToken) {
  ScriptedServer target;
  ScriptedServer origin;
  origin.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.status = 308;
    response.set_header("Location", target.url("/landing"));
  });
  TransportConfig options;
  options.token = "hf_secret_token";
  auto transport = make_curl_transport(options);
  Result<http::HttpResponse> response = send(*transport, post(origin.url(), "body")).response;
  ASSERT_TRUE(response) << response.error().what();
  ASSERT_EQ(target.requests().size(), 1u);
  EXPECT_EQ(target.requests()[0].method, "POST");
  EXPECT_EQ(target.requests()[0].body, "body");
  EXPECT_FALSE(target.requests()[0].has_header("Authorization"));
}

TEST(CurlTransportTest, RecycledReplyBuffersReceiveTheNextReply) {
  ScriptedServer server;
  server.set_handler([](const httplib::Request&, httplib::Response& response) {
    response.set_content(std::string(1 << 20, 'r'), "tensor/binary");
  });
  TransportConfig config;
  config.buffers = std::make_shared<detail::BufferPool>(4, 64 << 20);
  auto transport = make_curl_transport(config);
  Result<http::HttpResponse> first = send(*transport, post(server.url(), "x")).response;
  ASSERT_TRUE(first) << first.error().what();
  const std::uint8_t* storage = first->body.data();
  config.buffers->give(std::move(first->body));
  Result<http::HttpResponse> second = send(*transport, post(server.url(), "x")).response;
  ASSERT_TRUE(second) << second.error().what();
  EXPECT_EQ(second->body.size(), std::size_t{1} << 20);
  EXPECT_EQ(second->body.data(), storage);
}

TEST(CurlTransportTest, ThrowingProgressCallbackEndsTheTransferWithItsMessage) {
  ScriptedServer server;
  auto transport = make_curl_transport({});
  TransferOptions limits;
  limits.on_progress = [](const TransferProgress&) { throw std::runtime_error("meter broke"); };
  Result<http::HttpResponse> response = send(*transport, post(server.url(), "x"), limits).response;
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ErrorCode::kInternal);
  EXPECT_THAT(response.error().message(), HasSubstr("meter broke"));
}

TEST(RedactUrlTest, DropsCredentialsAndQuery) {
  EXPECT_EQ(redact_url("https://user:pw@host.example:8443/path/?shape=1&dtype=float16"),
            "https://host.example:8443/path/");
  EXPECT_EQ(redact_url("http://127.0.0.1:9/"), "http://127.0.0.1:9/");
  EXPECT_EQ(redact_url("host/a@b"), "host/a@b");
}

}  // namespace
}  // namespace rvae::transport
