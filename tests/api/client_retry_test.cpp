// The Client's retry loop, deadlines, Retry-After, breaker and replica choice over a fake
// transport and a fake clock: exact schedules, no sockets, no waiting.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "api/retry_schedule.hpp"
#include "client/client_seam.hpp"
#include "rvae/client.hpp"
#include "support/fake_transport.hpp"

namespace rvae {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing_support::FakeAttempt;
using testing_support::FakeClock;
using testing_support::FakeTransport;
using testing_support::http_reply;
using testing_support::network_failure;

constexpr std::uint64_t kRandomBits = 0x9E3779B97F4A7C15ull;

Tensor small_latents() {
  return Tensor::from_floats({1, 4, 2, 1}, std::vector<float>(8, 0.25f)).value();
}

DecodeOptions uint8_options() {
  DecodeOptions options;
  options.output_type = OutputType::kUInt8;
  return options;
}

// The reply small_latents() asks for as uint8 pixels.
transport::TransferResult good_reply() {
  return http_reply(200, {{"shape", "[1,16,8,3]"}, {"dtype", "uint8"}},
                    std::string(16 * 8 * 3, '\x7f'));
}

ClientOptions retry_options() {
  ClientOptions options;
  options.token_from_environment = false;
  options.retry.max_attempts = 5;
  options.retry.initial_backoff = milliseconds(500);
  options.retry.multiplier = 2.0;
  options.retry.max_backoff = milliseconds(30'000);
  options.deadline = milliseconds(600'000);
  return options;
}

// A Client over a FakeTransport answering with `respond`; the transport stays readable.
struct FakeClient {
  FakeClient(ClientOptions options, FakeTransport::Responder respond) {
    auto owned = std::make_unique<FakeTransport>(clock, std::move(respond));
    transport = owned.get();
    detail::ClientSeams seams;
    seams.transport = std::move(owned);
    seams.now = clock.function();
    seams.random_bits = [] { return kRandomBits; };
    seams.buffers = buffers;
    client =
        std::make_unique<Client>(detail::ClientFactory::make(std::move(options), std::move(seams)));
  }
  FakeClock clock;
  FakeTransport* transport = nullptr;
  std::shared_ptr<detail::BufferPool> buffers = std::make_shared<detail::BufferPool>(8, 1 << 20);
  std::unique_ptr<Client> client;
};

TEST(ClientRetryTest, RetriesTransientRepliesOnTheExactJitteredSchedule) {
  int calls = 0;
  const ClientOptions options = retry_options();
  FakeClient fake(options, [&](const FakeAttempt&) {
    return ++calls < 3 ? http_reply(503, {}, R"({"error": "busy"})") : good_reply();
  });
  const Tensor latents = small_latents();
  Result<DecodeOutput> result =
      fake.client->decode("http://vae.test/decode", latents.view(), uint8_options());
  ASSERT_TRUE(result) << result.error().what();
  EXPECT_EQ(result->timings.attempts, 3);
  const std::vector<FakeAttempt> attempts = fake.transport->attempts();
  ASSERT_EQ(attempts.size(), 3u);
  for (std::size_t i = 1; i < attempts.size(); ++i) {
    const milliseconds expected =
        detail::backoff_delay(options.retry, static_cast<int>(i), kRandomBits);
    EXPECT_EQ(attempts[i].not_before - attempts[i - 1].started, expected) << "attempt " << i;
  }
  // The bodies of the two refused replies went back to the client's buffers for reuse.
  EXPECT_EQ(fake.buffers->pooled_buffers(), 2u);
}

TEST(ClientRetryTest, TransportFailuresAreRetriedLikeTransientReplies) {
  int calls = 0;
  FakeClient fake(retry_options(), [&](const FakeAttempt&) {
    return ++calls == 1 ? network_failure(ErrorCode::kUnavailable, "could not connect", true)
                        : good_reply();
  });
  const Tensor latents = small_latents();
  Result<DecodeOutput> result =
      fake.client->decode("http://vae.test/decode", latents.view(), uint8_options());
  ASSERT_TRUE(result) << result.error().what();
  EXPECT_EQ(result->timings.attempts, 2);
}

TEST(ClientRetryTest, RetryAfterLongerThanTheBackoffIsWaitedExactly) {
  int calls = 0;
  FakeClient fake(retry_options(), [&](const FakeAttempt&) {
    return ++calls == 1 ? http_reply(429, {{"Retry-After", "7"}}) : good_reply();
  });
  const Tensor latents = small_latents();
  ASSERT_TRUE(fake.client->decode("http://vae.test/decode", latents.view(), uint8_options()));
  const std::vector<FakeAttempt> attempts = fake.transport->attempts();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[1].not_before - attempts[0].started, std::chrono::seconds(7));
}

TEST(ClientRetryTest, RetryAfterBeyondTheDeadlineGivesUpAtOnce) {
  ClientOptions options = retry_options();
  options.deadline = milliseconds(5'000);
  FakeClient fake(options, [&](const FakeAttempt&) {
    return http_reply(503, {{"Retry-After", "3600"}}, R"({"error": "scaling up"})");
  });
  const Tensor latents = small_latents();
  Result<DecodeOutput> result =
      fake.client->decode("http://vae.test/decode", latents.view(), uint8_options());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(result.error().server_message(), "scaling up");
  EXPECT_THAT(result.error().message(), HasSubstr("Retry-After"));
  EXPECT_EQ(fake.transport->attempts().size(), 1u);
}

TEST(ClientRetryTest, TheDeadlineBoundsTheWholeSchedule) {
  ClientOptions options = retry_options();
  options.retry.max_attempts = 100;
  options.retry.initial_backoff = milliseconds(1000);
  options.retry.multiplier = 1.0;
  options.deadline = milliseconds(3'500);
  FakeClient fake(options, [&](const FakeAttempt&) { return http_reply(502); });
  const auto start = fake.clock.now();
  const Tensor latents = small_latents();
  Result<DecodeOutput> result =
      fake.client->decode("http://vae.test/decode", latents.view(), uint8_options());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(result.error().message(), HasSubstr("deadline"));
  const std::vector<FakeAttempt> attempts = fake.transport->attempts();
  ASSERT_GE(attempts.size(), 2u);
  for (const FakeAttempt& attempt : attempts) {
    EXPECT_LT(attempt.started - start, options.deadline);
    EXPECT_EQ(attempt.options.deadline, start + options.deadline);
  }
  EXPECT_LT(fake.clock.now() - start, options.deadline);
}

TEST(ClientRetryTest, OtherClientErrorsAreNeverRetried) {
  FakeClient fake(retry_options(), [&](const FakeAttempt&) { return http_reply(404); });
  const Tensor latents = small_latents();
  Result<DecodeOutput> result =
      fake.client->decode("http://vae.test/decode", latents.view(), uint8_options());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(fake.transport->attempts().size(), 1u);
}

TEST(ClientRetryTest, GivesUpAfterMaxAttemptsAndSaysSo) {
  ClientOptions options = retry_options();
  options.retry.max_attempts = 3;
  FakeClient fake(options, [&](const FakeAttempt&) { return http_reply(503); });
  const Tensor latents = small_latents();
  Result<DecodeOutput> result =
      fake.client->decode("http://vae.test/decode", latents.view(), uint8_options());
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message(), HasSubstr("3 attempts"));
  EXPECT_EQ(fake.transport->attempts().size(), 3u);
}

TEST(ClientRetryTest, AFailingReplicaIsSkippedUntilItsCooldownEnds) {
  ClientOptions options = retry_options();
  options.replica_cooldown = milliseconds(30'000);
  FakeClient fake(options, [&](const FakeAttempt& attempt) {
    return attempt.url.rfind("http://a.test/", 0) == 0
               ? network_failure(ErrorCode::kUnavailable, "could not connect", true)
               : good_reply();
  });
  const Endpoint endpoint({"http://a.test/decode", "http://b.test/decode"});
  const Tensor latents = small_latents();
  ASSERT_TRUE(fake.client->decode(endpoint, latents.view(), uint8_options()));  // a, then b
  ASSERT_TRUE(fake.client->decode(endpoint, latents.view(), uint8_options()));  // b: a tripped
  fake.clock.advance(milliseconds(31'000));
  ASSERT_TRUE(fake.client->decode(endpoint, latents.view(), uint8_options()));  // a again, b
  std::vector<std::string> hosts;
  for (const FakeAttempt& attempt : fake.transport->attempts())
    hosts.push_back(attempt.url.substr(7, 6));
  EXPECT_EQ(hosts, (std::vector<std::string>{"a.test", "b.test", "b.test", "a.test", "b.test"}));
}

TEST(ClientRetryTest, HealthyReplicasTakeTurnsAndEachGetsTheFullQuery) {
  FakeClient fake(retry_options(), [&](const FakeAttempt&) { return good_reply(); });
  const Endpoint endpoint({"http://a.test/decode", "http://b.test/v1?key=value"});
  const Tensor latents = small_latents();
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(fake.client->decode(endpoint, latents.view(), uint8_options()));
  const std::vector<FakeAttempt> attempts = fake.transport->attempts();
  ASSERT_EQ(attempts.size(), 4u);
  const std::string query = "image_format=jpg&output_type=pt&partial_postprocess=True";
  EXPECT_THAT(attempts[0].url, StartsWith("http://a.test/decode?" + query));
  EXPECT_THAT(attempts[1].url, StartsWith("http://b.test/v1?key=value&" + query));
  EXPECT_THAT(attempts[2].url, StartsWith("http://a.test/decode?" + query));
  EXPECT_THAT(attempts[3].url, StartsWith("http://b.test/v1?key=value&" + query));
}

TEST(ClientRetryTest, ABadReplicaUrlIsRefusedBeforeAnythingIsSent) {
  FakeClient fake(retry_options(), [&](const FakeAttempt&) { return good_reply(); });
  const Endpoint endpoint({"http://a.test/decode", "ftp://b.test/decode"});
  const Tensor latents = small_latents();
  Result<DecodeOutput> result = fake.client->decode(endpoint, latents.view(), uint8_options());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(result.error().message(), HasSubstr("replica 2"));
  EXPECT_TRUE(fake.transport->attempts().empty());
}

TEST(ClientRetryTest, AThrowingLogCallbackEndsTheCallWithItsError) {
  ClientOptions options = retry_options();
  options.log = [](LogLevel, std::string_view) { throw std::runtime_error("log is broken"); };
  FakeClient fake(options, [&](const FakeAttempt&) { return http_reply(503); });
  const Tensor latents = small_latents();
  Result<DecodeOutput> result =
      fake.client->decode("http://vae.test/decode", latents.view(), uint8_options());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInternal);
  EXPECT_THAT(result.error().message(), HasSubstr("log is broken"));
  // The call stops at the failing callback instead of retrying.
  EXPECT_EQ(fake.transport->attempts().size(), 1u);
}

}  // namespace
}  // namespace rvae
