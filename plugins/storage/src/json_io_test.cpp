#include "json_io.hpp"

#include <cmath>
#include <limits>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <gtest/gtest.h>

#include "storage_test_util.hpp"

namespace runicorn::storage {
namespace {
namespace json = boost::json;
using ::testing::HasSubstr;
using testing::StatusIs;

json::value parse_ok(std::string_view text) {
    auto v = parse_json(text);
    EXPECT_TRUE(v.has_value()) << v.error();
    return v.has_value() ? *v : json::value();
}

TEST(JsonIoTest, AcceptsNonFiniteTokensOutsideStrings) {
    const auto v = parse_ok(R"({"a": NaN, "b": Infinity, "c": -Infinity, "d": [NaN, -Infinity]})");
    const auto& o = v.get_object();
    EXPECT_TRUE(std::isnan(o.at("a").get_double()));
    EXPECT_EQ(o.at("b").get_double(), std::numeric_limits<double>::infinity());
    EXPECT_EQ(o.at("c").get_double(), -std::numeric_limits<double>::infinity());
    EXPECT_TRUE(std::isnan(o.at("d").get_array()[0].get_double()));
    EXPECT_EQ(o.at("d").get_array()[1].get_double(), -std::numeric_limits<double>::infinity());
}

TEST(JsonIoTest, TokensInsideStringsStayText) {
    const auto v = parse_ok(R"({"NaN": "Infinity -Infinity NaN", "x": "\"NaN\""})");
    EXPECT_EQ(v.get_object().at("NaN").get_string(), "Infinity -Infinity NaN");
    EXPECT_EQ(v.get_object().at("x").get_string(), "\"NaN\"");
}

TEST(JsonIoTest, OverflowAndBigIntegers) {
    const auto v = parse_ok(R"([1e400, -1e400, 1e-400, 9223372036854775807, 9223372036854775808,
                               -9223372036854775809, 123.5e2, 0.000123e-400, 1000e-2])");
    const auto& a = v.get_array();
    EXPECT_EQ(a[0].get_double(), std::numeric_limits<double>::infinity());
    EXPECT_EQ(a[1].get_double(), -std::numeric_limits<double>::infinity());
    EXPECT_EQ(a[2].get_double(), 0.0);
    EXPECT_EQ(a[3].get_int64(), 9223372036854775807);
    EXPECT_EQ(a[4].get_double(), 9223372036854775808.0);  // outside int64: a double (G3)
    EXPECT_EQ(a[5].get_double(), -9223372036854775809.0);
    EXPECT_EQ(a[6].get_double(), 12350.0);
    EXPECT_EQ(a[7].get_double(), 0.0);
    EXPECT_EQ(a[8].get_double(), 10.0);
}

TEST(JsonIoTest, SkipsBomAndLastDuplicateWins) {
    const auto v = parse_ok("\xEF\xBB\xBF{\"a\": 1, \"b\": 2, \"a\": 3}\n");
    const auto& o = v.get_object();
    EXPECT_EQ(o.at("a").get_int64(), 3);
    ASSERT_EQ(o.size(), 2U);
    EXPECT_EQ(o.begin()->key(), "a");  // at the first position, like a Python dict
}

TEST(JsonIoTest, DecodesEscapesAndSurrogates) {
    const auto v = parse_ok(R"(["\u00e9\ud83d\ude00\n\t\/", "\ud800x", "准确率"])");
    const auto& a = v.get_array();
    EXPECT_EQ(a[0].get_string(), "\xC3\xA9\xF0\x9F\x98\x80\n\t/");
    EXPECT_EQ(a[1].get_string(), "\xEF\xBF\xBDx");  // lone surrogate → U+FFFD
    EXPECT_EQ(a[2].get_string(), "准确率");
}

TEST(JsonIoTest, ErrorsNameLineAndColumn) {
    EXPECT_THAT(parse_json("{\n  \"a\": nan\n}").error(),
                StatusIs(StatusCode::kInvalidArgument, "line 2, column 8: unexpected character"));
    EXPECT_THAT(parse_json("{\"a\": 1,}").error(),
                StatusIs(StatusCode::kInvalidArgument, "line 1, column 9: expected a string key"));
    EXPECT_THAT(parse_json("{} x").error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "line 1, column 4: unexpected data after the JSON value"));
    EXPECT_THAT(parse_json("").error(), StatusIs(StatusCode::kInvalidArgument,
                                                 "line 1, column 1: no JSON value (empty input)"));
    EXPECT_THAT(
        parse_json("\"a\tb\"").error(),
        StatusIs(StatusCode::kInvalidArgument, "line 1, column 3: control character in a string"));
    EXPECT_THAT(parse_json("{\"a\": 1").error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "line 1, column 8: unexpected end of input in an object"));
    EXPECT_THAT(parse_json("+1").error(),
                StatusIs(StatusCode::kInvalidArgument, "line 1, column 1: unexpected character"));
    EXPECT_THAT(parse_json("01").error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "line 1, column 2: unexpected data after the JSON value"));
}

