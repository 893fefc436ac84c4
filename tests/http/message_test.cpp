#include "http/message.hpp"

#include <gtest/gtest.h>

namespace rvae::http {
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

TEST(HttpRequestHeader, FindsHeadersCaseInsensitively) {
  HttpRequest request;
  request.headers = {{"Accept", "*/*"}};
  ASSERT_NE(request.header("accept"), nullptr);
  EXPECT_EQ(*request.header("accept"), "*/*");
  EXPECT_EQ(request.header("Content-Type"), nullptr);
}

TEST(BodyTest, OwnedAndBorrowedPiecesInOrderWithoutCopies) {
  const std::uint8_t borrowed[3] = {1, 2, 3};
  Body body;
  EXPECT_TRUE(body.empty());
  body.append_owned(Bytes{9, 8});
  body.append_borrowed(borrowed, sizeof borrowed);
  body.append_borrowed(borrowed, 0);  // Empty pieces are not kept.
  body.append_owned(Bytes{});
  ASSERT_EQ(body.pieces().size(), 2u);
  EXPECT_EQ(body.size(), 5u);
  EXPECT_EQ(body.pieces()[0].size, 2u);
  EXPECT_EQ(body.pieces()[0].data[0], 9);
  EXPECT_EQ(body.pieces()[1].data, borrowed);  // The caller's bytes, not a copy.
  EXPECT_EQ(body.pieces()[1].size, 3u);
}

TEST(BodyTest, OwnedPiecesStayValidWhenTheBodyMovesOrGrows) {
  Body body;
  body.append_owned(Bytes(1000, 7));
  const std::uint8_t* first = body.pieces()[0].data;
  for (int i = 0; i < 64; ++i)
    body.append_owned(Bytes(10, static_cast<std::uint8_t>(i)));
  Body moved = std::move(body);
  EXPECT_EQ(moved.pieces()[0].data, first);
  EXPECT_EQ(moved.pieces()[0].data[999], 7);
  EXPECT_EQ(moved.pieces()[64].data[0], 63);
  EXPECT_EQ(moved.size(), 1000u + 64u * 10u);
}

}  // namespace
}  // namespace rvae::http
