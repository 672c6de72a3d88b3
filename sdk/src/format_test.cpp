#include "format.hpp"

#include <cmath>
#include <ctime>
#include <limits>

#include <gtest/gtest.h>

namespace runicorn::sdk {
namespace {

std::string dbl(double v) {
    std::string s;
    append_double(s, v);
    return s;
}

std::string str(std::string_view v) {
    std::string s;
    append_json_string(s, v);
    return s;
}

std::string line(std::initializer_list<Field> fields, std::int64_t step,
                 const std::string_view* stage = nullptr, std::vector<std::string>* bad = nullptr) {
    std::string s;
    const std::span<const Field> f(fields.begin(), fields.size());
    format_metrics_line(s, f, step, resolve_stage(f, stage), 1795674136.25, bad);
    return s;
}

TEST(FormatTest, IntegersAreJsonIntegers) {
    std::string s;
    append_int(s, 0);
    s += ' ';
    append_int(s, -5);
    s += ' ';
    append_int(s, std::numeric_limits<std::int64_t>::min());
    s += ' ';
    append_int(s, std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(s, "0 -5 -9223372036854775808 9223372036854775807");
}

TEST(FormatTest, DoublesUseTheShortestRoundTripForm) {
    EXPECT_EQ(dbl(0.1), "0.1");
    EXPECT_EQ(dbl(0.1 + 0.2), "0.30000000000000004");
    EXPECT_EQ(dbl(1e300), "1e+300");
    EXPECT_EQ(dbl(1e-7), "1e-07");
    EXPECT_EQ(dbl(2.5e-5), "2.5e-05");
    EXPECT_EQ(dbl(1795674136.2432256), "1795674136.2432256");
    EXPECT_EQ(dbl(123456789012345680.0), "1.2345678901234568e+17");
    EXPECT_EQ(dbl(1e15), "1000000000000000.0");
    EXPECT_EQ(dbl(0.0001), "0.0001");
    EXPECT_EQ(dbl(0.0), "0.0");
}

TEST(FormatTest, IntegralDoublesKeepAFractionSoTheyReadBackAsFloats) {
    EXPECT_EQ(dbl(1.0), "1.0");
    EXPECT_EQ(dbl(100.0), "100.0");
    EXPECT_EQ(dbl(-0.0), "-0.0");
    EXPECT_EQ(dbl(1e16), "1e+16");
}

TEST(FormatTest, NonFiniteDoublesUseThePythonTokens) {
    EXPECT_EQ(dbl(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(dbl(std::numeric_limits<double>::infinity()), "Infinity");
    EXPECT_EQ(dbl(-std::numeric_limits<double>::infinity()), "-Infinity");
}

TEST(FormatTest, StringsAreEscaped) {
    EXPECT_EQ(str("plain"), R"("plain")");
    EXPECT_EQ(str("a\"b\\c"), R"("a\"b\\c")");
    EXPECT_EQ(str("\b\f\n\r\t"), R"("\b\f\n\r\t")");
    EXPECT_EQ(str(std::string_view("\x01\x1f\0", 3)), R"("\u0001\u001f\u0000")");
    EXPECT_EQ(str("\x7f"), "\"\x7f\"");
}

TEST(FormatTest, Utf8IsKeptAndInvalidBytesBecomeReplacementCharacters) {
    EXPECT_EQ(str("caf\xc3\xa9 \xe2\x9c\x93"), "\"caf\xc3\xa9 \xe2\x9c\x93\"");
    EXPECT_EQ(str("a\xff"
                  "b"),
              "\"a\xef\xbf\xbd"
              "b\"");
    EXPECT_EQ(str("\xc3"), "\"\xef\xbf\xbd\"");                  // truncated sequence
    EXPECT_EQ(str("\xc0\xaf"), "\"\xef\xbf\xbd\xef\xbf\xbd\"");  // overlong '/'
    EXPECT_EQ(str("\xed\xa0\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");  // surrogate
}

TEST(FormatTest, MetricValuesOfEveryKind) {
    std::string s;
    for (const MetricValue& v :
         {MetricValue(nullptr), MetricValue(true), MetricValue(false), MetricValue(42),
          MetricValue(std::uint64_t{1} << 63), MetricValue(0.5f), MetricValue("x\"y")}) {
        append_metric_value(s, v);
        s += ',';
    }
    EXPECT_EQ(s, R"(null,true,false,42,9.223372036854776e+18,0.5,"x\"y",)");
}

TEST(FormatTest, MetricsLineKeepsUserKeyOrderThenInjectedKeys) {
    EXPECT_EQ(line({{"loss", 0.5}, {"acc", 0.7}, {"epoch", 3}}, 1),
              R"({"ts":1795674136.25,"type":"metrics","data":{"loss":0.5,"acc":0.7,"epoch":3,)"
              R"("global_step":1,"time":1795674136.25}})"
              "\n");
}

TEST(FormatTest, MetricsLineWritesEveryValueKind) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_EQ(line({{"loss", nan},
                    {"grad", inf},
                    {"neg", -inf},
                    {"ok", true},
                    {"note", "x"},
                    {"none", nullptr}},
                   11),
              R"({"ts":1795674136.25,"type":"metrics","data":{"loss":NaN,"grad":Infinity,)"
              R"("neg":-Infinity,"ok":true,"note":"x","none":null,"global_step":11,)"
              R"("time":1795674136.25}})"
              "\n");
}

TEST(FormatTest, ReservedKeysAreDropped) {
    EXPECT_EQ(line({{"global_step", 7}, {"step", 8}, {"time", 9.0}, {"loss", 1}}, 3),
              R"({"ts":1795674136.25,"type":"metrics","data":{"loss":1,"global_step":3,)"
              R"("time":1795674136.25}})"
              "\n");
}

TEST(FormatTest, StageArgumentIsInjectedLast) {
    const std::string_view stage = "train";
    EXPECT_EQ(line({{"loss", 0.5}}, 1, &stage),
              R"({"ts":1795674136.25,"type":"metrics","data":{"loss":0.5,"global_step":1,)"
              R"("time":1795674136.25,"stage":"train"}})"
              "\n");
}

TEST(FormatTest, StageKeyInTheDataMovesToTheEnd) {
    EXPECT_EQ(line({{"stage", "eval"}, {"val_loss", 0.45}}, 10),
              R"({"ts":1795674136.25,"type":"metrics","data":{"val_loss":0.45,"global_step":10,)"
              R"("time":1795674136.25,"stage":"eval"}})"
              "\n");
}

TEST(FormatTest, StageArgumentWinsOverTheStageKey) {
    const std::string_view stage = "train";
    EXPECT_EQ(line({{"stage", "eval"}, {"x", 1}}, 2, &stage),
              R"({"ts":1795674136.25,"type":"metrics","data":{"x":1,"global_step":2,)"
              R"("time":1795674136.25,"stage":"train"}})"
              "\n");
}

TEST(FormatTest, NonStringStageKeyIsWrittenAsGivenAndNullMeansNone) {
    EXPECT_EQ(line({{"stage", 2}}, 1),
              R"({"ts":1795674136.25,"type":"metrics","data":{"global_step":1,)"
              R"("time":1795674136.25,"stage":2}})"
              "\n");
    EXPECT_EQ(line({{"stage", nullptr}}, 1),
              R"({"ts":1795674136.25,"type":"metrics","data":{"global_step":1,)"
              R"("time":1795674136.25}})"
              "\n");
}

TEST(FormatTest, InvalidKeysAreDroppedAndReported) {
    std::vector<std::string> bad;
    const std::string long_key(257, 'k');
    const std::string_view nul_key("a\0b", 3);
    EXPECT_EQ(
        line({{"", 1}, {long_key, 2}, {nul_key, 3}, {"\xff", 4}, {"ok", 5}}, 1, nullptr, &bad),
        R"({"ts":1795674136.25,"type":"metrics","data":{"ok":5,"global_step":1,)"
        R"("time":1795674136.25}})"
        "\n");
    EXPECT_EQ(bad, (std::vector<std::string>{"", long_key, std::string(nul_key), "\xff"}));
}

TEST(FormatTest, KeysNeedingEscapesAreValidAndEscaped) {
    EXPECT_EQ(line({{"a\"b", 1}, {"caf\xc3\xa9", 2}, {std::string(256, 'k'), 3}}, 1),
              R"({"ts":1795674136.25,"type":"metrics","data":{"a\"b":1,"caf)"
              "\xc3\xa9"
              R"(":2,")" +
                  std::string(256, 'k') +
                  R"(":3,"global_step":1,"time":1795674136.25}})"
                  "\n");
}

TEST(FormatTest, CheckKeyNamesTheProblem) {
    EXPECT_EQ(check_key("loss"), KeyProblem::kNone);
    EXPECT_EQ(check_key(""), KeyProblem::kEmpty);
    EXPECT_EQ(check_key(std::string(257, 'x')), KeyProblem::kTooLong);
    EXPECT_EQ(check_key(std::string_view("a\0", 2)), KeyProblem::kNul);
    EXPECT_EQ(check_key("\xe2\x9c"), KeyProblem::kBadUtf8);
    EXPECT_EQ(key_problem_text(KeyProblem::kTooLong), "longer than 256 bytes");
}

TEST(FormatTest, ImageLine) {
    ImageEvent e;
    e.key = "sample";
    e.path = "media/1795674136244_3209df_sample.png";
    const std::int64_t step = 3;
    e.step = &step;
    const std::string caption = "cap";
    e.caption = &caption;
    e.global_step = 11;
    e.format = "png";
    e.size_bytes = 4211;
    e.width = 32;
    e.height = 16;
    std::string s;
    format_image_line(s, e, 1795674136.2445881);
    EXPECT_EQ(s, R"({"ts":1795674136.2445881,"type":"image","data":{"key":"sample",)"
                 R"("path":"media/1795674136244_3209df_sample.png","step":3,"caption":"cap",)"
                 R"("global_step":11,"format":"png","size_bytes":4211,"width":32,"height":16}})"
                 "\n");
}

TEST(FormatTest, ImageLineWithoutStepCaptionOrSize) {
    ImageEvent e;
    e.key = "k";
    e.path = "media/1_000000_k.gif";
    e.format = "gif";
    std::string s;
    format_image_line(s, e, 2.5);
    EXPECT_EQ(s, R"({"ts":2.5,"type":"image","data":{"key":"k","path":"media/1_000000_k.gif",)"
                 R"("step":null,"caption":null,"global_step":0,"format":"gif","size_bytes":0}})"
                 "\n");
}

TEST(FormatTest, TextLineHasALocalTimePrefix) {
    const double t = 1795674136.9;
    const auto secs = static_cast<std::time_t>(1795674136);
    std::tm tm{};
    localtime_r(&secs, &tm);
    char hms[16];
    std::strftime(hms, sizeof hms, "%H:%M:%S", &tm);
    std::string s;
    format_text_line(s, "hello\nworld", t);
    EXPECT_EQ(s, std::string(hms) + " | hello\nworld\n");
}

}  // namespace
}  // namespace runicorn::sdk
