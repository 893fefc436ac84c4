// libcurl's multi interface failing under the transport: curl_multi_init, curl_multi_perform and
// curl_multi_poll are wrapped at link time (tests/CMakeLists.txt: --wrap), so each can be made to
// fail on demand; libcurl itself cannot be driven into these failures from outside.
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "support/scripted_server.hpp"
#include "transport/transport.hpp"

namespace {

std::atomic<bool> fail_init{false};
// Each fails the next this many calls made while a transfer is running (the transport's loop
// also polls while idle; a failure spent there would test nothing).
std::atomic<int> perform_failures{0};
std::atomic<int> poll_failures{0};
std::atomic<int> last_running{0};

bool take_one(std::atomic<int>& failures) {
  int left = failures.load();
  while (left > 0 && !failures.compare_exchange_weak(left, left - 1)) {
  }
  return left > 0;
}

}  // namespace

extern "C" {
CURLM* __real_curl_multi_init(void);
CURLMcode __real_curl_multi_perform(CURLM* multi, int* running);
CURLMcode __real_curl_multi_poll(CURLM* multi, struct curl_waitfd* fds, unsigned int count,
                                 int timeout_ms, int* ready);

CURLM* __wrap_curl_multi_init(void) {
  if (fail_init.load()) return nullptr;
  return __real_curl_multi_init();
}

CURLMcode __wrap_curl_multi_perform(CURLM* multi, int* running) {
  const CURLMcode code = __real_curl_multi_perform(multi, running);
  last_running = *running;
  if (*running > 0 && take_one(perform_failures)) return CURLM_INTERNAL_ERROR;
  return code;
}

CURLMcode __wrap_curl_multi_poll(CURLM* multi, struct curl_waitfd* fds, unsigned int count,
                                 int timeout_ms, int* ready) {
  if (last_running.load() > 0 && take_one(poll_failures)) return CURLM_OUT_OF_MEMORY;
  return __real_curl_multi_poll(multi, fds, count, timeout_ms, ready);
}
}

namespace rvae::transport {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::ScriptedServer;

// A 64-byte POST to `url`.
TransferResult post(Transport& transport, const std::string& url) {
  auto request = std::make_shared<http::HttpRequest>();
  request->body.append_owned(Bytes(64, 'x'));
  return transport.send(url, std::move(request));
}

class MultiFailuresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.set_handler([](const httplib::Request&, httplib::Response& response) {
      response.set_content("done", "text/plain");
    });
  }
  void TearDown() override {
    fail_init = false;
    perform_failures = 0;
    poll_failures = 0;
  }
  ScriptedServer server_;
};

TEST_F(MultiFailuresTest, MultiInitFailureIsTheErrorOfEveryRequestNotAShutdown) {
  fail_init = true;
  auto transport = make_curl_transport({});
  fail_init = false;

  for (int i = 0; i < 2; ++i) {
    Result<http::HttpResponse> response = post(*transport, server_.url("/")).response;
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code(), ErrorCode::kResourceExhausted);
    EXPECT_THAT(response.error().message(), HasSubstr("could not start the network layer"));
    EXPECT_THAT(response.error().message(), Not(HasSubstr("shutting down")));
  }
  EXPECT_EQ(server_.requests().size(), 0u);
}

TEST_F(MultiFailuresTest, PerformFailureEndsTheTransferWithARetryableNamedError) {
  auto transport = make_curl_transport({});
  perform_failures = 1;
  Result<http::HttpResponse> response = post(*transport, server_.url("/")).response;

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(response.error().retryable());
  EXPECT_THAT(response.error().message(), HasSubstr("the network layer failed"));
  EXPECT_THAT(response.error().message(), HasSubstr("curl_multi_perform"));

  // The failure ended that transfer only: the transport goes on serving.
  Result<http::HttpResponse> next = post(*transport, server_.url("/")).response;
  ASSERT_TRUE(next) << next.error().what();
  EXPECT_EQ(next->status, 200);
}

TEST_F(MultiFailuresTest, PollFailureEndsTheTransferAsOutOfMemoryNotRetried) {
  auto transport = make_curl_transport({});
  poll_failures = 1;
  Result<http::HttpResponse> response = post(*transport, server_.url("/")).response;

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_FALSE(response.error().retryable());
  EXPECT_THAT(response.error().message(), HasSubstr("curl_multi_poll"));

  Result<http::HttpResponse> next = post(*transport, server_.url("/")).response;
  ASSERT_TRUE(next) << next.error().what();
  EXPECT_EQ(next->status, 200);
}

}  // namespace
}  // namespace rvae::transport
