// Network faults a new user meets on the first day, each seen through the public Client: an
// offline machine, redirects, phase timings, oversized headers and replies, callbacks that
// throw, a dropped Pending, and batches over plain HTTP.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "codec/jpeg_split.hpp"
#include "rvae/rvae.hpp"
#include "support/raw_server.hpp"
#include "support/scripted_server.hpp"

namespace rvae {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::RawRequestHead;
using testing_support::RawServer;
using testing_support::ScriptedServer;

ClientOptions quiet_options() {
  ClientOptions options;
  options.token_from_environment = false;
  options.retry.max_attempts = 1;
  options.deadline = milliseconds(20'000);
  return options;
}

Tensor small_latents() {
  return Tensor::from_floats({1, 4, 2, 1}, std::vector<float>(8, 0.25f)).value();
}

DecodeOptions uint8_options() {
  DecodeOptions options;
  options.output_type = OutputType::kUInt8;
  return options;
}

// The uint8 reply that small_latents() asks for: [1, 16, 8, 3].
void answer_small_uint8(httplib::Response& response) {
  response.set_header("shape", "[1,16,8,3]");
  response.set_header("dtype", "uint8");
  response.set_content(std::string(16 * 8 * 3, '\x7f'), "tensor/binary");
}

// ---- 1. An unresolvable host (what the default endpoint gives offline).

TEST(NetworkFaultsTest, UnresolvableHostIsUnavailableRetriedAndNamed) {
  ClientOptions options = quiet_options();
  options.retry.max_attempts = 3;
  options.retry.initial_backoff = milliseconds(1);
  options.retry.max_backoff = milliseconds(2);
  Client client(options);
  const Tensor latents = small_latents();
  Result<DecodeOutput> result =
      client.decode("http://rvae-no-such-host.invalid/decode", latents.view(), uint8_options());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable) << result.error().what();
  EXPECT_TRUE(result.error().retryable());
  EXPECT_THAT(result.error().message(), HasSubstr("rvae-no-such-host.invalid"));
  EXPECT_THAT(result.error().message(), HasSubstr("3 attempts"));
  EXPECT_THAT(result.error().message(), Not(HasSubstr("option")));
}

// ---- 2. Redirects.

class MethodChangingRedirectTest : public ::testing::TestWithParam<int> {};

TEST_P(MethodChangingRedirectTest, IsAnErrorNamingTheTarget) {
  ScriptedServer target;
  target.set_handler([](const httplib::Request&, httplib::Response& response) {
    answer_small_uint8(response);  // What a body-less GET would get, and must not be taken.
  });
  ScriptedServer origin;
  origin.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.status = GetParam();
    response.set_header("Location", target.url("/moved-here"));
  });
  Client client(quiet_options());
  const Tensor latents = small_latents();
  Result<DecodeOutput> result = client.decode(origin.url("/"), latents.view(), uint8_options());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(result.error().retryable());
  EXPECT_THAT(result.error().message(), HasSubstr(target.url("/moved-here")));
  EXPECT_THAT(result.error().message(), HasSubstr(std::to_string(GetParam())));
  EXPECT_TRUE(target.requests().empty());
}

INSTANTIATE_TEST_SUITE_P(Statuses, MethodChangingRedirectTest, ::testing::Values(301, 302, 303));

class BodyKeepingRedirectTest : public ::testing::TestWithParam<int> {};

TEST_P(BodyKeepingRedirectTest, IsFollowedWithTheBodyResent) {
  ScriptedServer target;
  target.set_handler(
      [](const httplib::Request&, httplib::Response& response) { answer_small_uint8(response); });
  ScriptedServer origin;
  origin.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.status = GetParam();
    response.set_header("Location", target.url("/moved-here?x=1"));
  });
  Client client(quiet_options());
  const Tensor latents = small_latents();
  Result<DecodeOutput> result = client.decode(origin.url("/"), latents.view(), uint8_options());
  ASSERT_TRUE(result) << result.error().what();
  ASSERT_EQ(target.requests().size(), 1u);
  EXPECT_EQ(target.requests()[0].method, "POST");
  EXPECT_EQ(target.requests()[0].target, "/moved-here?x=1");
  EXPECT_EQ(target.requests()[0].body, origin.requests().at(0).body);
  EXPECT_EQ(target.requests()[0].body.size(), latents.view().size_bytes);
}

INSTANTIATE_TEST_SUITE_P(Statuses, BodyKeepingRedirectTest, ::testing::Values(307, 308));

