#include <gtest/gtest.h>

#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

namespace runicorn {
namespace {

Result<int> half(int x) {
    if (x % 2 != 0) {
        return Status::invalid_argument(std::to_string(x) + " is odd");
    }
    return x / 2;
}

Result<int> quarter(int x) {
    RUNICORN_ASSIGN_OR_RETURN(int h, half(x));
    RUNICORN_ASSIGN_OR_RETURN(int q, half(h));
    return q;
}

Status check_even(int x) {
    RUNICORN_RETURN_IF_ERROR(half(x).has_value() ? Status::ok() : half(x).error());
    return Status::ok();
}

TEST(StatusTest, OkCarriesNoMessage) {
    Status s(StatusCode::kOk, "ignored");
    EXPECT_TRUE(s.is_ok());
    EXPECT_EQ(s.message(), "");
    EXPECT_EQ(s.to_string(), "OK");
}

TEST(StatusTest, NamedConstructorsAndContext) {
    Status s = Status::not_found("no such run").with_context("loading run 'x'");
    EXPECT_EQ(s.code(), StatusCode::kNotFound);
    EXPECT_EQ(s.message(), "loading run 'x': no such run");
    EXPECT_EQ(s.to_string(), "NOT_FOUND: loading run 'x': no such run");
    EXPECT_EQ(Status::ok().with_context("ctx"), Status::ok());
}

TEST(StatusTest, MacrosPropagateTheFirstError) {
    EXPECT_EQ(quarter(8).value(), 2);
    ASSERT_FALSE(quarter(6).has_value());
    EXPECT_EQ(quarter(6).error(), Status::invalid_argument("3 is odd"));
    EXPECT_EQ(check_even(3), Status::invalid_argument("3 is odd"));
    EXPECT_TRUE(check_even(4).is_ok());
}

TEST(StatusTest, ValueOnErrorThrowsStatusError) {
    try {
        (void)half(1).value();
        FAIL() << "value() on an error must throw";
    } catch (const StatusError& e) {
        EXPECT_EQ(e.status(), Status::invalid_argument("1 is odd"));
        EXPECT_STREQ(e.what(), "INVALID_ARGUMENT: 1 is odd");
    }
}

}  // namespace
}  // namespace runicorn
