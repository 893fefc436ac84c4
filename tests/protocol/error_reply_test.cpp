#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol/protocol.hpp"
#include "protocol_test_util.hpp"

namespace rvae::protocol {
namespace {

using test::make_response;
using test::to_bytes;
using ::testing::HasSubstr;

Error error_for(int status, std::string body, std::string content_type = "") {
  std::vector<Header> headers;
  if (!content_type.empty()) headers.push_back({"Content-Type", std::move(content_type)});
  return error_from_reply(make_response(status, std::move(headers), to_bytes(body)));
}

TEST(ErrorFromReply, StatusToCodeAndRetry) {
  struct Case {
    int status;
    ErrorCode code;
    bool retryable;
  };
  for (const Case& c : {
           Case{400, ErrorCode::kInvalidArgument, false},
           Case{401, ErrorCode::kUnauthenticated, false},
           Case{403, ErrorCode::kPermissionDenied, false},
           Case{404, ErrorCode::kNotFound, false},
           Case{405, ErrorCode::kInvalidArgument, false},
           Case{408, ErrorCode::kDeadlineExceeded, true},
           Case{413, ErrorCode::kResourceExhausted, false},
           Case{418, ErrorCode::kInvalidArgument, false},
           Case{422, ErrorCode::kInvalidArgument, false},
           Case{429, ErrorCode::kResourceExhausted, true},
           Case{500, ErrorCode::kInternal, false},
           Case{501, ErrorCode::kUnavailable, false},
           Case{502, ErrorCode::kUnavailable, true},
           Case{503, ErrorCode::kUnavailable, true},
           Case{504, ErrorCode::kDeadlineExceeded, true},
           Case{505, ErrorCode::kUnavailable, false},
           Case{599, ErrorCode::kUnavailable, false},
           Case{301, ErrorCode::kUnavailable, false},
           Case{204, ErrorCode::kUnavailable, false},
           Case{100, ErrorCode::kUnavailable, false},
           Case{0, ErrorCode::kUnavailable, false},
       }) {
    SCOPED_TRACE(c.status);
    const Error error = error_for(c.status, "");
    EXPECT_EQ(error.code(), c.code);
    EXPECT_EQ(error.retryable(), c.retryable);
    EXPECT_EQ(error.http_status(), c.status);
    EXPECT_THAT(error.message(),
                ::testing::StartsWith("the endpoint answered HTTP " + std::to_string(c.status)));
    EXPECT_EQ(error.server_message(), "");
  }
  EXPECT_EQ(error_for(503, "").message(), "the endpoint answered HTTP 503");
  EXPECT_THAT(error_for(302, "").message(), HasSubstr("redirect"));
}

TEST(ErrorFromReply, JsonErrorField) {
  EXPECT_EQ(error_for(503, R"({"error": "503 Service Unavailable"})", "application/json")
                .server_message(),
            "503 Service Unavailable");
  EXPECT_EQ(
      error_for(
          400,
          R"({"error": "Supported `dtype`: ['float16', 'float32', 'bfloat16', 'uint8']. Got `x`."})")
          .server_message(),
      "Supported `dtype`: ['float16', 'float32', 'bfloat16', 'uint8']. Got `x`.");
  // Multi-line messages become one line; unicode escapes are decoded.
  EXPECT_EQ(error_for(400, "{\"error\": \"line one\\nline two\\u00e9\"}").server_message(),
            "line one line two\xC3\xA9");
  const Error error = error_for(400, R"({"error": "bad"})");
  EXPECT_THAT(error.what(), HasSubstr("bad"));
}

TEST(ErrorFromReply, OtherJsonIsCompacted) {
  EXPECT_EQ(error_for(404, R"({ "detail" : "Not Found" })").server_message(),
            R"({"detail":"Not Found"})");
  EXPECT_EQ(error_for(400, R"({"error": 5})").server_message(), R"({"error":5})");
  EXPECT_EQ(error_for(400, R"({"error": ""})").server_message(), R"({"error":""})");
  EXPECT_EQ(error_for(500, R"([1, 2, "x"])").server_message(), R"([1,2,"x"])");
  EXPECT_EQ(error_for(500, R"(  "quoted" )").server_message(), R"("quoted")");
  // Content-Type says JSON: scalars count too.
  EXPECT_EQ(error_for(500, "42", "application/json").server_message(), "42");
}

TEST(ErrorFromReply, InvalidJsonIsText) {
  EXPECT_EQ(error_for(500, R"({"error": "unterminated)").server_message(),
            R"({"error": "unterminated)");
  // Invalid UTF-8 inside a JSON string: not JSON for nlohmann; shown as text with '?'.
  EXPECT_EQ(error_for(500, "{\"error\": \"a\xFF\"}").server_message(), "{\"error\": \"a?\"}");
}

TEST(ErrorFromReply, HtmlTitleOrText) {
  EXPECT_EQ(error_for(503,
                      "<!DOCTYPE html>\n<html><head><TITLE>\n  503 Service\n Unavailable</TITLE>"
                      "</head><body><h1>Down</h1></body></html>",
                      "text/html")
                .server_message(),
            "503 Service Unavailable");
  EXPECT_EQ(
      error_for(502, "  <html><title>Bad &amp; worse &lt;here&gt;</title></html>").server_message(),
      "Bad & worse <here>");
  EXPECT_EQ(error_for(404,
                      "<html><head><style>body { color: red; }</style><script>var x = 1;</script>"
                      "</head><body><h1>Not\n\nFound</h1><p>The page is gone.</p></body></html>")
                .server_message(),
            "Not Found The page is gone.");
  // Empty title: fall back to the text.
  EXPECT_EQ(error_for(500, "<html><title> </title><p>Oops</p></html>").server_message(), "Oops");
  // HTML by Content-Type even without a leading tag.
  EXPECT_EQ(error_for(500, "Error <b>here</b>", "text/html; charset=utf-8").server_message(),
            "Error here");
  // An unterminated tag does not loop or crash.
  EXPECT_EQ(error_for(500, "<html><p>text<").server_message(), "text");
}

TEST(ErrorFromReply, PlainAndBinaryText) {
  EXPECT_EQ(error_for(404, "  Not\tFound \r\n\r\n").server_message(), "Not Found");
  EXPECT_EQ(error_for(500, "caf\xC3\xA9 \xE2\x82\xAC ok").server_message(),
            "caf\xC3\xA9 \xE2\x82\xAC ok");
  EXPECT_EQ(error_for(500, std::string("a\0b\x01\xFF\xC3(", 7)).server_message(),
            "a?b??"
            "?(");
  // Overlong encoding, surrogate, C1 control: all replaced.
  EXPECT_EQ(error_for(500, "x\xC0\xAFy\xED\xA0\x80z\xC2\x85w").server_message(), "x??y???z??w");
  EXPECT_EQ(error_for(500, "").server_message(), "");
  EXPECT_EQ(error_for(500, " \n\t ").server_message(), "");
}

TEST(ErrorFromReply, LongBodiesAreTruncated) {
  const std::string message = error_for(500, std::string(10000, 'a')).server_message();
  EXPECT_EQ(message, std::string(300, 'a') + "...");
  const std::string json =
      error_for(400, "{\"error\": \"" + std::string(5000, 'b') + "\"}").server_message();
  EXPECT_EQ(json, std::string(300, 'b') + "...");
  // Truncation never splits a UTF-8 character: 299 ASCII bytes, then 2-byte characters.
  std::string mixed(299, 'c');
  for (int i = 0; i < 10; ++i)
    mixed += "\xC3\xA9";
  EXPECT_EQ(error_for(500, mixed).server_message(), std::string(299, 'c') + "...");
  // A huge HTML page with no title.
  std::string page = "<html><body>";
  for (int i = 0; i < 20000; ++i)
    page += "<p>word</p>";
  const std::string html = error_for(500, page).server_message();
  EXPECT_LE(html.size(), 303u);
  EXPECT_THAT(html, ::testing::StartsWith("word word"));
  EXPECT_THAT(html, ::testing::EndsWith("..."));
}

TEST(ErrorFromReply, HostileJsonDoesNotCrash) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  Error error(ErrorCode::kInternal, "");
  EXPECT_NO_THROW(error = error_for(400, deep));
  EXPECT_EQ(error.server_message(), std::string(300, '[') + "...");
  const std::string deep_object = std::string(100000, '{');
  EXPECT_NO_THROW(error = error_for(400, deep_object, "application/json"));
  EXPECT_EQ(error.server_message(), std::string(300, '{') + "...");
  // Larger than the JSON parse limit: shown as text.
  const std::string big = "{\"error\": \"" + std::string(2 << 20, 'z') + "\"}";
  EXPECT_NO_THROW(error = error_for(400, big));
  EXPECT_THAT(error.server_message(), ::testing::StartsWith("{\"error\": \"zzz"));
}

}  // namespace
}  // namespace rvae::protocol
