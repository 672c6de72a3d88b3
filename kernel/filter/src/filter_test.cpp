#include <cmath>
#include <cstdio>
#include <ctime>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/filter/filter.hpp>

namespace runicorn::filter {
namespace {
using ::testing::HasSubstr;

std::string op_text(Op op) {
    switch (op) {
        case Op::kEq:
            return "=";
        case Op::kNe:
            return "!=";
        case Op::kLt:
            return "<";
        case Op::kLe:
            return "<=";
        case Op::kGt:
            return ">";
        case Op::kGe:
            return ">=";
        case Op::kGlob:
            return "~";
        case Op::kNotGlob:
            return "!~";
        case Op::kIn:
            return "IN";
        case Op::kNotIn:
            return "NOT IN";
        case Op::kHas:
            return "HAS";
        case Op::kUnder:
            return "UNDER";
        case Op::kExists:
            return "EXISTS";
    }
    return "?";
}

std::string literal_text(const Literal& l) {
    char buf[64];
    switch (l.kind) {
        case LiteralKind::kNumber:
            std::snprintf(buf, sizeof(buf), "%.17g", l.number);
            return buf;
        case LiteralKind::kString:
            return "\"" + l.text + "\"";
        case LiteralKind::kBool:
            return l.boolean ? "true" : "false";
        case LiteralKind::kNull:
            return "null";
        case LiteralKind::kNow:
            std::snprintf(buf, sizeof(buf), "now%+g", l.number);
            return buf;
    }
    return "?";
}

std::string kind_text(FieldKind k) {
    switch (k) {
        case FieldKind::kSummary:
            return "summary";
        case FieldKind::kConfig:
            return "config";
        case FieldKind::kConfigArgs:
            return "config.args";
        case FieldKind::kConfigExtra:
            return "config.extra";
        case FieldKind::kMeta:
            return "meta";
        case FieldKind::kMetric:
            return "metric";
        default:
            return "";
    }
}

/// A compact, unambiguous rendering of the AST: fields as kind[key|key].
std::string show(const Node& n) {
    switch (n.kind) {
        case Node::Kind::kAnd:
        case Node::Kind::kOr: {
            std::string out = n.kind == Node::Kind::kAnd ? "AND(" : "OR(";
            for (std::size_t i = 0; i < n.children.size(); ++i) {
                out += (i == 0 ? "" : ", ") + show(n.children[i]);
            }
            return out + ")";
        }
        case Node::Kind::kNot:
            return "NOT(" + show(n.children.front()) + ")";
        case Node::Kind::kText:
            return "TEXT(" + n.text + ")";
        case Node::Kind::kPredicate:
            break;
    }
    std::string field = kind_text(n.field.kind);
    if (field.empty()) {
        field = n.field.text;
    } else {
        field += "[";
        for (std::size_t i = 0; i < n.field.keys.size(); ++i) {
            field += (i == 0 ? "" : "|") + n.field.keys[i];
        }
        field += "]";
    }
    std::string out = field + " " + op_text(n.op);
    if (n.op == Op::kIn || n.op == Op::kNotIn) {
        out += " (";
        for (std::size_t i = 0; i < n.literals.size(); ++i) {
            out += (i == 0 ? "" : ", ") + literal_text(n.literals[i]);
        }
        return out + ")";
    }
    for (const auto& l : n.literals) {
        out += " " + literal_text(l);
    }
    return out;
}

std::string show(std::string_view text, const ParseOptions& options = {}) {
    auto r = parse(text, options);
    if (!r) {
        return std::string(error_code_name(r.error().code)) + "@" +
               std::to_string(r.error().position) + ": " + r.error().message;
    }
    return r->root ? show(*r->root) : "ALL";
}

Error error_of(std::string_view text, const ParseOptions& options = {}) {
    auto r = parse(text, options);
    EXPECT_FALSE(r.has_value()) << text;
    return r ? Error{} : r.error();
}

ParseOptions with_metrics() {
    ParseOptions o;
    o.metric_summaries = true;
    return o;
}

TEST(FilterParseTest, TheExamplesOfTheSpec) {
    EXPECT_EQ(show(R"(summary.acc > 0.9 AND tags HAS "baseline")"),
              R"(AND(summary[acc] > 0.90000000000000002, tags HAS "baseline"))");
    EXPECT_EQ(show(R"(path UNDER "cv/yolo" status IN ("failed", "running"))"),
              R"(AND(path UNDER "cv/yolo", status IN ("failed", "running")))");
    EXPECT_EQ(show(R"(config.lr <= 1e-3 OR config.optimizer = "sgd")"),
              R"(OR(config[lr] <= 0.001, config[optimizer] = "sgd"))");
    EXPECT_EQ(show(R"(NOT tags HAS "debug" created > NOW - 7d)"),
              R"(AND(NOT(tags HAS "debug"), created > now-604800))");
    EXPECT_EQ(show(R"(resnet50 status = "finished")"),
              R"(AND(TEXT(resnet50), status = "finished"))");
    EXPECT_EQ(show("metric.loss.min < 0.05 AND metric.loss.count >= 1000", with_metrics()),
              "AND(metric[loss|min] < 0.050000000000000003, metric[loss|count] >= 1000)");
    EXPECT_EQ(show(R"(summary.`val/acc` >= 0.8 AND alias ~ "best-*")"),
              R"(AND(summary[val/acc] >= 0.80000000000000004, alias ~ "best-*"))");
}

TEST(FilterParseTest, MetricFieldsAreRefusedWhileNotIndexed) {
    const Error e = error_of("status = 'x' AND metric.loss.min < 0.05");
    EXPECT_EQ(e.code, ErrorCode::kField);
    EXPECT_EQ(e.message, "metric summaries are not indexed yet");
    EXPECT_EQ(e.position, 17U);
    EXPECT_EQ(show("last_step > 10"), "FILTER_FIELD@0: last_step is not indexed yet");
    EXPECT_EQ(show("last_step > 10", with_metrics()), "last_step > 10");
    EXPECT_EQ(show("metric.loss.mean > 1", with_metrics()),
              "FILTER_FIELD@0: expected metric.<key>.last, .min, .max or .count, not "
              "'metric.loss.mean'");
}

TEST(FilterParseTest, EmptyTextMatchesEverything) {
    EXPECT_EQ(show(""), "ALL");
    EXPECT_EQ(show("  \t\n "), "ALL");
}

TEST(FilterParseTest, AndBindsTighterThanOrAndSymbolsEqualKeywords) {
    EXPECT_EQ(show("a b OR c AND d"), "OR(AND(TEXT(a), TEXT(b)), AND(TEXT(c), TEXT(d)))");
    EXPECT_EQ(show("a && b || c"), "OR(AND(TEXT(a), TEXT(b)), TEXT(c))");
    EXPECT_EQ(show("(a OR b) c"), "AND(OR(TEXT(a), TEXT(b)), TEXT(c))");
    EXPECT_EQ(show("a and b or not c"), "OR(AND(TEXT(a), TEXT(b)), NOT(TEXT(c)))");
    EXPECT_EQ(show("((a AND b) AND c)"), "AND(TEXT(a), TEXT(b), TEXT(c))");
}

TEST(FilterParseTest, NotRunsAreFolded) {
    EXPECT_EQ(show("NOT NOT a"), "TEXT(a)");
    EXPECT_EQ(show("!a"), "NOT(TEXT(a))");
    EXPECT_EQ(show("! not ! a"), "NOT(TEXT(a))");
    EXPECT_EQ(show("not (a or b)"), "NOT(OR(TEXT(a), TEXT(b)))");
}

TEST(FilterParseTest, KeywordsAreCaseInsensitive) {
    EXPECT_EQ(show(R"(tags has "x" Or status in ('a') aNd alias exists)"),
              R"(OR(tags HAS "x", AND(status IN ("a"), alias EXISTS)))");
    EXPECT_EQ(show("summary.ok = true AND summary.bad = False AND alias = null"),
              "AND(summary[ok] = true, summary[bad] = false, alias = null)");
    EXPECT_EQ(show("created > now - 2H"), "created > now-7200");
    EXPECT_EQ(show("status not in ('a', 'b')"), R"(status NOT IN ("a", "b"))");
}

TEST(FilterParseTest, EveryOperator) {
    EXPECT_EQ(show("id = 'a'"), R"(id = "a")");
    EXPECT_EQ(show("id == 'a'"), R"(id = "a")");
    EXPECT_EQ(show("id != 'a'"), R"(id != "a")");
    EXPECT_EQ(show("duration < 1"), "duration < 1");
    EXPECT_EQ(show("duration <= 1"), "duration <= 1");
    EXPECT_EQ(show("duration > 1"), "duration > 1");
    EXPECT_EQ(show("duration >= 1"), "duration >= 1");
    EXPECT_EQ(show("alias ~ 'a*'"), R"(alias ~ "a*")");
    EXPECT_EQ(show("alias !~ 'a?'"), R"(alias !~ "a?")");
    EXPECT_EQ(show("meta.k IN (1, 'x', true, null)"), R"(meta[k] IN (1, "x", true, null))");
    EXPECT_EQ(show("meta.k NOT IN (2)"), "meta[k] NOT IN (2)");
    EXPECT_EQ(show("config.layers HAS 64"), "config[layers] HAS 64");
    EXPECT_EQ(show("path UNDER 'cv'"), R"(path UNDER "cv")");
    EXPECT_EQ(show("summary.x EXISTS"), "summary[x] EXISTS");
    EXPECT_EQ(show("exit_reason = 'signal' hostname = 'gpu1' liveness = 'alive'"),
              R"(AND(exit_reason = "signal", hostname = "gpu1", liveness = "alive"))");
    EXPECT_EQ(show("started >= 1 ended < 2"), "AND(started >= 1, ended < 2)");
}

TEST(FilterParseTest, FieldsAndKeys) {
    EXPECT_EQ(show("config.model.depth = 50"), "config[model|depth] = 50");
    EXPECT_EQ(show("config.args.lr = 1"), "config.args[lr] = 1");
    EXPECT_EQ(show("config.extra.model = 'r50'"), R"(config.extra[model] = "r50")");
    EXPECT_EQ(show("config.args EXISTS"), "config.args[] EXISTS");
    EXPECT_EQ(show("meta.python = null"), "meta[python] = null");
    EXPECT_EQ(show("summary.`a``b`.`c.d` = 1"), "summary[a`b|c.d] = 1");
    EXPECT_EQ(show("summary.`and` = 1"), "summary[and] = 1");
    EXPECT_EQ(show("`summary`.x = 1"), "summary[x] = 1");
}

TEST(FilterParseTest, Literals) {
    EXPECT_EQ(show(R"(alias = "a\"b\\c\/\n\t\u00e9\ud83d\ude00")"),
              "alias = \"a\"b\\c/\n\t\xc3\xa9\xf0\x9f\x98\x80\"");
    EXPECT_EQ(show("alias = 'it''s'"), R"(alias = "it's")");
    EXPECT_EQ(show("alias = ''"), R"(alias = "")");
    EXPECT_EQ(show("summary.x = -12.5e+2"), "summary[x] = -1250");
    EXPECT_EQ(show("summary.x = 0.5E-1"), "summary[x] = 0.050000000000000003");
    EXPECT_EQ(show("created > NOW"), "created > now+0");
    EXPECT_EQ(show("created > NOW+30s"), "created > now+30");
    EXPECT_EQ(show("created > NOW - 5m"), "created > now-300");
    EXPECT_EQ(show("created > NOW - 1w"), "created > now-604800");
    EXPECT_EQ(show("created > NOW - 3d"), "created > now-259200");
}

TEST(FilterParseTest, TextTerms) {
    EXPECT_EQ(show(R"("yolo-v5")"), "TEXT(yolo-v5)");
    EXPECT_EQ(show(R"('123' "AND")"), "AND(TEXT(123), TEXT(AND))");
    EXPECT_EQ(show("_x9"), "TEXT(_x9)");
}

TEST(FilterParseTest, TimeFieldsReadIso8601) {
    EXPECT_EQ(show("created >= '2026-01-14T00:00:00Z'"), "created >= 1768348800");
    EXPECT_EQ(show("created >= \"2026-01-14T09:30+02:00\""), "created >= 1768375800");
    EXPECT_EQ(show("ended IN ('2026-01-14T00:00:00.5Z')"), "ended IN (1768348800.5)");
    // Without an offset: local time.
    std::tm tm{};
    tm.tm_year = 126;
    tm.tm_mon = 0;
    tm.tm_mday = 14;
    tm.tm_isdst = -1;
    const auto local = static_cast<double>(std::mktime(&tm));
    auto r = parse("created > '2026-01-14'");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->root->literals.front().kind, LiteralKind::kNumber);
    EXPECT_EQ(r->root->literals.front().number, local);
    // A glob on a time field stays a string (a type mismatch, false when run).
    EXPECT_EQ(show("created ~ '2026*'"), R"(created ~ "2026*")");
    // Other fields keep strings as strings.
    EXPECT_EQ(show("summary.when = '2026-01-14'"), R"(summary[when] = "2026-01-14")");
}

TEST(FilterParseTest, Iso8601Parser) {
    EXPECT_EQ(*parse_iso8601("1970-01-01T00:00Z"), 0.0);
    EXPECT_EQ(*parse_iso8601("1970-01-02 00:00:01-0100"), 86401.0 + 3600.0);
    for (const char* bad : {"2026", "2026-13-01", "2026-02-31Z", "2026-01-14T25:00", "yesterday",
                            "2026-01-14T09:30:", "2026-01-14Tx", "2026-01-14 09:30 "}) {
        EXPECT_EQ(parse_iso8601(bad).error().code(), StatusCode::kInvalidArgument) << bad;
    }
}

struct ErrorCase {
    const char* text;
    ErrorCode code;
    std::size_t position;
    const char* message;
};

TEST(FilterParseTest, EveryErrorHasItsCodeAndPosition) {
    const ErrorCase cases[] = {
        {"alias = \"abc", ErrorCode::kSyntax, 8, "unterminated string"},
        {"alias = 'abc", ErrorCode::kSyntax, 8, "unterminated string"},
        {"summary.`abc = 1", ErrorCode::kSyntax, 8, "unterminated backquoted name"},
        {"(a OR b", ErrorCode::kSyntax, 7, "missing ')' for the '(' at position 0"},
        {"a OR b)", ErrorCode::kSyntax, 6, "unbalanced ')'"},
        {"()", ErrorCode::kSyntax, 1, "empty parentheses"},
        {"(a b", ErrorCode::kSyntax, 4, "missing ')' for the '(' at position 0"},
        {"a AND", ErrorCode::kSyntax, 5,
         "unexpected end of the filter: expected a field, a search word or '('"},
        {"a OR OR b", ErrorCode::kSyntax, 5,
         "'OR' is a keyword here: quote it to search for it, e.g. \"OR\""},
        {"yolo-v5", ErrorCode::kSyntax, 4,
         "unexpected '-': quote search words that hold other characters, e.g. \"yolo-v5\""},
        {"123", ErrorCode::kSyntax, 0,
         "unexpected '1': quote search words that hold other characters, e.g. \"yolo-v5\""},
        {"status =", ErrorCode::kSyntax, 8, "unexpected end of the filter: expected a value"},
        {"status = finished", ErrorCode::kSyntax, 9,
         "expected a value, not 'finished': quote strings, e.g. \"finished\""},
        {"status = )", ErrorCode::kSyntax, 9,
         "expected a value (a number, a string, TRUE, FALSE, NULL or NOW)"},
        {"summary.x = 12abc", ErrorCode::kSyntax, 12,
         "invalid number '12abc': quote words that start with a digit"},
        {"summary.x = 1.", ErrorCode::kSyntax, 12, "invalid number: expected digits after '.'"},
        {"summary.x = 1e", ErrorCode::kSyntax, 12,
         "invalid number: expected digits in the exponent"},
        {"summary.x = 1e999", ErrorCode::kSyntax, 12, "number out of range"},
        {"created > NOW - 7", ErrorCode::kSyntax, 17,
         "a duration needs a unit: s, m, h, d or w (e.g. 7d)"},
        {"created > NOW - 7y", ErrorCode::kSyntax, 17,
         "a duration needs a unit: s, m, h, d or w (e.g. 7d)"},
        {"created > NOW - 7dd", ErrorCode::kSyntax, 16,
         "a duration needs a unit: s, m, h, d or w (e.g. 7d)"},
        {"created > NOW - d", ErrorCode::kSyntax, 16,
         "expected a duration after NOW, e.g. NOW - 7d"},
        {"created > 'last week'", ErrorCode::kSyntax, 10,
         "invalid time 'last week': expected ISO 8601, e.g. 2026-01-14 or 2026-01-14T09:30"},
        {"summary.x < NULL", ErrorCode::kSyntax, 12, "NULL can only be compared with = or !="},
        {"alias ~ 5", ErrorCode::kSyntax, 8, "~ and !~ need a string pattern"},
        {"path UNDER 5", ErrorCode::kSyntax, 11, "UNDER needs a string path"},
        {"status IN 'a'", ErrorCode::kSyntax, 10,
         "IN needs a list in parentheses, e.g. (\"a\", \"b\")"},
        {"status IN ('a' 'b')", ErrorCode::kSyntax, 15, "expected ',' or ')' in the IN list"},
        {"status IN ('a',", ErrorCode::kSyntax, 15,
         "unexpected end of the filter: expected a value"},
        {"status IN ('a'", ErrorCode::kSyntax, 14, "missing ')' after the IN list"},
        {"\"acc\" > 1", ErrorCode::kSyntax, 6,
         "a quoted string cannot be a field: quote field names with backquotes, e.g. "
         "summary.`val/acc`"},
        {"summary.acc", ErrorCode::kSyntax, 11, "expected an operator after 'summary.acc'"},
        {"summary.acc b", ErrorCode::kSyntax, 12, "expected an operator after 'summary.acc'"},
        {"summary. = 1", ErrorCode::kSyntax, 8, "expected a name after '.'"},
        {"alias = \"a\\qb\"", ErrorCode::kSyntax, 10, "invalid escape in a string"},
        {"alias = \"a\\u12\"", ErrorCode::kSyntax, 10,
         "invalid \\u escape: expected four hex digits"},
        {"alias = \"\\udc00\"", ErrorCode::kSyntax, 9, "invalid \\u escape: unpaired surrogate"},
        {"alias = \"a\tb\"", ErrorCode::kSyntax, 10,
         "control character in a string: use an escape such as \\n"},
        {"!= 3", ErrorCode::kSyntax, 0,
         "unexpected '!': quote search words that hold other characters, e.g. \"yolo-v5\""},
        {"acc > 0.9", ErrorCode::kField, 0,
         "unknown field 'acc' (did you mean summary.acc?); fields: id, path, alias, status, "
         "exit_reason, hostname, liveness, tags, created, started, ended, duration, last_step, "
         "summary.<key>, config.<key>, meta.<key>, metric.<key>.last|min|max|count"},
        {"a summaries.acc > 0.9", ErrorCode::kField, 2,
         "unknown field 'summaries.acc'; fields: id, path, alias, status, exit_reason, hostname, "
         "liveness, tags, created, started, ended, duration, last_step, summary.<key>, "
         "config.<key>, meta.<key>, metric.<key>.last|min|max|count"},
        {"status.x = 1", ErrorCode::kField, 7, "'status' has no sub-fields"},
        {"summary = 1", ErrorCode::kField, 0, "'summary' needs a key, e.g. summary.acc"},
        {"summary.`a\"b` = 1", ErrorCode::kField, 8, "a key holding '\"' cannot be queried"},
        {"tags = 'x'", ErrorCode::kField, 0, "tags is a list of strings: use HAS, IN or NOT IN"},
        {"tags ~ 'x*'", ErrorCode::kField, 0, "tags is a list of strings: use HAS, IN or NOT IN"},
        {"status HAS 'x'", ErrorCode::kField, 0,
         "'status' is not a list: HAS works on tags and JSON lists"},
    };
    for (const auto& c : cases) {
        const Error e = error_of(c.text);
        EXPECT_EQ(e.code, c.code) << c.text;
        EXPECT_EQ(e.position, c.position) << c.text;
        EXPECT_EQ(e.message, c.message) << c.text;
    }
}

TEST(FilterParseTest, LengthLimit) {
    std::string ok(kMaxLength - 2, 'a');
    ok = "'" + ok + "'";
    EXPECT_TRUE(parse(ok).has_value());
    const Error e = error_of(ok + " ");
    EXPECT_EQ(e.code, ErrorCode::kSyntax);
    EXPECT_EQ(e.position, kMaxLength);
    EXPECT_EQ(e.message, "the filter is longer than 2048 characters");
}

TEST(FilterParseTest, PredicateLimit) {
    std::string text;
    for (std::size_t i = 0; i < kMaxPredicates; ++i) {
        text += i == 0 ? "" : " ";
        text += i % 2 == 0 ? "w" : "summary.x = 1";
    }
    EXPECT_TRUE(parse(text).has_value());
    const std::size_t next = text.size() + 1;
    const Error e = error_of(text + " last");
    EXPECT_EQ(e.code, ErrorCode::kSyntax);
    EXPECT_EQ(e.position, next);
    EXPECT_EQ(e.message, "too many predicates (at most 64)");
}

TEST(FilterParseTest, DepthLimit) {
    const std::string open16(kMaxDepth, '(');
    const std::string close16(kMaxDepth, ')');
    EXPECT_EQ(show(open16 + "a" + close16), "TEXT(a)");
    const Error e = error_of("(" + open16 + "a" + close16 + ")");
    EXPECT_EQ(e.code, ErrorCode::kSyntax);
    EXPECT_EQ(e.position, kMaxDepth);
    EXPECT_EQ(e.message, "parentheses nested too deeply (at most 16 levels)");
    // NOT does not nest: a long run of them is folded, not recursed into.
    std::string nots;
    for (int i = 0; i < 500; ++i) {
        nots += "! ";
    }
    EXPECT_EQ(show(nots + "a"), "TEXT(a)");
}

TEST(FilterParseTest, ErrorsCrossAStatusAndComeBack) {
    const Error e = error_of("status = ");
    const Status s = e.to_status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(),
              "invalid filter (FILTER_SYNTAX at position 9): unexpected end of the filter: "
              "expected a value");
    const auto back = error_from_status(s);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->code, ErrorCode::kSyntax);
    EXPECT_EQ(back->position, 9U);
    EXPECT_EQ(back->message, e.message);
    const auto field = error_from_status(error_of("x.y = 1").to_status());
    ASSERT_TRUE(field.has_value());
    EXPECT_EQ(field->code, ErrorCode::kField);
    EXPECT_EQ(error_from_status(Status::invalid_argument("something else")), std::nullopt);
    EXPECT_EQ(error_from_status(Status::internal("invalid filter (FILTER_FIELD at position 1): x")),
              std::nullopt);
    EXPECT_EQ(error_code_name(ErrorCode::kField), "FILTER_FIELD");
    EXPECT_THROW((void)parse("(").value(), StatusError);
}

TEST(FilterParseTest, GlobPatterns) {
    EXPECT_EQ(glob_to_sqlite("Best-*?"), "best-*?");
    EXPECT_EQ(glob_to_sqlite("a[1]"), "a[[]1]");
}

TEST(FilterParseTest, PositionsPointAtTheTerm) {
    auto r = parse("  a   summary.x = 1");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->root->children[0].position, 2U);
    EXPECT_EQ(r->root->children[1].position, 6U);
    EXPECT_EQ(r->root->children[1].field.position, 6U);
    EXPECT_EQ(r->root->children[1].literals[0].position, 18U);
}

}  // namespace
}  // namespace runicorn::filter
