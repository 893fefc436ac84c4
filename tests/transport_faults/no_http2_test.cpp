// The transport over a libcurl built without HTTP/2 (no nghttp2): curl_version_info and
// curl_easy_setopt are wrapped at link time (tests/CMakeLists.txt: --wrap), so the libcurl under
// test can report no HTTP/2 and refuse to be asked for it, as such a build does
// (CURLOPT_HTTP_VERSION of HTTP/2 or later fails with CURLE_UNSUPPORTED_PROTOCOL).
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdarg>
#include <memory>
#include <string>

#include "support/scripted_server.hpp"
#include "transport/transport.hpp"

namespace {

std::atomic<bool> without_http2{false};
// Times the transport asked libcurl for HTTP/2 or later (CURLOPT_HTTP_VERSION).
std::atomic<int> http2_asks{0};

using AnyFunction = void (*)(void);

}  // namespace

extern "C" {
const curl_version_info_data* __real_curl_version_info(CURLversion version);
CURLcode __real_curl_easy_setopt(CURL* easy, CURLoption option, ...);

const curl_version_info_data* __wrap_curl_version_info(CURLversion version) {
  const curl_version_info_data* real = __real_curl_version_info(version);
  if (real == nullptr || !without_http2.load()) return real;
  static thread_local curl_version_info_data stripped;
  stripped = *real;
  stripped.features &= ~CURL_VERSION_HTTP2;
  return &stripped;
}

// The option's type is told by its number (curl.h: CURLOPTTYPE_*), as libcurl reads it.
CURLcode __wrap_curl_easy_setopt(CURL* easy, CURLoption option, ...) {
  va_list args;
  va_start(args, option);
  CURLcode code = CURLE_OK;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    const long value = va_arg(args, long);
    if (option == CURLOPT_HTTP_VERSION && value >= CURL_HTTP_VERSION_2) {
      ++http2_asks;
      if (without_http2.load()) code = CURLE_UNSUPPORTED_PROTOCOL;
    }
    if (code == CURLE_OK) code = __real_curl_easy_setopt(easy, option, value);
  } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {
    code = __real_curl_easy_setopt(easy, option, va_arg(args, void*));
  } else if (option < CURLOPTTYPE_OFF_T) {
    code = __real_curl_easy_setopt(easy, option, va_arg(args, AnyFunction));
  } else if (option < CURLOPTTYPE_BLOB) {
    code = __real_curl_easy_setopt(easy, option, va_arg(args, curl_off_t));
  } else {
    code = __real_curl_easy_setopt(easy, option, va_arg(args, void*));
  }
  va_end(args);
  return code;
}
}

namespace rvae::transport {
namespace {

using testing_support::ScriptedServer;

TransferResult post(Transport& transport, const std::string& url) {
  auto request = std::make_shared<http::HttpRequest>();
  request->body.append_owned(Bytes(64, 'x'));
  return transport.send(url, std::move(request));
}

class NoHttp2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    http2_asks = 0;
    server_.set_handler([](const httplib::Request&, httplib::Response& response) {
      response.set_content("done", "text/plain");
    });
  }
  void TearDown() override { without_http2 = false; }
  ScriptedServer server_;
};

TEST_F(NoHttp2Test, ALibcurlWithoutHttp2ServesEveryRequestOverHttp11) {
  without_http2 = true;
  auto transport = make_curl_transport({});

  // The second request runs on the first one's handle, reset and reused.
  for (int i = 0; i < 2; ++i) {
    TransferResult result = post(*transport, server_.url("/"));
    ASSERT_TRUE(result.response) << result.response.error().what();
    EXPECT_EQ(result.response->status, 200);
    EXPECT_EQ(result.response->body, Bytes({'d', 'o', 'n', 'e'}));
    EXPECT_EQ(result.timings.protocol, "HTTP/1.1");
  }
  EXPECT_EQ(http2_asks, 0);
  EXPECT_EQ(server_.requests().size(), 2u);
}

TEST_F(NoHttp2Test, ALibcurlWithHttp2IsStillAskedForIt) {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  if ((info->features & CURL_VERSION_HTTP2) == 0) {
    GTEST_SKIP() << "this libcurl was built without HTTP/2";
  }
  auto transport = make_curl_transport({});

  TransferResult result = post(*transport, server_.url("/"));
  ASSERT_TRUE(result.response) << result.response.error().what();
  EXPECT_EQ(result.response->status, 200);
  EXPECT_GT(http2_asks, 0);
}

}  // namespace
}  // namespace rvae::transport
