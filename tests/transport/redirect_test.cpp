#include "transport/redirect.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "transport/url.hpp"

namespace rvae::transport {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kFrom = "http://127.0.0.1:8000/decode?shape=1";
const std::string kOrigin = origin_of(kFrom);

TEST(RedirectTest, NonRedirectsAndRedirectsWithoutLocationAreReturnedAsReplies) {
  for (int status : {200, 304, 404, 503}) {
    auto step = next_redirect("POST", status, kFrom, "http://elsewhere/", 0, kOrigin);
    ASSERT_TRUE(step);
    EXPECT_FALSE(step->has_value()) << status;
  }
  auto step = next_redirect("POST", 307, kFrom, "", 0, kOrigin);
  ASSERT_TRUE(step);
  EXPECT_FALSE(step->has_value());
}

TEST(RedirectTest, PostRedirectsThatWouldBecomeAGetAreErrorsNamingTheTarget) {
  for (int status : {301, 302, 303}) {
    auto step = next_redirect("POST", status, kFrom, "https://user:pw@other.example/new?sig=secret",
                              0, kOrigin);
    ASSERT_FALSE(step) << status;
    EXPECT_EQ(step.error().code(), ErrorCode::kUnavailable);
    EXPECT_FALSE(step.error().retryable());
    EXPECT_THAT(step.error().message(), HasSubstr("https://other.example/new"));
    EXPECT_THAT(step.error().message(), HasSubstr(std::to_string(status)));
    EXPECT_THAT(step.error().message(), Not(HasSubstr("secret")));
    EXPECT_THAT(step.error().message(), Not(HasSubstr("pw")));
  }
}

TEST(RedirectTest, GetsFollowEveryRedirect) {
  for (int status : {301, 302, 303, 307, 308}) {
    auto step = next_redirect("GET", status, kFrom, "http://127.0.0.1:8000/b", 0, kOrigin);
    ASSERT_TRUE(step);
    ASSERT_TRUE(step->has_value()) << status;
    EXPECT_EQ((*step)->url, "http://127.0.0.1:8000/b");
    EXPECT_TRUE((*step)->send_token);
  }
}

TEST(RedirectTest, TheTokenGoesOnlyToTheSameSchemeHostAndPort) {
  const auto token_for = [](const std::string& location) {
    auto step = next_redirect("POST", 307, kFrom, location, 0, kOrigin);
    return step && step->has_value() && (*step)->send_token;
  };
  EXPECT_TRUE(token_for("http://127.0.0.1:8000/other"));
  EXPECT_TRUE(token_for("HTTP://127.0.0.1:8000/other"));
  EXPECT_FALSE(token_for("http://127.0.0.1:8001/other"));
  EXPECT_FALSE(token_for("http://localhost:8000/other"));
  EXPECT_FALSE(token_for("https://127.0.0.1:8000/other"));
}

TEST(RedirectTest, AtMostFiveAreFollowed) {
  auto fifth = next_redirect("POST", 308, kFrom, "http://127.0.0.1:8000/x", 4, kOrigin);
  ASSERT_TRUE(fifth);
  EXPECT_TRUE(fifth->has_value());
  auto sixth = next_redirect("POST", 308, kFrom, "http://127.0.0.1:8000/x", 5, kOrigin);
  ASSERT_FALSE(sixth);
  EXPECT_THAT(sixth.error().message(), HasSubstr("too many redirects"));
}

TEST(RedirectTest, NonHttpTargetsAreRefused) {
  auto step = next_redirect("POST", 307, kFrom, "file:///etc/passwd", 0, kOrigin);
  ASSERT_FALSE(step);
  EXPECT_THAT(step.error().message(), HasSubstr("not an http(s) URL"));
}

TEST(OriginTest, MakesDefaultPortsExplicitAndIgnoresCredentialsPathAndCase) {
  EXPECT_EQ(origin_of("https://Host.Example/a"), "https://host.example:443");
  EXPECT_EQ(origin_of("http://u:p@host:80/a?b"), "http://host:80");
  EXPECT_EQ(origin_of("http://host"), "http://host:80");
  EXPECT_EQ(origin_of("http://[::1]:9/x"), "http://[::1]:9");
  EXPECT_EQ(origin_of("http://[::1]/x"), "http://[::1]:80");
  EXPECT_EQ(origin_of("no scheme"), "");
}

}  // namespace
}  // namespace rvae::transport
