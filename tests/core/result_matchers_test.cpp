// The Result matchers of tests/support/result_matchers.hpp: what they accept, what they refuse,
// and that a refusal names the code and message the test got.
#include "support/result_matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace rvae {
namespace {

using ::testing::ExplainMatchResult;
using ::testing::HasSubstr;
using ::testing::Matcher;
using ::testing::Matches;
using ::testing::Not;
using ::testing::StringMatchResultListener;
using testing_support::IsError;
using testing_support::IsOk;

const Result<int> kValue = 3;
const Result<int> kDataLoss = Error(ErrorCode::kDataLoss, "shape [2,3] needs 24 bytes");
const Result<void> kVoidOk;
const Result<void> kVoidNotFound = Error(ErrorCode::kNotFound, "no such file");

// Why `matcher` refuses `value`, as EXPECT_THAT would print it after "Actual: ...".
template <typename M, typename T>
std::string explain(const M& matcher, const T& value) {
  StringMatchResultListener listener;
  EXPECT_FALSE(ExplainMatchResult(matcher, value, &listener));
  return listener.str();
}

template <typename T, typename M>
std::string describe(const M& matcher) {
  return ::testing::DescribeMatcher<const T&>(matcher);
}

TEST(ResultMatchers, IsOkAcceptsValuesAndRefusesErrors) {
  EXPECT_TRUE(Matches(IsOk())(kValue));
  EXPECT_TRUE(Matches(IsOk())(kVoidOk));
  EXPECT_FALSE(Matches(IsOk())(kDataLoss));
  EXPECT_FALSE(Matches(IsOk())(kVoidNotFound));
  EXPECT_THAT(kDataLoss, Not(IsOk()));
}

TEST(ResultMatchers, IsOkExplainsTheErrorItGot) {
  const std::string why = explain(IsOk(), kDataLoss);
  EXPECT_THAT(why, HasSubstr("DataLoss"));
  EXPECT_THAT(why, HasSubstr("shape [2,3] needs 24 bytes"));
  EXPECT_EQ(describe<Result<int>>(IsOk()), "is OK");
}

TEST(ResultMatchers, IsErrorWithACodeOnly) {
  EXPECT_TRUE(Matches(IsError(ErrorCode::kDataLoss))(kDataLoss));
  EXPECT_TRUE(Matches(IsError(ErrorCode::kNotFound))(kVoidNotFound));
  EXPECT_FALSE(Matches(IsError(ErrorCode::kDataLoss))(kValue));
  EXPECT_FALSE(Matches(IsError(ErrorCode::kDataLoss))(kVoidOk));
  EXPECT_FALSE(Matches(IsError(ErrorCode::kInvalidArgument))(kDataLoss));
}

TEST(ResultMatchers, IsErrorWithAMessageMatcher) {
  EXPECT_TRUE(Matches(IsError(ErrorCode::kDataLoss, HasSubstr("24 bytes")))(kDataLoss));
  // A plain string must equal the whole message.
  EXPECT_TRUE(Matches(IsError(ErrorCode::kNotFound, "no such file"))(kVoidNotFound));
  EXPECT_FALSE(Matches(IsError(ErrorCode::kNotFound, "no such"))(kVoidNotFound));
  // Right message, wrong code; right code, wrong message; no error at all.
  EXPECT_FALSE(Matches(IsError(ErrorCode::kInternal, HasSubstr("24 bytes")))(kDataLoss));
  EXPECT_FALSE(Matches(IsError(ErrorCode::kDataLoss, HasSubstr("25 bytes")))(kDataLoss));
  EXPECT_FALSE(Matches(IsError(ErrorCode::kDataLoss, HasSubstr("")))(kValue));
}

TEST(ResultMatchers, IsErrorExplainsWhatDiffered) {
  EXPECT_EQ(explain(IsError(ErrorCode::kDataLoss), kValue), "which is OK");
  EXPECT_EQ(explain(IsError(ErrorCode::kInternal), kDataLoss),
            "whose code is DataLoss (message \"shape [2,3] needs 24 bytes\")");
  EXPECT_EQ(explain(IsError(ErrorCode::kDataLoss, HasSubstr("25 bytes")), kDataLoss),
            "whose message \"shape [2,3] needs 24 bytes\" does not match");
  EXPECT_EQ(describe<Result<int>>(IsError(ErrorCode::kDataLoss, HasSubstr("shape"))),
            "is an error with code DataLoss and a message that has substring \"shape\"");
}

TEST(ResultMatchers, WorkWithMoveOnlyValues) {
  const Result<std::unique_ptr<int>> owned = std::make_unique<int>(1);
  const Result<std::unique_ptr<int>> failed = Error(ErrorCode::kCancelled, "stopped");
  EXPECT_THAT(owned, IsOk());
  EXPECT_THAT(failed, IsError(ErrorCode::kCancelled, HasSubstr("stop")));
}

TEST(ResultMatchers, PrintsAResultAsItsOutcome) {
  EXPECT_EQ(::testing::PrintToString(kValue), "OK");
  EXPECT_EQ(::testing::PrintToString(kDataLoss), "error DataLoss: shape [2,3] needs 24 bytes");
}

}  // namespace
}  // namespace rvae
