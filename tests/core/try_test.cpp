// RVAE_TRY and RVAE_ASSIGN_OR_RETURN (src/core/try.hpp): the value on success, the same error
// (code, message and the optional parts) on failure, the expression evaluated once, in functions
// returning Result<T> and Result<void>.
#include "core/try.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "support/result_matchers.hpp"

namespace rvae {
namespace {

using ::testing::HasSubstr;
using testing_support::IsError;
using testing_support::IsOk;

Error sample_error() {
  return Error(ErrorCode::kDataLoss, "shape [2,3] does not match 7 bytes")
      .with_http_status(502)
      .with_server_message("bad gateway")
      .with_retryable(true);
}

// Counts its calls, so each test can check the macro evaluated its argument exactly once.
struct Source {
  int calls = 0;
  Result<int> number(bool ok) {
    ++calls;
    if (ok) return 7;
    return sample_error();
  }
  Result<void> check(bool ok) {
    ++calls;
    if (ok) return {};
    return sample_error();
  }
  Result<std::unique_ptr<int>> owned(bool ok) {
    ++calls;
    if (ok) return std::make_unique<int>(11);
    return sample_error();
  }
};

void expect_same_as_sample(const Error& error) {
  EXPECT_EQ(error.code(), ErrorCode::kDataLoss);
  EXPECT_EQ(error.message(), "shape [2,3] does not match 7 bytes");
  EXPECT_EQ(error.http_status(), 502);
  EXPECT_EQ(error.server_message(), "bad gateway");
  EXPECT_TRUE(error.retryable());
}

Result<int> twice(Source& source, bool ok) {
  RVAE_ASSIGN_OR_RETURN(int n, source.number(ok));
  return 2 * n;
}

Result<void> check_then_continue(Source& source, bool ok, bool& reached_end) {
  RVAE_TRY(source.check(ok));
  reached_end = true;
  return {};
}

Result<int> try_in_value_function(Source& source, bool ok) {
  RVAE_TRY(source.number(ok));  // The value is discarded.
  return 1;
}

Result<void> assign_in_void_function(Source& source, bool ok, int& out) {
  RVAE_ASSIGN_OR_RETURN(out, source.number(ok));  // Assigns an existing object.
  return {};
}

TEST(TryMacros, AssignOrReturnTakesTheValue) {
  Source source;
  EXPECT_THAT(twice(source, true), IsOk());
  EXPECT_EQ(twice(source, true).value(), 14);
  EXPECT_EQ(source.calls, 2);
}

TEST(TryMacros, AssignOrReturnPropagatesTheErrorUnchanged) {
  Source source;
  Result<int> result = twice(source, false);
  EXPECT_EQ(source.calls, 1);
  ASSERT_FALSE(result.has_value());
  expect_same_as_sample(result.error());
}

TEST(TryMacros, TryContinuesOnSuccessAndReturnsTheErrorOnFailure) {
  Source source;
  bool reached_end = false;
  EXPECT_THAT(check_then_continue(source, true, reached_end), IsOk());
  EXPECT_TRUE(reached_end);
  EXPECT_EQ(source.calls, 1);

  reached_end = false;
  Result<void> failed = check_then_continue(source, false, reached_end);
  EXPECT_FALSE(reached_end);
  EXPECT_EQ(source.calls, 2);
  ASSERT_FALSE(failed.has_value());
  expect_same_as_sample(failed.error());
}

TEST(TryMacros, TryOfAValueResultInAValueFunction) {
  Source source;
  EXPECT_EQ(try_in_value_function(source, true).value(), 1);
  Result<int> failed = try_in_value_function(source, false);
  EXPECT_EQ(source.calls, 2);
  ASSERT_FALSE(failed.has_value());
  expect_same_as_sample(failed.error());
}

TEST(TryMacros, AssignOrReturnIntoAnExistingObjectInAVoidFunction) {
  Source source;
  int out = 0;
  EXPECT_THAT(assign_in_void_function(source, true, out), IsOk());
  EXPECT_EQ(out, 7);
  out = -1;
  EXPECT_THAT(assign_in_void_function(source, false, out),
              IsError(ErrorCode::kDataLoss, HasSubstr("7 bytes")));
  EXPECT_EQ(out, -1);  // Untouched on failure.
  EXPECT_EQ(source.calls, 2);
}

// Several uses in one function: the temporaries are distinct (this must compile under -Wshadow),
// a move-only value is moved out, and an lvalue result is checked in place, not consumed.
Result<int> several(Source& source, bool ok_last) {
  RVAE_ASSIGN_OR_RETURN(std::unique_ptr<int> a, source.owned(true));
  RVAE_ASSIGN_OR_RETURN(const int b, source.number(true));
  Result<std::unique_ptr<int>> kept = source.owned(true);
  RVAE_TRY(kept);
  if (!kept.has_value() || *kept.value() != 11) return Error(ErrorCode::kInternal, "consumed");
  RVAE_ASSIGN_OR_RETURN(auto c, source.number(ok_last));
  return *a + b + c;
}

TEST(TryMacros, SeveralUsesInOneFunction) {
  Source source;
  EXPECT_EQ(several(source, true).value(), 11 + 7 + 7);
  EXPECT_EQ(source.calls, 4);
  EXPECT_THAT(several(source, false), IsError(ErrorCode::kDataLoss));
  EXPECT_EQ(source.calls, 8);
}

// The macros are statements: RVAE_TRY also works as the body of an unbraced if.
Result<void> guarded(Source& source, bool check, bool ok) {
  if (check) RVAE_TRY(source.check(ok));
  return {};
}

TEST(TryMacros, TryIsOneStatement) {
  Source source;
  EXPECT_THAT(guarded(source, false, false), IsOk());
  EXPECT_EQ(source.calls, 0);
  EXPECT_THAT(guarded(source, true, false), IsError(ErrorCode::kDataLoss));
  EXPECT_EQ(source.calls, 1);
}

}  // namespace
}  // namespace rvae