TEST(NetworkFaultsTest, RedirectToAnotherPortOfTheSameHostDropsTheToken) {
  ScriptedServer target;
  target.set_handler(
      [](const httplib::Request&, httplib::Response& response) { answer_small_uint8(response); });
  ScriptedServer origin;
  origin.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.status = 307;
    response.set_header("Location", target.url("/"));  // Same 127.0.0.1, other port.
  });
  ClientOptions options = quiet_options();
  options.token = "hf_secret_token";
  Client client(options);
  const Tensor latents = small_latents();
  Result<DecodeOutput> result = client.decode(origin.url("/"), latents.view(), uint8_options());
  ASSERT_TRUE(result) << result.error().what();
  EXPECT_EQ(origin.requests().at(0).header("Authorization"), "Bearer hf_secret_token");
  ASSERT_EQ(target.requests().size(), 1u);
  EXPECT_FALSE(target.requests()[0].has_header("Authorization"));
}

// ---- 3. Phase timings against a server whose pauses are known.

constexpr milliseconds kServerPause{200};

TEST(NetworkFaultsTest, ServerWaitIsTheTimeBetweenBodyReadAndStatusLine) {
  const std::string reply(512 * 1024 * 3, '\x40');  // [1,512,1024,3] uint8.
  RawServer server([&](testing_support::Socket fd) {
    RawRequestHead head;
    if (!testing_support::read_request_head(fd, head)) return;
    testing_support::read_body(fd, head.content_length - head.body_start.size(),
                               [](const char*, std::size_t) {});
    std::this_thread::sleep_for(kServerPause);  // The server's own work, known in advance.
    testing_support::write_all(fd, testing_support::tensor_reply("[1,512,1024,3]", "uint8", reply));
  });
  Client client(quiet_options());
  // 128 KiB of latents: libcurl's own STARTTRANSFER time misplaces the phases of such a body.
  const Tensor latents =
      Tensor::from_floats({1, 4, 64, 128}, std::vector<float>(4 * 64 * 128, 0.5f)).value();
  Result<DecodeOutput> result = client.decode(server.url("/"), latents.view(), uint8_options());
  ASSERT_TRUE(result) << result.error().what();
  const RequestTimings& t = result->timings;
  EXPECT_EQ(t.bytes_received, reply.size());
  EXPECT_GE(t.server_wait, kServerPause);
  EXPECT_LT(t.download, kServerPause);
  EXPECT_LE(t.upload + t.server_wait + t.download, t.total);
}

TEST(NetworkFaultsTest, UploadEndsWhenTheLastRequestByteIsSent) {
  // A small receive buffer and a pause before reading: most of the 12 MiB body can only be
  // sent after the pause, so the upload phase must span it.
  RawServer server(
      [&](testing_support::Socket fd) {
        RawRequestHead head;
        if (!testing_support::read_request_head(fd, head)) return;
        std::this_thread::sleep_for(kServerPause);
        testing_support::read_body(fd, head.content_length - head.body_start.size(),
                                   [](const char*, std::size_t) {});
        const std::string latents(4 * 128 * 128 * 2, '\0');
        testing_support::write_all(
            fd, testing_support::tensor_reply("[1,4,128,128]", "float16", latents));
      },
      64 * 1024);
  Client client(quiet_options());
  const Tensor pixels = Tensor::zeros({1, 3, 1024, 1024}, DType::kFloat32).value();
  Result<EncodeOutput> result = client.encode(server.url("/"), pixels.view());
  ASSERT_TRUE(result) << result.error().what();
  const RequestTimings& t = result->timings;
  EXPECT_EQ(t.bytes_sent, pixels.view().size_bytes);
  EXPECT_GE(t.upload, kServerPause);
  EXPECT_LT(t.server_wait, kServerPause);
  EXPECT_LE(t.upload + t.server_wait + t.download, t.total);
}

// ---- 4. Error texts.

TEST(NetworkFaultsTest, ReplyHeadersOverTheLimitSayWhatHappened) {
  ScriptedServer server;
  server.set_handler([](const httplib::Request&, httplib::Response& response) {
    response.set_header("X-Padding", std::string(200 * 1024, 'a'));
    answer_small_uint8(response);
  });
  Client client(quiet_options());
  const Tensor latents = small_latents();
  Result<DecodeOutput> result = client.decode(server.url("/"), latents.view(), uint8_options());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(result.error().message(), HasSubstr("reply headers"));
  EXPECT_THAT(result.error().message(), HasSubstr("too large"));
  EXPECT_THAT(result.error().message(), Not(HasSubstr("out of memory")));
  EXPECT_THAT(result.error().message(), Not(HasSubstr("Out of memory")));  // libcurl's text
  EXPECT_THAT(result.error().message(), HasSubstr("KiB)"));
}

