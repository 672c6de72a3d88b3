#include "events_parser.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include "tolerant_json.hpp"

namespace runicorn::storage::series {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Parses `text` (whole lines) the way the reader does: padded buffer, then derive().
void parse(SeriesData& d, const std::string& text, spdlog::logger* log = nullptr) {
    std::string buf = text;
    buf.append(parser_padding(), '\0');
    EventsParser parser(d, log, "/runs/x/events.jsonl");
    const DeriveMark from = d.mark();
    parser.parse_lines(buf.data(), text.size(), true);
    d.derive(from);
}

const KeyData& key(const SeriesData& d, std::string_view name) {
    const std::uint32_t id = d.find_key(name);
    EXPECT_NE(id, kNoIndex) << name;
    return d.keys.at(id);
}

std::uint64_t bits(double v) {
    std::uint64_t b = 0;
    std::memcpy(&b, &v, sizeof(b));
    return b;
}

TEST(EventsParserTest, ReadsG3TokensAndNumberEdgeCases) {
    SeriesData d;
    parse(
        d,
        R"({"ts": 1.5, "type": "metrics", "data": {"a": NaN, "b": Infinity, "c": -Infinity, "global_step": 1}})"
        "\n"
        R"({"ts": 2.5, "type": "metrics", "data": {"a": 1e400, "b": -1e400, "c": 123456789012345678901234, "global_step": 2}})"
        "\n"
        R"({"ts": 3.5, "type": "metrics", "data": {"a": -0.0, "b": true, "c": 7, "d": 18446744073709551615, "global_step": 3}})"
        "\n");
    ASSERT_EQ(d.stats.records, 3U);
    EXPECT_EQ(d.stats.bad_lines, 0U);
    const KeyData& a = key(d, "a");
    ASSERT_EQ(a.value.size(), 3U);
    EXPECT_EQ(bits(a.value[0]), bits(std::numeric_limits<double>::quiet_NaN()));
    EXPECT_EQ(a.value[1], std::numeric_limits<double>::infinity());
    EXPECT_EQ(bits(a.value[2]), bits(-0.0));
    const KeyData& b = key(d, "b");
    EXPECT_EQ(b.value[0], std::numeric_limits<double>::infinity());
    EXPECT_EQ(b.value[1], -std::numeric_limits<double>::infinity());
    EXPECT_EQ(b.value[2], 1.0);
    EXPECT_EQ(b.kind_at(2), PointKind::kBool);
    const KeyData& c = key(d, "c");
    EXPECT_EQ(c.value[0], -std::numeric_limits<double>::infinity());
    EXPECT_EQ(c.value[1], 123456789012345678901234.0);
    EXPECT_EQ(c.kind_at(1), PointKind::kDouble);  // outside int64: a double
    EXPECT_EQ(c.value[2], 7.0);
    EXPECT_EQ(c.kind_at(2), PointKind::kInt);
    EXPECT_EQ(key(d, "d").value[0], 18446744073709551615.0);
    EXPECT_THAT(a.step, ElementsAre(1, 2, 3));
    EXPECT_EQ(a.nonfinite_count, 2U);
    EXPECT_EQ(d.find_key("global_step"), kNoIndex);
}

TEST(EventsParserTest, SkipsAndCountsBadLinesAndWarnsOnce) {
    std::ostringstream out;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    spdlog::logger log("test", sink);
    SeriesData d;
    parse(d,
          "\n"  // 1 blank
          R"({"type": "metrics", "data": {"a": 1, "global_step": 1}})"
          "\n"          // 2
          "not json\n"  // 3 bad
          "[1, 2]\n"    // 4 bad
          R"({"type": "metrics", "data": {"a": 2, "global_step": 2}} trailing)"
          "\n"       // 5 bad
          "   \r\n"  // 6 blank
          R"({"type": "image", "data": {"key": "k", "path": "media/x.png"}})"
          "\n"  // 7 ignored
          R"({"type": "metrics", "data": [1]})"
          "\n"  // 8 ignored
          R"({"type": "metrics", "data": {"a": 3, "global_step": 3}})"
          "\r\n",  // 9 CRLF
          &log);
    EXPECT_EQ(d.stats.lines, 9U);
    EXPECT_EQ(d.stats.records, 2U);
    EXPECT_EQ(d.stats.bad_lines, 3U);
    EXPECT_EQ(d.stats.first_bad_line, 3U);
    EXPECT_THAT(key(d, "a").value, ElementsAre(1.0, 3.0));
    EXPECT_EQ(d.find_key("key"), kNoIndex);
    const std::string logged = out.str();
    EXPECT_THAT(logged, HasSubstr("'/runs/x/events.jsonl' line 3: not a JSON object or longer "
                                  "than 16 MiB; skipped"));
    EXPECT_EQ(logged.find("line 4"), std::string::npos);
}

TEST(EventsParserTest, EscapedKeysAreTheSameKeys) {
    SeriesData d;
    parse(d, R"({"type": "metrics", "d\u0061ta": {"loss": 1, "global_step": 1}})"
             "\n"
             R"({"t\u0079pe": "metrics", "data": {"lo\u0073s": 2, "global\u005fstep": 2}})"
             "\n"
             R"({"type": "metrics", "data": {"loss": 3, "global_step": 3}})"
             "\n");
    EXPECT_EQ(d.stats.records, 3U);
    EXPECT_THAT(key(d, "loss").value, ElementsAre(1.0, 2.0, 3.0));
    EXPECT_THAT(key(d, "loss").step, ElementsAre(1, 2, 3));
    EXPECT_EQ(d.keys.size(), 1U);
}

TEST(EventsParserTest, StepRules) {
    SeriesData d;
    parse(d, R"({"type": "metrics", "data": {"v": 1, "global_step": 5}})"
             "\n"
             R"({"type": "metrics", "data": {"v": 2, "step": 6}})"
             "\n"
             R"({"type": "metrics", "data": {"v": 3, "global_step": 7.0}})"
             "\n"
             R"({"type": "metrics", "data": {"v": 4, "global_step": 7.5}})"
             "\n"
             R"({"type": "metrics", "data": {"v": 5, "global_step": "8", "step": 9}})"
             "\n"
             R"({"type": "metrics", "data": {"v": 6}})"
             "\n");
    EXPECT_THAT(key(d, "v").step, ElementsAre(5, 6, 7, kNoStep, 9, kNoStep));
    EXPECT_EQ(d.find_key("step"), kNoIndex);
}

TEST(EventsParserTest, TimeStageDuplicatesAndDroppedValues) {
    SeriesData d;
    parse(
        d,
        R"({"ts": 10.5, "type": "metrics", "data": {"a": 1, "a": 2, "hist": [1, 2], "cfg": {"x": 1}, "s": "hi", "n": null, "global_step": 1, "stage": "train"}})"
        "\n"
        R"({"ts": 11.5, "type": "metrics", "data": {"a": "str now", "a": 3, "global_step": 2, "time": 99.25}})"
        "\n");
    EXPECT_THAT(d.record_time, ElementsAre(10.5, 99.25));
    EXPECT_THAT(key(d, "a").value, ElementsAre(2.0, 3.0));  // last duplicate wins
    EXPECT_TRUE(key(d, "a").side.empty());
    EXPECT_EQ(d.find_key("hist"), kNoIndex);
    EXPECT_EQ(d.find_key("cfg"), kNoIndex);
    const KeyData& s = key(d, "s");
    ASSERT_EQ(s.side.size(), 1U);
    EXPECT_EQ(d.strings[s.side[0].str], "hi");
    ASSERT_EQ(key(d, "n").side.size(), 1U);
    EXPECT_EQ(key(d, "n").side[0].str, kNoString);
    ASSERT_EQ(d.stage_changes.size(), 2U);
    EXPECT_EQ(d.strings[d.stage_changes[0].second], "train");
    EXPECT_EQ(d.stage_changes[1].second, kNoString);
}

TEST(EventsParserTest, WindowedFastPathMatchesLineByLine) {
    // Many lines so the simdjson window path runs, with NaN lines, blank lines, a bad line and
    // escapes sprinkled in; the result must equal parsing each line alone.
    std::string text;
    for (int i = 1; i <= 3000; ++i) {
        text += R"({"ts": )" + std::to_string(i) + R"(.5, "type": "metrics", "data": {"loss": )";
        text += (i % 97 == 0) ? "NaN" : std::to_string(i * 0.25);
        text += R"(, "note\u00e9": "x\"y", "global_step": )" + std::to_string(i) + "}}\n";
        if (i % 500 == 0) {
            text += "\n";
        }
        if (i == 1234) {
            text += "{oops\n";
        }
    }
    SeriesData whole;
    parse(whole, text);
    SeriesData single;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        parse(single, text.substr(pos, nl - pos + 1));
        pos = nl + 1;
    }
    EXPECT_EQ(whole.stats.records, 3000U);
    EXPECT_EQ(whole.stats.lines, single.stats.lines);
    EXPECT_EQ(whole.stats.bad_lines, 1U);
    EXPECT_EQ(single.stats.bad_lines, 1U);
    const KeyData& a = key(whole, "loss");
    const KeyData& b = key(single, "loss");
    ASSERT_EQ(a.value.size(), b.value.size());
    for (std::size_t i = 0; i < a.value.size(); ++i) {
        EXPECT_EQ(bits(a.value[i]), bits(b.value[i]));
        EXPECT_EQ(a.step[i], b.step[i]);
    }
    EXPECT_EQ(a.nonfinite_count, 30U);
    const KeyData& note = key(whole, "note\xC3\xA9");
    ASSERT_EQ(note.side.size(), 3000U);
    EXPECT_EQ(whole.strings[note.side[0].str], "x\"y");
}

