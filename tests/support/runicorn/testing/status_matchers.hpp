#pragma once

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

/// GoogleTest matchers for Status and Result<T> (STYLE.md rule 16). There is deliberately no
/// "not OK" assertion: a test names the error it expects with StatusIs.

namespace runicorn::testing {

/// Matches a Status (or a Result's error()) with code `code` and a message matching
/// `message_matcher` (a string for equality, or HasSubstr(...), StartsWith(...)).
MATCHER_P2(StatusIs, code, message_matcher,
           std::string("has code ") + std::string(::runicorn::status_code_name(code))) {
    const ::runicorn::Status& s = arg;
    if (s.code() != code) {
        *result_listener << "whose code is " << ::runicorn::status_code_name(s.code()) << " ("
                         << s.message() << ")";
        return false;
    }
    return ::testing::ExplainMatchResult(message_matcher, s.message(), result_listener);
}

/// Matches a Result<T> that holds a value matching `value_matcher`.
MATCHER_P(IsOkAndHolds, value_matcher, "holds a value that matches") {
    if (!arg.has_value()) {
        *result_listener << "which holds the error " << arg.error();
        return false;
    }
    return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

}  // namespace runicorn::testing

#define EXPECT_OK(expr) EXPECT_EQ((expr), ::runicorn::Status::ok())
#define ASSERT_OK(expr) ASSERT_EQ((expr), ::runicorn::Status::ok())