TEST(NetworkFaultsTest, AnOverlongUserAgentIsRefusedAsBadInput) {
  ScriptedServer server;
  ClientOptions options = quiet_options();
  options.user_agent = std::string(9'000'000, 'u');  // Over libcurl's 8 MB string limit.
  Client client(options);
  const Tensor latents = small_latents();
  Result<DecodeOutput> result = client.decode(server.url("/"), latents.view(), uint8_options());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(result.error().message(), HasSubstr("user agent"));
  EXPECT_TRUE(server.requests().empty());
}

// ---- 5. Exceptions thrown by the caller's callbacks become the call's error.

TEST(NetworkFaultsTest, ThrowingProgressCallbackBecomesTheError) {
  ScriptedServer server;
  server.set_handler(
      [](const httplib::Request&, httplib::Response& response) { answer_small_uint8(response); });
  Client client(quiet_options());
  const Tensor latents = small_latents();
  DecodeOptions options = uint8_options();
  options.control.on_progress = [](const TransferProgress&) {
    throw std::runtime_error("progress display broke");
  };
  Result<DecodeOutput> result = client.decode(server.url("/"), latents.view(), options);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInternal);
  EXPECT_THAT(result.error().message(), HasSubstr("progress display broke"));
  EXPECT_FALSE(result.error().retryable());
}

TEST(NetworkFaultsTest, OutOfMemoryInAProgressCallbackIsResourceExhausted) {
  ScriptedServer server;
  server.set_handler(
      [](const httplib::Request&, httplib::Response& response) { answer_small_uint8(response); });
  Client client(quiet_options());
  const Tensor latents = small_latents();
  DecodeOptions options = uint8_options();
  options.control.on_progress = [](const TransferProgress&) { throw std::bad_alloc(); };
  Result<DecodeOutput> result = client.decode(server.url("/"), latents.view(), options);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(result.error().message(), HasSubstr("out of memory"));
}

TEST(NetworkFaultsTest, ThrowingLogCallbackBecomesTheError) {
  ScriptedServer server;
  server.set_handler(
      [](const httplib::Request&, httplib::Response& response) { answer_small_uint8(response); });
  ClientOptions client_options = quiet_options();
  client_options.log = [](LogLevel, std::string_view) {
    throw std::runtime_error("log sink is full");
  };
  Client client(client_options);
  const Tensor latents = small_latents();
  Result<DecodeOutput> result = client.decode(server.url("/"), latents.view(), uint8_options());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInternal);
  EXPECT_THAT(result.error().message(), HasSubstr("log sink is full"));
}

// ---- 6. Dropping a Pending releases the caller's buffer.

TEST(NetworkFaultsTest, DroppingAPendingStopsReadingTheCallersBuffer) {
  std::mutex mutex;
  std::condition_variable changed;
  bool head_seen = false;
  bool may_read = false;
  bool finished = false;
  std::size_t body_read = 0;
  bool saw_overwritten_bytes = false;
  RawServer server(
      [&](testing_support::Socket fd) {
        RawRequestHead head;
        if (!testing_support::read_request_head(fd, head)) return;
        std::unique_lock<std::mutex> lock(mutex);
        head_seen = true;
        changed.notify_all();
        changed.wait(lock, [&] { return may_read; });
        lock.unlock();
        bool overwritten = head.body_start.find('\xAA') != std::string::npos;
        const std::size_t read =
            testing_support::read_body(fd, head.content_length - head.body_start.size(),
                                       [&](const char* data, std::size_t size) {
                                         if (std::memchr(data, 0xAA, size) != nullptr)
                                           overwritten = true;
                                       });
        lock.lock();
        body_read = head.body_start.size() + read;
        saw_overwritten_bytes = overwritten;
        finished = true;
        changed.notify_all();
      },
      64 * 1024);
  Client client(quiet_options());
  // 32 MiB: far more than the socket buffers hold, so most of it is still unsent when dropped.
  auto latents =
      std::make_unique<Tensor>(Tensor::zeros({1, 4, 1024, 2048}, DType::kFloat32).value());
  const std::size_t size = latents->view().size_bytes;
  {
    Pending<DecodeOutput> pending =
        client.decode_async(server.url("/"), latents->view(), uint8_options());
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return head_seen; });
  }  // Dropped while the upload is held back by the server.
  std::memset(latents->data(), 0xAA, size);
  latents.reset();  // Freed: under ASan any later read of it by the library is reported.
  {
    std::lock_guard<std::mutex> lock(mutex);
    may_read = true;
  }
  changed.notify_all();
  std::unique_lock<std::mutex> lock(mutex);
  changed.wait(lock, [&] { return finished; });
  EXPECT_FALSE(saw_overwritten_bytes);
  EXPECT_LT(body_read, size);
}

