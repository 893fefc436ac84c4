#include "protocol/http_message.hpp"

#include <gtest/gtest.h>

namespace rvae::protocol {
namespace {

TEST(IEquals, ComparesAsciiCaseInsensitively) {
  EXPECT_TRUE(iequals("Content-Type", "content-type"));
  EXPECT_TRUE(iequals("DTYPE", "dtype"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("shape", "shapes"));
  EXPECT_FALSE(iequals("shape", "shapf"));
  // Only ASCII letters fold: '[' (0x5B) and '{' (0x7B) differ by 0x20 but are not letters.
  EXPECT_FALSE(iequals("[", "{"));
}

TEST(HttpResponseHeader, FindsTheFirstMatchCaseInsensitively) {
  HttpResponse response;
  response.headers = {{"Shape", "[1]"}, {"dtype", "uint8"}, {"SHAPE", "[2]"}};
  const std::string* shape = response.header("shape");
  ASSERT_NE(shape, nullptr);
  EXPECT_EQ(*shape, "[1]");
  ASSERT_NE(response.header("DType"), nullptr);
  EXPECT_EQ(*response.header("DType"), "uint8");
  EXPECT_EQ(response.header("content-type"), nullptr);
}

TEST(HttpRequestHeader, FindsHeadersAndChoosesTheBody) {
  HttpRequest request;
  request.headers = {{"Accept", "*/*"}};
  ASSERT_NE(request.header("accept"), nullptr);
  EXPECT_EQ(*request.header("accept"), "*/*");
  EXPECT_EQ(request.header("Content-Type"), nullptr);

  const std::uint8_t borrowed[3] = {1, 2, 3};
  request.borrowed_body = borrowed;
  request.borrowed_body_size = sizeof borrowed;
  EXPECT_EQ(request.body_data(), borrowed);
  EXPECT_EQ(request.body_size(), 3u);
  request.owned_body = {9, 8};
  EXPECT_EQ(request.body_data(), request.owned_body.data());
  EXPECT_EQ(request.body_size(), 2u);
}

}  // namespace
}  // namespace rvae::protocol
