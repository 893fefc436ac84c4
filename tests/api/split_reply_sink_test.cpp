// The sink that receives an Open Inference reply in two parts: the JSON header apart, the rest
// into a buffer of its own, whatever the chunks; a reply that is not split whole; limits.
#include "api/split_reply_sink.hpp"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.hpp"

namespace rvae::detail {
namespace {

using ::testing::HasSubstr;
using testing_support::IsError;
using testing_support::IsOk;

std::vector<http::Header> headers_of(std::size_t header_length, std::size_t length) {
  return {{"Content-Length", std::to_string(length)},
          {"Inference-Header-Content-Length", std::to_string(header_length)}};
}

// Feeds `body` to the sink in chunks of `chunk` bytes.
void feed(SplitReplySink& sink, const std::string& body, std::size_t chunk) {
  for (std::size_t at = 0; at < body.size(); at += chunk) {
    const std::size_t n = std::min(chunk, body.size() - at);
    const auto flow = sink.write(reinterpret_cast<const std::uint8_t*>(body.data() + at), n);
    ASSERT_THAT(flow, IsOk());
    EXPECT_EQ(*flow, transport::ReplySink::Flow::kTaken);
  }
}

std::string text(const Bytes& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

TEST(SplitReplySink, KeepsTheJsonHeaderApartWhateverTheChunks) {
  BufferPool pool(4, 1 << 20);
  const std::string json = R"({"outputs":[]})";
  const std::string body = json + "0123456789";
  for (std::size_t chunk : {1u, 3u, 14u, 15u, 100u}) {
    SplitReplySink sink(&pool, 1024, 1 << 20, 1 << 20);
    ASSERT_THAT(sink.begin(200, headers_of(json.size(), body.size()), nullptr), IsOk());
    feed(sink, body, chunk);
    EXPECT_EQ(text(sink.take_header()), json) << chunk;
    EXPECT_EQ(text(sink.take_body()), "0123456789") << chunk;
  }
}

TEST(SplitReplySink, EachAttemptStartsOverAndItsBufferComesFromThePool) {
  BufferPool pool(4, 1 << 20);
  Bytes recycled;
  recycled.reserve(4096);
  const std::uint8_t* pooled = recycled.data();
  pool.give(std::move(recycled));
  SplitReplySink sink(&pool, 1024, 1 << 20, 1 << 20);
  ASSERT_THAT(sink.begin(200, headers_of(2, 12), nullptr), IsOk());
  feed(sink, "{}AAAAA", 4);  // cut short: the transfer fails, and is retried
  ASSERT_THAT(sink.begin(200, headers_of(2, 7), nullptr), IsOk());
  feed(sink, "{}BBBBB", 4);
  EXPECT_EQ(text(sink.take_header()), "{}");
  const Bytes body = sink.take_body();
  EXPECT_EQ(text(body), "BBBBB");
  EXPECT_EQ(body.data(), pooled);
}

TEST(SplitReplySink, RepliesThatCannotBeSplitStayWhole) {
  BufferPool pool(4, 1 << 20);
  // The JSON form (no header length), a header length over the limit, one past the body.
  const std::string body = R"({"outputs":[{"name":"x","data":[1]}]})";
  const std::vector<std::vector<http::Header>> cases = {
      {{"Content-Length", std::to_string(body.size())}},
      headers_of(20, body.size()),
      headers_of(body.size() + 1, body.size()),
      {{"Inference-Header-Content-Length", "twelve"}}};
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SplitReplySink sink(&pool, i == 1 ? 10 : 1024, 1 << 20, 1 << 20);
    ASSERT_THAT(sink.begin(200, cases[i], nullptr), IsOk());
    feed(sink, body, 7);
    EXPECT_TRUE(sink.take_header().empty()) << i;
    EXPECT_EQ(text(sink.take_body()), body) << i;
  }
}

TEST(SplitReplySink, NoReplyGrowsPastTheLimit) {
  BufferPool pool(4, 1 << 20);
  SplitReplySink declared(&pool, 1024, 100, 50);
  EXPECT_THAT(declared.begin(200, headers_of(2, 101), nullptr),
              IsError(ErrorCode::kResourceExhausted, HasSubstr("101 bytes")));
  SplitReplySink undeclared(&pool, 1024, 100, 50);
  ASSERT_THAT(undeclared.begin(200, {{"Inference-Header-Content-Length", "2"}}, nullptr), IsOk());
  const std::string big(101, 'x');
  EXPECT_THAT(undeclared.write(reinterpret_cast<const std::uint8_t*>(big.data()), big.size()),
              IsError(ErrorCode::kResourceExhausted, HasSubstr("100 bytes")));
  // The JSON form has its own, lower limit, declared or not.
  SplitReplySink json(&pool, 1024, 100, 50);
  EXPECT_THAT(json.begin(200, {{"Content-Length", "60"}}, nullptr),
              IsError(ErrorCode::kResourceExhausted, HasSubstr("JSON form")));
  ASSERT_THAT(json.begin(200, {}, nullptr), IsOk());
  const std::string text(51, '1');
  EXPECT_THAT(json.write(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
              IsError(ErrorCode::kResourceExhausted, HasSubstr("50 bytes for the JSON form")));
}

}  // namespace
}  // namespace rvae::detail
