#include "rvae/error.hpp"

#include <gtest/gtest.h>

#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <variant>

namespace rvae {
namespace {

TEST(ErrorTest, WhatNamesCodeStatusAndServerMessage) {
  Error error = Error(ErrorCode::kUnavailable, "endpoint is starting")
                    .with_http_status(503)
                    .with_server_message("503 Service Unavailable")
                    .with_retryable(true);
  EXPECT_EQ(error.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(error.http_status(), 503);
  EXPECT_TRUE(error.retryable());
  EXPECT_STREQ(
      error.what(),
      "Unavailable: endpoint is starting (HTTP 503): server said: 503 Service Unavailable");
}

TEST(ErrorTest, EveryCodeHasADistinctName) {
  const ErrorCode codes[] = {ErrorCode::kInvalidArgument, ErrorCode::kDeadlineExceeded,
                             ErrorCode::kUnavailable,     ErrorCode::kResourceExhausted,
                             ErrorCode::kUnauthenticated, ErrorCode::kPermissionDenied,
                             ErrorCode::kNotFound,        ErrorCode::kDataLoss,
                             ErrorCode::kInternal,        ErrorCode::kCancelled};
  std::set<std::string> names;
  for (ErrorCode code : codes)
    names.insert(to_string(code));
  EXPECT_EQ(names.size(), std::size(codes));
  EXPECT_EQ(names.count("Unknown"), 0u);
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> ok = 42;
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 42);
  EXPECT_EQ(ok.value_or(7), 42);

  Result<int> bad = Error(ErrorCode::kNotFound, "no such file");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(ResultTest, ValueOnErrorThrowsTheError) {
  Result<std::string> bad = Error(ErrorCode::kDataLoss, "cut short");
  try {
    (void)bad.value();
    FAIL() << "value() did not throw";
  } catch (const Error& thrown) {
    EXPECT_EQ(thrown.code(), ErrorCode::kDataLoss);
    EXPECT_EQ(thrown.message(), "cut short");
  }
  Result<void> void_bad = Error(ErrorCode::kCancelled, "stopped");
  EXPECT_THROW(void_bad.value(), Error);
  Result<void> void_ok;
  EXPECT_NO_THROW(void_ok.value());
}

// std::get on the wrong alternative throws std::bad_variant_access; Result<void> keeps the same
// promise so error() on a success is never undefined behaviour, whichever Result it is.
TEST(ResultTest, ErrorOnSuccessThrowsBadVariantAccess) {
  Result<int> ok = 42;
  EXPECT_THROW((void)ok.error(), std::bad_variant_access);
  EXPECT_THROW((void)std::move(ok).error(), std::bad_variant_access);

  Result<void> void_ok;
  EXPECT_THROW((void)void_ok.error(), std::bad_variant_access);
  EXPECT_THROW((void)std::move(void_ok).error(), std::bad_variant_access);

  Result<void> void_bad = Error(ErrorCode::kCancelled, "stopped");
  EXPECT_EQ(void_bad.error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(std::move(void_bad).error().message(), "stopped");
}

TEST(ResultTest, MovesMoveOnlyValuesOut) {
  Result<std::unique_ptr<int>> ok = std::make_unique<int>(5);
  std::unique_ptr<int> taken = std::move(ok).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 5);
}

}  // namespace
}  // namespace rvae
