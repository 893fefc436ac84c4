// Request bodies of several pieces, and reply sinks that take a body as it arrives and pause
// and resume their transfer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "support/scripted_server.hpp"
#include "support/test_data.hpp"
#include "transport/transport.hpp"

namespace rvae::transport {
namespace {

using ::testing::HasSubstr;
using testing_support::random_bytes;
using testing_support::ScriptedServer;

// Keeps what it is given; pauses its transfer when told to.
class CollectingSink final : public ReplySink {
 public:
  Result<void> begin(int status, const std::vector<http::Header>& headers, Resume resume) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++begun_;
    status_ = status;
    headers_ = headers;
    resume_ = std::move(resume);
    if (fail_begin_) return Error(ErrorCode::kDataLoss, "the reply's shape is not the one asked");
    return {};
  }
  Result<Flow> write(const std::uint8_t* data, std::size_t size) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (fail_after_ != 0 && body_.size() >= fail_after_) {
      return Error(ErrorCode::kResourceExhausted, "the destination is full");
    }
    if (pause_next_) {
      pause_next_ = false;
      ++pauses_;
      paused_.notify_all();
      return Flow::kPause;
    }
    body_.append(reinterpret_cast<const char*>(data), size);
    ++writes_;
    return Flow::kTaken;
  }

  void pause_next() {
    std::lock_guard<std::mutex> lock(mutex_);
    pause_next_ = true;
  }
  void wait_paused() {
    std::unique_lock<std::mutex> lock(mutex_);
    paused_.wait(lock, [this] { return pauses_ > 0; });
  }
  void resume() {
    Resume resume;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      resume = resume_;
    }
    resume();
  }
  void fail_begin() { fail_begin_ = true; }
  void fail_after(std::size_t bytes) { fail_after_ = bytes; }

  std::string body() {
    std::lock_guard<std::mutex> lock(mutex_);
    return body_;
  }
  int begun() {
    std::lock_guard<std::mutex> lock(mutex_);
    return begun_;
  }
  int status() {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
  }
  int writes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return writes_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable paused_;
  std::string body_;
  std::vector<http::Header> headers_;
  Resume resume_;
  int begun_ = 0;
  int status_ = 0;
  int writes_ = 0;
  int pauses_ = 0;
  bool pause_next_ = false;
  bool fail_begin_ = false;
  std::size_t fail_after_ = 0;
};

std::shared_ptr<http::HttpRequest> post_of(const std::string& body) {
  auto request = std::make_shared<http::HttpRequest>();
  request->body.append_owned(Bytes(body.begin(), body.end()));
  return request;
}

TEST(RequestBodyTest, PiecesAreSentInOrderAndResentWholeAfterARedirect) {
  ScriptedServer server;
  server.set_handler([&](const httplib::Request& request, httplib::Response& response) {
    if (request.path == "/first") {
      response.status = 307;
      response.set_header("Location", server.url("/second"));
    }
  });
  const std::string header = "{\"inputs\": []}";
  const std::string tensor = random_bytes(3 << 20, 4);  // Larger than libcurl's upload buffer.
  const std::string trailer = "end";
  auto request = std::make_shared<http::HttpRequest>();
  request->body.append_owned(Bytes(header.begin(), header.end()));
  request->body.append_borrowed(reinterpret_cast<const std::uint8_t*>(tensor.data()),
                                tensor.size());
  request->body.append_owned(Bytes(trailer.begin(), trailer.end()));

  auto transport = make_curl_transport({});
  TransferResult result = transport->send(server.url("/first"), request);
  ASSERT_TRUE(result.response) << result.response.error().what();
  EXPECT_EQ(result.response->status, 200);
  EXPECT_EQ(result.timings.bytes_sent, header.size() + tensor.size() + trailer.size());
  const std::vector<testing_support::RecordedRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  for (const testing_support::RecordedRequest& each : seen) {
    EXPECT_EQ(each.header("Content-Length"),
              std::to_string(header.size() + tensor.size() + trailer.size()));
    EXPECT_TRUE(each.body == header + tensor + trailer) << each.path;
  }
}