// ---- 7. Reply size limits.

TEST(NetworkFaultsTest, DeclaredLengthOverTheCapIsRefusedBeforeTheBody) {
  ScriptedServer server;
  server.set_handler([&](const httplib::Request&, httplib::Response& response) {
    // Headers go out, then the body never comes: only the declared length can refuse it.
    response.set_content_provider(std::size_t{1} << 30, "tensor/binary",
                                  [&](std::size_t, std::size_t, httplib::DataSink&) {
                                    server.stall();
                                    return false;
                                  });
  });
  ClientOptions options = quiet_options();
  options.max_reply_bytes = std::size_t{1} << 20;
  options.deadline = milliseconds(5'000);
  Client client(options);
  const Tensor latents = small_latents();
  Result<DecodeOutput> result = client.decode(server.url("/"), latents.view(), uint8_options());
  server.release_stalls();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kResourceExhausted) << result.error().what();
  EXPECT_THAT(result.error().message(), HasSubstr(std::to_string(options.max_reply_bytes)));
}

TEST(NetworkFaultsTest, ReplyWithoutLengthNeverHoldsMoreThanTheCap) {
  constexpr std::size_t kReplySize = 2'100'000;
  ScriptedServer server;
  server.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.set_chunked_content_provider(
        "video/mp4", [](std::size_t offset, httplib::DataSink& sink) {
          if (offset >= kReplySize) {
            sink.done();
            return true;
          }
          std::string piece(std::min<std::size_t>(65536, kReplySize - offset), '\0');
          if (offset == 0) std::memcpy(&piece[4], "ftyp", 4);
          sink.write(piece.data(), piece.size());
          return true;
        });
  });
  ClientOptions options = quiet_options();
  options.max_reply_bytes = kReplySize + 1000;
  Client client(options);
  const Tensor latents = Tensor::zeros({1, 16, 2, 1, 1}, DType::kFloat32).value();
  DecodeOptions decode;
  decode.output_type = OutputType::kMp4;
  Result<DecodeOutput> result = client.decode(server.url("/"), latents.view(), decode);
  ASSERT_TRUE(result) << result.error().what();
  EXPECT_EQ(result->encoded.size(), kReplySize);
  EXPECT_LE(result->encoded.capacity(), options.max_reply_bytes);
}

TEST(NetworkFaultsTest, RecycledPixelsReceiveTheNextReply) {
  ScriptedServer server;
  server.set_handler([](const httplib::Request&, httplib::Response& response) {
    response.set_header("shape", "[1,256,256,3]");
    response.set_header("dtype", "uint8");
    response.set_content(std::string(256 * 256 * 3, '\x11'), "tensor/binary");
  });
  Client client(quiet_options());
  const Tensor latents = Tensor::zeros({1, 4, 32, 32}, DType::kFloat16).value();
  Result<DecodeOutput> first = client.decode(server.url("/"), latents.view(), uint8_options());
  ASSERT_TRUE(first) << first.error().what();
  const std::uint8_t* storage = first->images.at(0).pixels.data();
  client.recycle(std::move(first->images[0].pixels));
  Result<DecodeOutput> second = client.decode(server.url("/"), latents.view(), uint8_options());
  ASSERT_TRUE(second) << second.error().what();
  EXPECT_EQ(second->images.at(0).pixels.data(), storage);
  EXPECT_EQ(second->images[0].pixels.size(), std::size_t{256} * 256 * 3);
  EXPECT_EQ(second->images[0].pixels[0], 0x11);
}

// A JPEG reply of a 512x512 test card (large enough to be decoded on two threads).
std::string jpeg_reply_body() {
  Image card;
  card.width = 512;
  card.height = 512;
  card.channels = 3;
  card.pixels.resize(std::size_t{512} * 512 * 3);
  for (std::size_t i = 0; i < card.pixels.size(); ++i)
    card.pixels[i] = static_cast<std::uint8_t>(i * 7 % 251);
  const Bytes jpeg = encode_jpeg(card, 90).value();
  return std::string(jpeg.begin(), jpeg.end());
}

