#include "transport/curl_errors.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace rvae::transport {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(CurlErrorsTest, RetryableExactlyForTheConditionsOfTheOneList) {
  const CURLcode retryable[] = {CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT,
                                CURLE_OPERATION_TIMEDOUT,   CURLE_GOT_NOTHING,
                                CURLE_SEND_ERROR,           CURLE_RECV_ERROR,
                                CURLE_PARTIAL_FILE};
  for (CURLcode code : retryable) {
    EXPECT_TRUE(error_from_curl(code, nullptr, "http://h/", false).retryable()) << code;
    EXPECT_TRUE(http::is_retryable(classify_curl(code))) << code;
  }
  const CURLcode final_codes[] = {CURLE_URL_MALFORMAT, CURLE_PEER_FAILED_VERIFICATION,
                                  CURLE_OUT_OF_MEMORY, CURLE_TOO_MANY_REDIRECTS};
  for (CURLcode code : final_codes)
    EXPECT_FALSE(error_from_curl(code, nullptr, "http://h/", false).retryable()) << code;
}

TEST(CurlErrorsTest, AResolveFailureIsUnavailableAndNamesTheHostButNoSecret) {
  const Error error = error_from_curl(CURLE_COULDNT_RESOLVE_HOST, "Could not resolve host: x",
                                      "https://user:pw@x.invalid/decode?sig=s", false);
  EXPECT_EQ(error.code(), ErrorCode::kUnavailable);
  EXPECT_THAT(error.message(), HasSubstr("https://x.invalid/decode"));
  EXPECT_THAT(error.message(), Not(HasSubstr("pw")));
  EXPECT_THAT(error.message(), Not(HasSubstr("sig=")));
}

TEST(CurlErrorsTest, OutOfMemoryWhileHeadersArriveMeansHeadersTooLarge) {
  const Error in_headers = error_from_curl(CURLE_OUT_OF_MEMORY, "", "http://h/", true);
  EXPECT_EQ(in_headers.code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(in_headers.message(), HasSubstr("reply headers from http://h/ are too large"));
  // Only what happened, with libcurl's limit: its own text for this code ("Out of memory", from
  // curl_easy_strerror or its error buffer) would contradict it.
  const std::string expected = "reply headers from http://h/ are too large (over " +
                               std::to_string(CURL_MAX_HTTP_HEADER / 1024) + " KiB)";
  EXPECT_EQ(in_headers.message(), expected);
  EXPECT_EQ(error_from_curl(CURLE_OUT_OF_MEMORY, nullptr, "http://h/", true).message(), expected);
  EXPECT_EQ(error_from_curl(CURLE_OUT_OF_MEMORY, "Out of memory", "http://h/", true).message(),
            expected);
  const Error later = error_from_curl(CURLE_OUT_OF_MEMORY, "", "http://h/", false);
  EXPECT_THAT(later.message(), HasSubstr("out of memory"));
}

TEST(CurlErrorsTest, TimeoutsAreDeadlineExceededAndCutShortBodiesDataLoss) {
  EXPECT_EQ(error_from_curl(CURLE_OPERATION_TIMEDOUT, nullptr, "http://h/", false).code(),
            ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(error_from_curl(CURLE_PARTIAL_FILE, nullptr, "http://h/", false).code(),
            ErrorCode::kDataLoss);
  EXPECT_EQ(error_from_curl(CURLE_UNSUPPORTED_PROTOCOL, nullptr, "ftp://h/", false).code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace rvae::transport
