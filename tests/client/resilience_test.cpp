// The production behaviour of Client, provoked with the reference endpoint's fault injection:
// retries, Retry-After, deadlines, cancellation, batches, replicas, auth hygiene.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "api/retry_schedule.hpp"
#include "rvae/rvae.hpp"
#include "rvae/testing/reference_endpoint.hpp"
#include "support/result_matchers.hpp"
#include "support/scripted_server.hpp"

namespace rvae {
namespace {

using reference::ReferenceEndpoint;
using reference::ReplyFault;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::IsError;
using Clock = std::chrono::steady_clock;

// setenv and unsetenv, which Windows spells _putenv_s (an empty value there unsets).
void set_env(const char* name, const char* value) {
#ifdef _WIN32
  ::_putenv_s(name, value);
#else
  ::setenv(name, value, 1);
#endif
}
void unset_env(const char* name) {
#ifdef _WIN32
  ::_putenv_s(name, "");
#else
  ::unsetenv(name);
#endif
}

constexpr const char* kToken = "hf_TopSecretToken123";

Tensor latents_of(std::int64_t width, float value = 0.25f) {
  return Tensor::from_floats({1, 4, 2, width},
                             std::vector<float>(static_cast<std::size_t>(8 * width), value))
      .value();
}

DecodeOptions uint8_options() {
  DecodeOptions options;
  options.output_type = OutputType::kUInt8;
  return options;
}

// Log lines with the time each arrived.
struct LogRecorder {
  struct Line {
    Clock::time_point at;
    std::string text;
  };
  std::mutex mutex;
  std::vector<Line> lines;
  LogCallback callback() {
    return [this](LogLevel, std::string_view text) {
      std::lock_guard<std::mutex> lock(mutex);
      lines.push_back({Clock::now(), std::string(text)});
    };
  }
  std::vector<Line> snapshot() {
    std::lock_guard<std::mutex> lock(mutex);
    return lines;
  }
};

ClientOptions fast_retry_options() {
  ClientOptions options;
  options.token_from_environment = false;
  options.retry.max_attempts = 5;
  options.retry.initial_backoff = milliseconds(20);
  options.retry.multiplier = 2.0;
  options.retry.max_backoff = milliseconds(200);
  options.deadline = milliseconds(20'000);
  return options;
}

class ResilienceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(endpoint_.start()); }
  std::string decode_url() const { return endpoint_.url("/sdxl/decode/"); }
  ReferenceEndpoint endpoint_;
};

TEST_F(ResilienceTest, Retries503ThenSucceedsWithBackoffWithinBounds) {
  endpoint_.fail_next(3, 503, {}, "503 Service Unavailable");
  LogRecorder log;
  ClientOptions options = fast_retry_options();
  options.log = log.callback();
  Client client(options);
  const Tensor latents = latents_of(2);

  Result<DecodeOutput> output = client.decode(decode_url(), latents.view(), uint8_options());

  ASSERT_TRUE(output) << output.error().what();
  EXPECT_EQ(output->timings.attempts, 4);
  EXPECT_EQ(endpoint_.requests_for("/sdxl/decode/"), 4u);
  // Each retry's announced delay lies within the policy's bound, and the next attempt really
  // waited at least that long.
  const auto lines = log.snapshot();
  const std::regex retry_line("retrying in ([0-9]+) ms");
  int retries = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::smatch match;
    if (!std::regex_search(lines[i].text, match, retry_line)) continue;
    ++retries;
    const milliseconds delay(std::stoll(match[1]));
    EXPECT_LE(delay, detail::backoff_bound(options.retry, retries)) << lines[i].text;
    ASSERT_LT(i + 1, lines.size());
    EXPECT_GE(lines[i + 1].at - lines[i].at, delay) << lines[i + 1].text;
  }
  EXPECT_EQ(retries, 3);
}

TEST_F(ResilienceTest, HonoursRetryAfterOn429) {
  endpoint_.fail_next(1, 429, "1", "rate limited");
  ClientOptions options = fast_retry_options();
  Client client(options);
  const Tensor latents = latents_of(2);
  const auto start = Clock::now();
  Result<DecodeOutput> output = client.decode(decode_url(), latents.view(), uint8_options());
  ASSERT_TRUE(output) << output.error().what();
  EXPECT_EQ(output->timings.attempts, 2);
  // The policy alone would have waited at most 20 ms.
  EXPECT_GE(Clock::now() - start, milliseconds(1000));
}

