#include "json_text.hpp"

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace runicorn::kernel {
namespace {
using ::testing::StartsWith;

TEST(JsonTextTest, ParsesAndSkipsBom) {
    auto v = parse_json_text("\xEF\xBB\xBF{\"a\": 1}", "test");
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->at("a").as_int64(), 1);
}

TEST(JsonTextTest, ErrorNamesLineAndColumn) {
    auto v = parse_json_text("{\n  \"a\": 1\n  \"b\": 2\n}", "'x.json' is not valid JSON");
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(v.error().message(), StartsWith("'x.json' is not valid JSON: line 3, column 3: "));
}

TEST(JsonTextTest, TruncatedAndTrailingDataAreErrors) {
    auto truncated = parse_json_text("{\"a\": [1, 2", "t");
    ASSERT_FALSE(truncated.has_value());
    EXPECT_THAT(truncated.error().message(), StartsWith("t: line 1, column 12: "));
    auto trailing = parse_json_text("{} x", "t");
    ASSERT_FALSE(trailing.has_value());
    EXPECT_THAT(trailing.error().message(), StartsWith("t: line 1, column 4: "));
    EXPECT_TRUE(parse_json_text("{}\n\n", "t").has_value());
}

TEST(JsonTextTest, PrettyPrintsWithTwoSpacesAndRawUnicode) {
    boost::json::value v = boost::json::parse(R"({"b": [1, {"c": "准确率"}], "a": {}, "e": []})");
    EXPECT_EQ(pretty_json(v),
              "{\n  \"b\": [\n    1,\n    {\n      \"c\": \"准确率\"\n    }\n  ],\n"
              "  \"a\": {},\n  \"e\": []\n}\n");
}

TEST(JsonTextTest, MissingFileIsNotFound) {
    auto v = read_json_file("/nonexistent/x.json");
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error(), Status::not_found("'/nonexistent/x.json' does not exist"));
}

}  // namespace
}  // namespace runicorn::kernel
