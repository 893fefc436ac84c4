// gmock matchers for rvae::Result, in the style of abseil's status_matchers:
//   EXPECT_THAT(result, IsOk());
//   EXPECT_THAT(result, IsError(ErrorCode::kDataLoss));
//   EXPECT_THAT(result, IsError(ErrorCode::kDataLoss, HasSubstr("shape")));
// A failure prints the Result (its error's code and message) and says which part differed.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <utility>

#include "rvae/error.hpp"

namespace rvae {

// Found by ADL, so gtest prints a Result as its outcome rather than as raw object bytes.
template <typename T>
void PrintTo(const Result<T>& result, std::ostream* os) {
  if (result.has_value()) {
    *os << "OK";
  } else {
    *os << "error " << result.error().what();
  }
}

namespace testing_support {

class IsOkMatcher {
 public:
  template <typename ResultT>
  bool MatchAndExplain(const ResultT& result, ::testing::MatchResultListener* listener) const {
    if (result.has_value()) return true;
    *listener << "which is an error: " << result.error().what();
    return false;
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is an error"; }
};

class IsErrorMatcher {
 public:
  IsErrorMatcher(ErrorCode code, ::testing::Matcher<const std::string&> message)
      : code_(code), message_(std::move(message)) {}

  template <typename ResultT>
  bool MatchAndExplain(const ResultT& result, ::testing::MatchResultListener* listener) const {
    if (result.has_value()) {
      *listener << "which is OK";
      return false;
    }
    const Error& error = result.error();
    if (error.code() != code_) {
      *listener << "whose code is " << to_string(error.code()) << " (message \"" << error.message()
                << "\")";
      return false;
    }
    ::testing::StringMatchResultListener inner;
    if (!message_.MatchAndExplain(error.message(), &inner)) {
      *listener << "whose message \"" << error.message() << "\" does not match";
      if (!inner.str().empty()) *listener << ", " << inner.str();
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "is an error with code " << to_string(code_) << " and a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "is not an error with code " << to_string(code_) << " and a message that ";
    message_.DescribeTo(os);
  }

 private:
  ErrorCode code_;
  ::testing::Matcher<const std::string&> message_;
};

/// Matches a Result (of any T, or void) that holds a value.
inline ::testing::PolymorphicMatcher<IsOkMatcher> IsOk() {
  return ::testing::MakePolymorphicMatcher(IsOkMatcher());
}

/// Matches a Result holding an Error with `code` and any message.
inline ::testing::PolymorphicMatcher<IsErrorMatcher> IsError(ErrorCode code) {
  return ::testing::MakePolymorphicMatcher(
      IsErrorMatcher(code, ::testing::A<const std::string&>()));
}

/// Matches a Result holding an Error with `code` whose message matches `message`: a string
/// matcher (HasSubstr("shape"), StartsWith(...)) or a string, which must equal the message.
inline ::testing::PolymorphicMatcher<IsErrorMatcher> IsError(
    ErrorCode code, ::testing::Matcher<const std::string&> message) {
  return ::testing::MakePolymorphicMatcher(IsErrorMatcher(code, std::move(message)));
}

}  // namespace testing_support
}  // namespace rvae