TEST(NetworkFaultsTest, RecycledPixelsReceiveTheNextDecodedImage) {
  const std::string body = jpeg_reply_body();
  ScriptedServer server;
  server.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.set_content(body, "image/jpeg");
  });
  Client client(quiet_options());
  const Tensor latents = Tensor::zeros({1, 4, 64, 64}, DType::kFloat16).value();
  Result<DecodeOutput> first = client.decode(server.url("/"), latents.view());
  ASSERT_TRUE(first) << first.error().what();
  const Bytes first_pixels = first->images.at(0).pixels;
  const std::uint8_t* storage = first->images[0].pixels.data();
  client.recycle(std::move(first->images[0].pixels));
  client.recycle(std::move(first->encoded));
  Result<DecodeOutput> second = client.decode(server.url("/"), latents.view());
  ASSERT_TRUE(second) << second.error().what();
  // The reply went into the smaller recycled buffer, the image into the pixels' one: no page
  // faults for either, and the same pixels as a fresh decode.
  EXPECT_EQ(second->images.at(0).pixels.data(), storage);
  EXPECT_EQ(second->images[0].pixels, first_pixels);
  EXPECT_EQ(second->encoded.size(), body.size());
}

TEST(NetworkFaultsTest, DecodeThreadsOneKeepsImageDecodingOnOneThread) {
  if (!codec_detail::jpeg_split_supported() || std::thread::hardware_concurrency() < 2) {
    GTEST_SKIP() << "this build or machine never splits a JPEG decode";
  }
  const std::string body = jpeg_reply_body();
  ScriptedServer server;
  server.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.set_content(body, "image/jpeg");
  });
  const Tensor latents = Tensor::zeros({1, 4, 64, 64}, DType::kFloat16).value();
  ClientOptions one_thread = quiet_options();
  one_thread.decode_threads = 1;
  Client single(one_thread);
  Client split(quiet_options());
  const std::uint64_t before = codec_detail::split_decodes_started();
  Result<DecodeOutput> a = single.decode(server.url("/"), latents.view());
  ASSERT_TRUE(a) << a.error().what();
  EXPECT_EQ(codec_detail::split_decodes_started(), before);
  Result<DecodeOutput> b = split.decode(server.url("/"), latents.view());
  ASSERT_TRUE(b) << b.error().what();
  EXPECT_EQ(codec_detail::split_decodes_started(), before + 1);
  EXPECT_EQ(a->images.at(0).pixels, b->images.at(0).pixels);
}

TEST(NetworkFaultsTest, APendingParsedAfterItsClientIsGoneStillDecodes) {
  const std::string body = jpeg_reply_body();
  ScriptedServer server;
  server.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.set_content(body, "image/jpeg");
  });
  const Tensor latents = Tensor::zeros({1, 4, 64, 64}, DType::kFloat16).value();
  Pending<DecodeOutput> pending;
  Bytes expected;
  {
    Client client(quiet_options());
    Result<DecodeOutput> reference = client.decode(server.url("/"), latents.view());
    ASSERT_TRUE(reference) << reference.error().what();
    expected = reference->images.at(0).pixels;
    client.recycle(std::move(reference->images[0].pixels));
    pending = client.decode_async(server.url("/"), latents.view());
    ASSERT_TRUE(pending.wait_for(std::chrono::seconds(10)));
  }
  // The reply arrived before the client went; it is parsed now, without the client's pool.
  Result<DecodeOutput> late = pending.get();
  ASSERT_TRUE(late) << late.error().what();
  EXPECT_EQ(late->images.at(0).pixels, expected);
}

// ---- 8. Calls over plain HTTP start at once, not one after another.

TEST(NetworkFaultsTest, ConcurrentCallsOverPlainHttpAllStartAtOnce) {
  constexpr int kCalls = 4;
  std::mutex mutex;
  std::condition_variable arrived;
  int waiting = 0;
  ScriptedServer server;
  server.set_handler([&](const httplib::Request&, httplib::Response& response) {
    std::unique_lock<std::mutex> lock(mutex);
    ++waiting;
    arrived.notify_all();
    // Each request is answered only once all have arrived; a client that sends them one at a
    // time gets 503 after the bound instead.
    if (!arrived.wait_for(lock, std::chrono::seconds(5), [&] { return waiting >= kCalls; })) {
      response.status = 503;
      return;
    }
    answer_small_uint8(response);
  });
  Client client(quiet_options());
  const Tensor latents = small_latents();
  std::vector<Pending<DecodeOutput>> pending;
  for (int i = 0; i < kCalls; ++i)
    pending.push_back(client.decode_async(server.url("/"), latents.view(), uint8_options()));
  for (Pending<DecodeOutput>& call : pending) {
    Result<DecodeOutput> result = call.get();
    EXPECT_TRUE(result) << result.error().what();
  }
}

}  // namespace
}  // namespace rvae
