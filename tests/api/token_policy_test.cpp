// Which token goes where: a Hugging Face token only to Hugging Face over https, a token given
// for rvae anywhere but in clear to another machine.
#include "api/token_policy.hpp"

#include <map>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/token_source.hpp"
#include "support/result_matchers.hpp"

namespace rvae::detail {
namespace {

using ::testing::HasSubstr;
using testing_support::IsError;
using testing_support::IsOk;

EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values](const char* name) -> std::optional<std::string> {
    const auto found = values.find(name);
    if (found == values.end()) return std::nullopt;
    return found->second;
  };
}

TEST(TokenPolicy, HuggingFaceHostsAreItsDomainsAndTheirSubdomainsOnly) {
  for (const char* host : {"huggingface.co", "api-inference.huggingface.co", "hf.co",
                           "q1bj3bpq6kzilnsu.us-east-1.aws.endpoints.huggingface.cloud",
                           "user-space.hf.space", "huggingface.co."}) {
    EXPECT_TRUE(is_huggingface_host(host)) << host;
  }
  for (const char* host : {"evilhuggingface.co", "huggingface.co.evil.com", "hf.com",
                           "triton.internal", "127.0.0.1", "", "co", "xhf.space"}) {
    EXPECT_FALSE(is_huggingface_host(host)) << host;
  }
}

TEST(TokenPolicy, LoopbackIsLocalhostAnd127Slash8AndIpv6One) {
  for (const char* host : {"localhost", "127.0.0.1", "127.1.2.3", "[::1]"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
  for (const char* host : {"127.0.0.1.evil.com", "10.0.0.1", "localhost.example", "[::2]",
                           "128.0.0.1", "127.0.0.x", ""}) {
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
}

TEST(TokenPolicy, AHuggingFaceTokenGoesOnlyToHuggingFaceOverHttps) {
  const ScopedToken hf{"hf_secret", TokenScope::kHuggingFaceHosts};
  const Result<bool> to_hf =
      token_goes_to(hf, "https://x.us-east-1.aws.endpoints.huggingface.cloud/", false);
  ASSERT_THAT(to_hf, IsOk());
  EXPECT_TRUE(*to_hf);
  // The defect this fixes: the user's Hugging Face token went to any endpoint, in clear too.
  for (const char* url : {"http://127.0.0.1:8000/v2/models/vae_decoder",
                          "https://triton.example.com/v2/models/vae_decoder",
                          "http://x.endpoints.huggingface.cloud/", "http://localhost/"}) {
    const Result<bool> goes = token_goes_to(hf, url, true);
    ASSERT_THAT(goes, IsOk()) << url;
    EXPECT_FALSE(*goes) << url;
  }
}

TEST(TokenPolicy, AGivenTokenGoesOverHttpsAndToLoopbackAndElsewhereOnlyWhenAllowed) {
  const ScopedToken given{"secret", TokenScope::kAnyEndpoint};
  for (const char* url : {"https://triton.example.com/v2/models/m", "http://127.0.0.1:9/",
                          "http://localhost:8000/x", "http://[::1]:8000/x"}) {
    const Result<bool> goes = token_goes_to(given, url, false);
    ASSERT_THAT(goes, IsOk()) << url;
    EXPECT_TRUE(*goes) << url;
  }
  EXPECT_THAT(token_goes_to(given, "http://triton.internal:8000/v2/models/m", false),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("--allow-http-token")));
  const Result<bool> allowed = token_goes_to(given, "http://triton.internal:8000/", true);
  ASSERT_THAT(allowed, IsOk());
  EXPECT_TRUE(*allowed);
  const Result<bool> none = token_goes_to({}, "http://triton.internal:8000/", false);
  ASSERT_THAT(none, IsOk());
  EXPECT_FALSE(*none);
}

TEST(TokenPolicy, RvaeTokenIsGivenForAnyEndpointAndWinsOverHuggingFaces) {
  const ScopedToken rvae =
      find_token({}, env_of({{"RVAE_TOKEN", " rvae_secret\n"}, {"HF_TOKEN", "hf_secret"}}));
  EXPECT_EQ(rvae.token, "rvae_secret");
  EXPECT_EQ(rvae.scope, TokenScope::kAnyEndpoint);
  const ScopedToken hf =
      find_token({}, env_of({{"HF_TOKEN", "hf_secret"}, {"HOME", "/nonexistent"}}));
  EXPECT_EQ(hf.token, "hf_secret");
  EXPECT_EQ(hf.scope, TokenScope::kHuggingFaceHosts);
  const ScopedToken given = find_token("mine", env_of({{"RVAE_TOKEN", "rvae_secret"}}));
  EXPECT_EQ(given.token, "mine");
  EXPECT_EQ(given.scope, TokenScope::kAnyEndpoint);
}

}  // namespace
}  // namespace rvae::detail