TEST(JsonIoTest, DeepNestingIsAnErrorNotACrash) {
    const std::string deep(100000, '[');
    EXPECT_THAT(parse_json(deep).error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("nesting deeper than 1000")));
}

TEST(JsonIoTest, WritesShortestRoundTripDoublesAndTokens) {
    json::array a{0.1,
                  1.0,
                  -0.0,
                  1e-12,
                  1.5e300,
                  1e16,
                  123456789012.0,
                  std::numeric_limits<double>::quiet_NaN(),
                  std::numeric_limits<double>::infinity(),
                  -std::numeric_limits<double>::infinity(),
                  std::int64_t{-7},
                  std::uint64_t{18446744073709551615ULL}};
    EXPECT_EQ(to_compact_json(a),
              "[0.1,1.0,-0.0,1e-12,1.5e+300,1e+16,123456789012.0,NaN,Infinity,-Infinity,-7,"
              "18446744073709551615]");
}

TEST(JsonIoTest, PrettyMatchesPythonIndent2WithRawUtf8) {
    json::object o;
    o["id"] = "x";
    o["alias"] = nullptr;
    o["tags"] = json::array{"准确率", "a\"b\\c\n\x01"};
    o["empty"] = json::object();
    o["none"] = json::array();
    o["n"] = 2;
    EXPECT_EQ(to_pretty_json(o),
              "{\n"
              "  \"id\": \"x\",\n"
              "  \"alias\": null,\n"
              "  \"tags\": [\n"
              "    \"准确率\",\n"
              "    \"a\\\"b\\\\c\\n\\u0001\"\n"
              "  ],\n"
              "  \"empty\": {},\n"
              "  \"none\": [],\n"
              "  \"n\": 2\n"
              "}");
}

TEST(JsonIoTest, WhatWeWriteParsesBack) {
    json::object o;
    o["loss"] = std::numeric_limits<double>::quiet_NaN();
    o["grad"] = -std::numeric_limits<double>::infinity();
    o["tiny"] = 5e-324;
    o["max"] = std::numeric_limits<double>::max();
    o["third"] = 1.0 / 3.0;
    o["text"] = "line\nbreak \"quoted\" 准确率";
    for (const auto& text : {to_compact_json(o), to_pretty_json(o)}) {
        const auto back = parse_ok(text);
        const auto& b = back.get_object();
        EXPECT_TRUE(std::isnan(b.at("loss").get_double()));
        EXPECT_EQ(b.at("grad").get_double(), -std::numeric_limits<double>::infinity());
        EXPECT_EQ(b.at("tiny").get_double(), 5e-324);
        EXPECT_EQ(b.at("max").get_double(), std::numeric_limits<double>::max());
        EXPECT_EQ(b.at("third").get_double(), 1.0 / 3.0);
        EXPECT_EQ(b.at("text").get_string(), o.at("text").get_string());
    }
}

TEST(JsonIoTest, InvalidUtf8InStringsIsKept) {
    const auto v = parse_ok("[\"a\xff\xfe b\"]");
    EXPECT_EQ(v.get_array()[0].get_string(), "a\xff\xfe b");
}

TEST(JsonIoTest, TenMegabyteStringAndFiveThousandKeysRoundTrip) {
    json::object big;
    big["blob"] = std::string(10 << 20, 'x');
    const auto back = parse_ok(to_compact_json(big));
    EXPECT_EQ(back.get_object().at("blob").get_string().size(), std::size_t{10} << 20);

    json::object many;
    for (int i = 0; i < 5000; ++i) {
        many["key_" + std::to_string(i)] = i * 0.5;
    }
    const auto many_back = parse_ok(to_compact_json(many));
    ASSERT_EQ(many_back.get_object().size(), 5000U);
    EXPECT_EQ(many_back.get_object().at("key_4999").get_double(), 2499.5);
    EXPECT_EQ(std::next(many_back.get_object().begin(), 1234)->key(), "key_1234");  // order kept
}

}  // namespace
}  // namespace runicorn::storage
