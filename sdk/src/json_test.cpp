#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include <runicorn/runicorn.hpp>
#include <runicorn/testing/status_matchers.hpp>

#include "json_convert.hpp"

namespace runicorn {
namespace {

using ::runicorn::testing::StatusIs;
using ::testing::HasSubstr;

TEST(JsonTest, ObjectKeepsInsertionOrderAndSetReplacesInPlace) {
    Json j = Json::object({{"lr", 0.1}, {"opt", "sgd"}, {"bs", 32}});
    j.set("opt", "adam");
    j.set("new", true);
    EXPECT_EQ(j.dump(), R"({"lr":0.1,"opt":"adam","bs":32,"new":true})");
    ASSERT_NE(j.find("bs"), nullptr);
    EXPECT_EQ(j.find("bs")->as_i64(), 32);
    EXPECT_EQ(j.find("missing"), nullptr);
}

TEST(JsonTest, ArraysNestAndScalarsDump) {
    const Json j = Json::array({1, 2.5, nullptr, "x", Json::array({false}), Json::object()});
    EXPECT_EQ(j.dump(), R"([1,2.5,null,"x",[false],{}])");
    EXPECT_EQ(j.size(), 6u);
}

TEST(JsonTest, NonFiniteNumbersDumpAsTokens) {
    const Json j = Json::array({std::numeric_limits<double>::quiet_NaN(),
                                std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity()});
    EXPECT_EQ(j.dump(), "[NaN,Infinity,-Infinity]");
}

TEST(JsonTest, ParseRoundTrips) {
    auto j = Json::parse(R"({"a": [1, -2, 3.5, 18446744073709551615], "b": {"c": null}})");
    ASSERT_TRUE(j.has_value());
    EXPECT_EQ(j->dump(), R"({"a":[1,-2,3.5,1.8446744073709552e+19],"b":{"c":null}})");
    EXPECT_EQ(j->find("a")->items()[0].kind(), Json::Kind::kI64);
}

TEST(JsonTest, ParseAcceptsPythonsNonFiniteTokensOutsideStrings) {
    auto j = Json::parse(R"({"n": NaN, "i": [Infinity, -Infinity], "s": "NaN Infinity \" NaN",)"
                         R"( "o": {"x": -Infinity}})");
    ASSERT_TRUE(j.has_value()) << j.error();
    EXPECT_TRUE(std::isnan(j->find("n")->as_f64()));
    EXPECT_EQ(j->find("i")->items()[0].as_f64(), std::numeric_limits<double>::infinity());
    EXPECT_EQ(j->find("i")->items()[1].as_f64(), -std::numeric_limits<double>::infinity());
    EXPECT_EQ(j->find("s")->as_string(), "NaN Infinity \" NaN");
    EXPECT_EQ(j->find("o")->find("x")->as_f64(), -std::numeric_limits<double>::infinity());
    EXPECT_EQ(
        j->dump(),
        R"({"n":NaN,"i":[Infinity,-Infinity],"s":"NaN Infinity \" NaN","o":{"x":-Infinity}})");
    // Other bare words are still errors, with their position.
    auto bad = Json::parse(R"({"a": NaNx})");
    ASSERT_FALSE(bad.has_value());
    EXPECT_THAT(bad.error(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("invalid JSON")));
    EXPECT_FALSE(Json::parse("nan").has_value());
}

TEST(JsonTest, ParseErrorNamesLineAndColumn) {
    auto j = Json::parse("{\n  \"a\": tru }");
    ASSERT_FALSE(j.has_value());
    EXPECT_THAT(j.error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("invalid JSON: line 2, column ")));
}

TEST(JsonTest, EqualityComparesStructure) {
    EXPECT_EQ(Json::object({{"a", 1}}), Json::object({{"a", 1}}));
    EXPECT_FALSE(Json::object({{"a", 1}}) == Json::object({{"a", 1.0}}));
}

TEST(JsonTest, ConvertsToAndFromBoostJson) {
    const Json j = Json::object({{"x", Json::array({1, "two"})}, {"y", 0.5}});
    EXPECT_EQ(sdk::from_boost(sdk::to_boost(j)), j);
}

TEST(JsonTest, MetricValueConversions) {
    EXPECT_EQ(Json(MetricValue(3)).dump(), "3");
    EXPECT_EQ(Json(MetricValue("s")).dump(), R"("s")");
    EXPECT_EQ(Json(MetricValue(true)).dump(), "true");
    EXPECT_EQ(MetricValue(std::uint64_t{1} << 63).kind(), MetricValue::Kind::kF64);
    EXPECT_EQ(MetricValue(static_cast<const char*>(nullptr)).kind(), MetricValue::Kind::kNull);
}

}  // namespace
}  // namespace runicorn