TEST(TolerantLineParserTest, AcceptsPythonJsonRejectsGarbage) {
    TolerantLineParser p;
    Record rec;
    ASSERT_TRUE(p.parse(
        R"( {"type":"metrics","ts":NaN,"data":{"k\ud83d\ude00":"\u00e9\n","x":-Infinity,"y":[NaN,{"a":[]}]}} )",
        rec));
    EXPECT_TRUE(rec.is_metrics);
    EXPECT_TRUE(std::isnan(rec.ts));
    ASSERT_EQ(rec.fields.size(), 3U);
    EXPECT_EQ(rec.fields[0].key, "k\xF0\x9F\x98\x80");
    EXPECT_EQ(rec.fields[0].v.s, "\xC3\xA9\n");
    EXPECT_EQ(rec.fields[1].v.d, -std::numeric_limits<double>::infinity());
    EXPECT_EQ(rec.fields[2].v.type, FieldValue::Type::kOther);
    EXPECT_FALSE(p.parse(R"({"a": 1,})", rec));
    EXPECT_FALSE(p.parse(R"({"a": nan})", rec));
    EXPECT_FALSE(p.parse(R"({"a": 01})", rec));
    EXPECT_FALSE(p.parse(R"({"a": 1} {})", rec));
    EXPECT_FALSE(p.parse("{\"a\": \"\xFF\"}", rec));
    double v = 0;
    ASSERT_TRUE(parse_json_double("1e-400", v));
    EXPECT_EQ(v, 0.0);
    ASSERT_TRUE(parse_json_double("-1e400", v));
    EXPECT_EQ(v, -std::numeric_limits<double>::infinity());
}

}  // namespace
}  // namespace runicorn::storage::series