TEST_F(ResilienceTest, RetryAfterBeyondTheDeadlineGivesUpAtOnce) {
  endpoint_.fail_next(1, 503, "3600", "scaling up");
  ClientOptions options = fast_retry_options();
  options.deadline = milliseconds(5'000);
  Client client(options);
  const Tensor latents = latents_of(2);
  const auto start = Clock::now();
  Result<DecodeOutput> output = client.decode(decode_url(), latents.view(), uint8_options());
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(output.error().server_message(), "scaling up");
  EXPECT_THAT(output.error().message(), HasSubstr("Retry-After"));
  EXPECT_LT(Clock::now() - start, milliseconds(5'000));
  EXPECT_EQ(endpoint_.requests_for("/sdxl/decode/"), 1u);
}

TEST_F(ResilienceTest, NeverRetriesOther4xx) {
  endpoint_.fail_next(3, 404, {}, "no such model");
  Client client(fast_retry_options());
  const Tensor latents = latents_of(2);
  Result<DecodeOutput> output = client.decode(decode_url(), latents.view(), uint8_options());
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(endpoint_.requests_for("/sdxl/decode/"), 1u);
}

TEST_F(ResilienceTest, GivesUpAfterMaxAttempts) {
  endpoint_.fail_next(10, 502, {}, "bad gateway");
  ClientOptions options = fast_retry_options();
  options.retry.max_attempts = 3;
  Client client(options);
  const Tensor latents = latents_of(2);
  Result<DecodeOutput> output = client.decode(decode_url(), latents.view(), uint8_options());
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(output.error().http_status(), 502);
  EXPECT_THAT(output.error().message(), HasSubstr("3 attempts"));
  EXPECT_EQ(endpoint_.requests_for("/sdxl/decode/"), 3u);
}

TEST_F(ResilienceTest, StalledReplyEndsInDeadlineExceededWithinTheDeadline) {
  endpoint_.set_reply_fault(ReplyFault::kStallMidBody);
  ClientOptions options = fast_retry_options();
  options.deadline = milliseconds(700);
  Client client(options);
  const Tensor latents = latents_of(64);
  const auto start = Clock::now();
  Result<DecodeOutput> output = client.decode(decode_url(), latents.view(), uint8_options());
  const auto elapsed = Clock::now() - start;
  endpoint_.clear_faults();
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code(), ErrorCode::kDeadlineExceeded);
  // Generous slack for a loaded machine; what matters is that it ended by itself.
  EXPECT_LT(elapsed, milliseconds(700 + 2'000));
}

TEST_F(ResilienceTest, LowSpeedDetectionEndsAStalledAttempt) {
  endpoint_.set_reply_fault(ReplyFault::kStallMidBody);
  ClientOptions options = fast_retry_options();
  options.retry.max_attempts = 1;
  options.low_speed_bytes = 1;
  options.low_speed_time = std::chrono::seconds(1);
  Client client(options);
  const Tensor latents = latents_of(64);
  Result<DecodeOutput> output = client.decode(decode_url(), latents.view(), uint8_options());
  endpoint_.clear_faults();
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_TRUE(output.error().retryable());
}

TEST_F(ResilienceTest, CancelStopsATransferMidReply) {
  endpoint_.set_reply_fault(ReplyFault::kStallMidBody);
  Client client(fast_retry_options());
  const Tensor latents = latents_of(64);
  CancelToken token;
  DecodeOptions options = uint8_options();
  options.control.cancel = token;
  Pending<DecodeOutput> pending = client.decode_async(decode_url(), latents.view(), options);
  ASSERT_TRUE(endpoint_.wait_until_stalled(1, milliseconds(10'000)));
  const auto start = Clock::now();
  token.cancel();
  Result<DecodeOutput> output = pending.get();
  EXPECT_LT(Clock::now() - start, milliseconds(2'000));
  endpoint_.clear_faults();
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(endpoint_.requests_for("/sdxl/decode/"), 1u);
}

TEST_F(ResilienceTest, PendingCancelAndClientDestructionGiveCancelled) {
  endpoint_.set_reply_fault(ReplyFault::kStallMidBody);
  const Tensor latents = latents_of(64);
  Pending<DecodeOutput> orphan;
  {
    Client client(fast_retry_options());
    Pending<DecodeOutput> cancelled =
        client.decode_async(decode_url(), latents.view(), uint8_options());
    ASSERT_TRUE(endpoint_.wait_until_stalled(1, milliseconds(10'000)));
    cancelled.cancel();
    Result<DecodeOutput> first = cancelled.get();
    ASSERT_FALSE(first);
    EXPECT_EQ(first.error().code(), ErrorCode::kCancelled);
    orphan = client.decode_async(decode_url(), latents.view(), uint8_options());
    ASSERT_TRUE(endpoint_.wait_until_stalled(1, milliseconds(10'000)));
  }
  Result<DecodeOutput> second = orphan.get();
  endpoint_.clear_faults();
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ErrorCode::kCancelled);
}

TEST_F(ResilienceTest, CutShortBodyIsDataLossAfterRetries) {
  endpoint_.set_reply_fault(ReplyFault::kTruncateBody);
  ClientOptions options = fast_retry_options();
  options.retry.max_attempts = 2;
  Client client(options);
  const Tensor latents = latents_of(8);
  Result<DecodeOutput> output = client.decode(decode_url(), latents.view(), uint8_options());
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(endpoint_.requests_for("/sdxl/decode/"), 2u);
}

TEST_F(ResilienceTest, WrongShapeHeaderIsDataLossNotRetried) {
  endpoint_.set_reply_fault(ReplyFault::kWrongShapeHeader);
  Client client(fast_retry_options());
  const Tensor latents = latents_of(8);
  Result<DecodeOutput> output = client.decode(decode_url(), latents.view(), uint8_options());
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(endpoint_.requests_for("/sdxl/decode/"), 1u);
}

TEST_F(ResilienceTest, DeadlinePassesWhileQueuedBehindTheInFlightCap) {
  endpoint_.set_reply_fault(ReplyFault::kStallMidBody);
  ClientOptions options = fast_retry_options();
  options.max_in_flight = 1;
  Client client(options);
  const Tensor latents = latents_of(64);
  Pending<DecodeOutput> blocker =
      client.decode_async(decode_url(), latents.view(), uint8_options());
  ASSERT_TRUE(endpoint_.wait_until_stalled(1, milliseconds(10'000)));
  DecodeOptions short_deadline = uint8_options();
  short_deadline.control.deadline = milliseconds(200);
  Result<DecodeOutput> queued = client.decode(decode_url(), latents.view(), short_deadline);
  ASSERT_FALSE(queued);
  EXPECT_EQ(queued.error().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_THAT(queued.error().message(), HasSubstr("before the request could be sent"));
  blocker.cancel();
  endpoint_.clear_faults();
  EXPECT_EQ(blocker.get().error().code(), ErrorCode::kCancelled);
}

TEST_F(ResilienceTest, BatchKeepsInputOrderAndIsolatesFailures) {
  Client client(fast_retry_options());
  std::vector<Tensor> inputs;
  for (std::int64_t width = 1; width <= 8; ++width)
    inputs.push_back(latents_of(width));
  // Item 3 is malformed for the server (5 channels), item 6 for the client (bad view).
  inputs[3] = Tensor::from_floats({1, 5, 2, 2}, std::vector<float>(20, 0.f)).value();
  std::vector<TensorView> views;
  for (const Tensor& input : inputs)
    views.push_back(input.view());
  views[6].size_bytes -= 4;

  std::vector<BatchProgress> reports;
  BatchOptions batch;
  batch.max_in_flight = 3;
  batch.on_progress = [&](const BatchProgress& progress) { reports.push_back(progress); };
  std::vector<Result<DecodeOutput>> results =
      client.decode_batch(decode_url(), views, uint8_options(), batch);

  ASSERT_EQ(results.size(), 8u);
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (i == 3) {
      ASSERT_FALSE(results[i]);
      EXPECT_EQ(results[i].error().code(), ErrorCode::kInvalidArgument);
      EXPECT_EQ(results[i].error().http_status(), 400);
    } else if (i == 6) {
      ASSERT_FALSE(results[i]);
      EXPECT_EQ(results[i].error().code(), ErrorCode::kInvalidArgument);
      EXPECT_EQ(results[i].error().http_status(), 0);
    } else {
      ASSERT_TRUE(results[i]) << i << ": " << results[i].error().what();
      EXPECT_EQ(results[i]->images.at(0).width, 8 * static_cast<int>(i + 1));
    }
  }
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.back().succeeded, 6u);
  EXPECT_EQ(reports.back().failed, 2u);
  EXPECT_EQ(reports.back().in_flight, 0u);
  for (const BatchProgress& report : reports)
    EXPECT_LE(report.in_flight, 3u);
}

TEST_F(ResilienceTest, BatchCancelStopsTheRest) {
  endpoint_.set_latency(milliseconds(100));
  Client client(fast_retry_options());
  std::vector<Tensor> inputs(12, latents_of(2));
  std::vector<TensorView> views;
  for (const Tensor& input : inputs)
    views.push_back(input.view());
  CancelToken cancel;
  BatchOptions batch;
  batch.max_in_flight = 2;
  batch.cancel = cancel;
  batch.on_progress = [&](const BatchProgress& progress) {
    if (progress.succeeded >= 2) cancel.cancel();
  };
  std::vector<Result<DecodeOutput>> results =
      client.decode_batch(decode_url(), views, uint8_options(), batch);
  std::size_t cancelled = 0;
  for (const Result<DecodeOutput>& result : results) {
    if (!result) {
      EXPECT_EQ(result.error().code(), ErrorCode::kCancelled);
      ++cancelled;
    }
  }
  EXPECT_GE(cancelled, 6u);
  EXPECT_LT(endpoint_.requests_for("/sdxl/decode/"), 12u);
}

TEST_F(ResilienceTest, ConcurrentCallsFromManyThreadsAllSucceed) {
  Client client(fast_retry_options());
  std::atomic<int> successes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const Tensor latents = latents_of(t + 1);
      for (int i = 0; i < 8; ++i) {
        Result<DecodeOutput> output = client.decode(decode_url(), latents.view(), uint8_options());
        if (output && output->images.at(0).width == 8 * (t + 1)) successes.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_EQ(successes.load(), 32);
}

TEST_F(ResilienceTest, TimingsAndProgressDescribeTheTransfer) {
  endpoint_.set_latency(milliseconds(40));
  Client client(fast_retry_options());
  const Tensor latents = latents_of(64);
  std::mutex mutex;
  std::vector<TransferProgress> seen;
  DecodeOptions options = uint8_options();
  options.control.on_progress = [&](const TransferProgress& progress) {
    std::lock_guard<std::mutex> lock(mutex);
    seen.push_back(progress);
  };
  Result<DecodeOutput> output = client.decode(decode_url(), latents.view(), options);
  ASSERT_TRUE(output) << output.error().what();
  const RequestTimings& timings = output->timings;
  EXPECT_EQ(timings.attempts, 1);
  EXPECT_GE(timings.server_wait, milliseconds(40));
  EXPECT_GE(timings.total, timings.server_wait + timings.download);
  EXPECT_EQ(timings.bytes_sent, latents.size_bytes());
  EXPECT_EQ(timings.bytes_received, 1u * 16 * 512 * 3);
  EXPECT_EQ(timings.endpoint, decode_url());
  EXPECT_EQ(timings.protocol, "HTTP/1.1");
  EXPECT_GE(timings.total, timings.prepare + timings.server_wait);
  std::lock_guard<std::mutex> lock(mutex);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().uploaded, latents.size_bytes());
  EXPECT_EQ(seen.back().downloaded, timings.bytes_received);
}

TEST_F(ResilienceTest, EncodeTimingsIncludePreparingThePng) {
  Client client(fast_retry_options());
  Image image{64, 64, 3, Bytes(64 * 64 * 3, 90)};
  Result<EncodeOutput> encoded =
      client.encode(endpoint_.url("/sd15/encode/"), image, EncodeOptions{});
  ASSERT_TRUE(encoded) << encoded.error().what();
  EXPECT_GT(encoded->timings.prepare.count(), 0);
  EXPECT_GE(encoded->timings.total, encoded->timings.prepare);
  // What went on the wire is the PNG the client made of the image.
  EXPECT_EQ(encoded->timings.bytes_sent, encode_png(image).value().size());
}

TEST_F(ResilienceTest, BadCallsAreRefusedBeforeAnythingIsSent) {
  const Tensor latents = latents_of(2);
  ClientOptions with_bad_token = fast_retry_options();
  with_bad_token.token = "hf_abc\r\nX-Injected: 1";
  Result<DecodeOutput> bad_token =
      Client(with_bad_token).decode(decode_url(), latents.view(), uint8_options());
  ASSERT_FALSE(bad_token);
  EXPECT_EQ(bad_token.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(bad_token.error().what(), Not(HasSubstr("hf_abc")));

  Client client(fast_retry_options());
  Result<DecodeOutput> no_url =
      client.decode(Endpoint(std::vector<std::string>{}), latents.view(), uint8_options());
  ASSERT_FALSE(no_url);
  EXPECT_EQ(no_url.error().code(), ErrorCode::kInvalidArgument);

  Result<DecodeOutput> bad_replica =
      client.decode(Endpoint{decode_url(), "ftp://elsewhere/"}, latents.view(), uint8_options());
  ASSERT_FALSE(bad_replica);
  EXPECT_EQ(bad_replica.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(bad_replica.error().message(), HasSubstr("replica 2"));
  EXPECT_EQ(endpoint_.total_requests(), 0u);
}

TEST(ReplicaTest, SkipsAFailingReplicaAndSpreadsLoad) {
  ReferenceEndpoint first;
  ReferenceEndpoint second;
  ASSERT_TRUE(first.start());
  ASSERT_TRUE(second.start());
  const std::string dead =
      "http://127.0.0.1:" + std::to_string(testing_support::unused_port()) + "/sdxl/decode/";
  ClientOptions options = fast_retry_options();
  options.replica_cooldown = milliseconds(60'000);
  Client client(options);
  const Tensor latents = latents_of(2);
  const Endpoint replicas{dead, first.url("/sdxl/decode/"), second.url("/sdxl/decode/")};

  // The dead replica is tried at most once, then skipped for the cooldown.
  int attempts = 0;
  for (int i = 0; i < 6; ++i) {
    Result<DecodeOutput> output = client.decode(replicas, latents.view(), uint8_options());
    ASSERT_TRUE(output) << output.error().what();
    attempts += output->timings.attempts;
    EXPECT_NE(output->timings.endpoint, dead);
  }
  EXPECT_LE(attempts, 7);
  // Sequential calls see equal load, so both live replicas take turns.
  EXPECT_GE(first.requests_for("/sdxl/decode/"), 2u);
  EXPECT_GE(second.requests_for("/sdxl/decode/"), 2u);
}

TEST(AuthTest, TokenNeverAppearsInErrorsOrLogs) {
  ReferenceEndpoint endpoint;
  ASSERT_TRUE(endpoint.start());
  LogRecorder log;
  ClientOptions options = fast_retry_options();
  options.retry.max_attempts = 2;
  options.token = kToken;
  options.log = log.callback();
  options.deadline = milliseconds(3'000);
  Client client(options);
  const Tensor latents = latents_of(2);
  std::vector<Error> errors;
  endpoint.fail_next(1, 401, {}, "bad token");
  errors.push_back(client.decode(endpoint.url("/sdxl/decode/"), latents.view()).error());
  endpoint.fail_next(5, 503);
  errors.push_back(client.decode(endpoint.url("/sdxl/decode/"), latents.view()).error());
  const std::string nowhere = "http://user:" + std::string(kToken) +
                              "@127.0.0.1:" + std::to_string(testing_support::unused_port()) + "/";
  errors.push_back(client.decode(nowhere, latents.view()).error());
  endpoint.set_reply_fault(ReplyFault::kStallMidBody);
  DecodeOptions short_deadline;
  short_deadline.control.deadline = milliseconds(300);
  errors.push_back(
      client.decode(endpoint.url("/sdxl/decode/"), latents.view(), short_deadline).error());
  endpoint.clear_faults();
  for (const Error& error : errors)
    EXPECT_THAT(error.what(), Not(HasSubstr("TopSecret")));
  for (const auto& line : log.snapshot())
    EXPECT_THAT(line.text, Not(HasSubstr("TopSecret")));
  EXPECT_EQ(errors[0].code(), ErrorCode::kUnauthenticated);
}

TEST(AuthTest, TokenComesFromHfTokenAndScaleUpHeaderIsSent) {
  testing_support::ScriptedServer server;
  set_env("HF_TOKEN", "hf_from_environment");
  ClientOptions options;
  options.scale_up_timeout = std::chrono::seconds(120);
  Client client(options);
  unset_env("HF_TOKEN");
  EXPECT_EQ(client.options().token, "hf_from_environment");
  const Tensor latents = latents_of(1);
  (void)client.decode(server.url("/"), latents.view());
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].header("X-Scale-Up-Timeout"), "120");
  // A Hugging Face token goes only to Hugging Face over https: this server is neither (before,
  // any endpoint got it, in clear).
  EXPECT_FALSE(server.requests()[0].has_header("Authorization"));
}

TEST(AuthTest, ATokenGivenForRvaeGoesToAnyEndpointButNotInClearToAnotherMachine) {
  testing_support::ScriptedServer server;
  set_env("HF_TOKEN", "hf_from_environment");
  set_env("RVAE_TOKEN", "rvae_from_environment");
  Client client;
  unset_env("RVAE_TOKEN");
  unset_env("HF_TOKEN");
  const Tensor latents = latents_of(1);
  (void)client.decode(server.url("/"), latents.view());
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].header("Authorization"), "Bearer rvae_from_environment");

  // Refused before anything is sent (nothing listens at that address; nothing is tried).
  const Result<DecodeOutput> in_clear =
      client.decode("http://192.0.2.1:8000/v2/models/vae_decoder", latents.view());
  EXPECT_THAT(in_clear, IsError(ErrorCode::kInvalidArgument, HasSubstr("in clear over http")));
  EXPECT_THAT(in_clear.error().what(), Not(HasSubstr("rvae_from_environment")));
  const Result<DecodeOutput> replica =
      client.decode(Endpoint({server.url("/"), "http://192.0.2.1:8000/"}), latents.view());
  EXPECT_THAT(replica, IsError(ErrorCode::kInvalidArgument, HasSubstr("192.0.2.1")));
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(AuthTest, MaxInFlightBoundsConcurrentRequests) {
  testing_support::ScriptedServer server;
  std::atomic<int> now_running{0};
  std::atomic<int> most{0};
  server.set_handler([&](const httplib::Request&, httplib::Response& response) {
    const int running = now_running.fetch_add(1) + 1;
    int seen = most.load();
    while (running > seen && !most.compare_exchange_weak(seen, running)) {
    }
    std::this_thread::sleep_for(milliseconds(30));  // Server-side work, not synchronisation.
    now_running.fetch_sub(1);
    response.set_header("shape", "[1,16,8,3]");
    response.set_header("dtype", "uint8");
    response.set_content(std::string(16 * 8 * 3, '\x7f'), "tensor/binary");
  });
  ClientOptions options;
  options.token_from_environment = false;
  options.max_in_flight = 3;
  Client client(options);
  const Tensor latents = latents_of(1);
  std::vector<Pending<DecodeOutput>> pending;
  for (int i = 0; i < 9; ++i) {
    pending.push_back(client.decode_async(server.url("/"), latents.view(), uint8_options()));
  }
  for (Pending<DecodeOutput>& call : pending)
    EXPECT_TRUE(call.get());
  EXPECT_LE(most.load(), 3);
  EXPECT_EQ(server.requests().size(), 9u);
}

}  // namespace
}  // namespace rvae