TEST(ReplySinkTest, ASuccessfulBodyGoesToTheSinkAndNotIntoTheReply) {
  ScriptedServer server;
  const std::string body = random_bytes(4 << 20, 5);
  server.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.set_header("shape", "[4194304]");
    response.set_content(body, "tensor/binary");
  });
  auto sink = std::make_shared<CollectingSink>();
  TransferOptions options;
  options.sink = sink;
  auto transport = make_curl_transport({});
  TransferResult result = transport->send(server.url(), post_of("x"), options);
  ASSERT_TRUE(result.response) << result.response.error().what();
  EXPECT_EQ(result.response->status, 200);
  EXPECT_TRUE(result.response->body.empty());
  ASSERT_NE(result.response->header("shape"), nullptr);
  EXPECT_EQ(result.timings.bytes_received, body.size());
  EXPECT_EQ(sink->begun(), 1);
  EXPECT_EQ(sink->status(), 200);
  EXPECT_GT(sink->writes(), 1);  // Bytes arrived in pieces, as they came.
  EXPECT_TRUE(sink->body() == body);
}

TEST(ReplySinkTest, ErrorRepliesAreBufferedForTheProtocolNotSunk) {
  ScriptedServer server;
  server.set_handler([](const httplib::Request&, httplib::Response& response) {
    response.status = 503;
    response.set_content("{\"error\": \"warming up\"}", "application/json");
  });
  auto sink = std::make_shared<CollectingSink>();
  TransferOptions options;
  options.sink = sink;
  auto transport = make_curl_transport({});
  TransferResult result = transport->send(server.url(), post_of("x"), options);
  ASSERT_TRUE(result.response) << result.response.error().what();
  EXPECT_EQ(result.response->status, 503);
  EXPECT_EQ(std::string(result.response->body.begin(), result.response->body.end()),
            "{\"error\": \"warming up\"}");
  EXPECT_EQ(sink->begun(), 0);
}

TEST(ReplySinkTest, APausedTransferWaitsWhileOthersGoOnAndResumesWhole) {
  ScriptedServer server;
  const std::string big = random_bytes(2 << 20, 6);
  server.set_handler([&](const httplib::Request& request, httplib::Response& response) {
    response.set_content(request.path == "/big" ? big : std::string("small"), "text/plain");
  });
  auto sink = std::make_shared<CollectingSink>();
  sink->pause_next();
  TransferOptions options;
  options.sink = sink;
  auto transport = make_curl_transport({});
  std::promise<TransferResult> paused_result;
  transport->submit(server.url("/big"), post_of("x"), options, Clock::now(),
                    [&](TransferResult&& result) { paused_result.set_value(std::move(result)); });
  sink->wait_paused();
  // The network thread is not blocked: another transfer completes while this one is paused.
  TransferResult other = transport->send(server.url("/small"), post_of("y"));
  ASSERT_TRUE(other.response) << other.response.error().what();
  EXPECT_EQ(std::string(other.response->body.begin(), other.response->body.end()), "small");
  std::future<TransferResult> future = paused_result.get_future();
  EXPECT_EQ(future.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  EXPECT_TRUE(sink->body().empty());  // Nothing was taken while paused.
  sink->resume();
  TransferResult result = future.get();
  ASSERT_TRUE(result.response) << result.response.error().what();
  EXPECT_TRUE(sink->body() == big);
  EXPECT_EQ(result.timings.bytes_received, big.size());
  sink->resume();  // After the end: does nothing.
}

TEST(ReplySinkTest, ASinkErrorEndsTheTransferWithIt) {
  ScriptedServer server;
  server.set_handler([&](const httplib::Request&, httplib::Response& response) {
    response.set_content(random_bytes(4 << 20, 7), "tensor/binary");
  });
  auto transport = make_curl_transport({});
  auto full = std::make_shared<CollectingSink>();
  full->fail_after(1);
  TransferOptions options;
  options.sink = full;
  TransferResult result = transport->send(server.url(), post_of("x"), options);
  ASSERT_FALSE(result.response);
  EXPECT_EQ(result.response.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(result.response.error().message(), HasSubstr("destination is full"));

  auto refusing = std::make_shared<CollectingSink>();
  refusing->fail_begin();
  options.sink = refusing;
  result = transport->send(server.url(), post_of("x"), options);
  ASSERT_FALSE(result.response);
  EXPECT_EQ(result.response.error().code(), ErrorCode::kDataLoss);
  EXPECT_TRUE(refusing->body().empty());
}

}  // namespace
}  // namespace rvae::transport
