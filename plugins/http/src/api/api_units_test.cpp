// Unit tests of the run API's building blocks: error bodies, JSON body rules, query parsing,
// RunListItem and detail builders, size formatting, the path tree and the preference files.

#include <cmath>
#include <fstream>
#include <limits>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/testing/status_matchers.hpp>
#include <runicorn/testing/temp_dir.hpp>

#include "../responses.hpp"
#include "api_common.hpp"
#include "api_json.hpp"
#include "paths_routes.hpp"
#include "prefs_file.hpp"
#include "run_json.hpp"
#include "run_list_params.hpp"
#include "storage_stats.hpp"

namespace runicorn::http_plugin::api {
namespace {

using ::runicorn::testing::IsOkAndHolds;
using ::runicorn::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

plugin::HttpRequest json_request(std::string body, std::string content_type = "application/json") {
    plugin::HttpRequest r;
    r.method = "POST";
    r.body = std::move(body);
    if (!content_type.empty()) {
        r.headers.emplace_back("content-type", std::move(content_type));
    }
    return r;
}

plugin::HttpRequest query_request(plugin::HeaderList query) {
    plugin::HttpRequest r;
    r.method = "GET";
    r.path = "/api/runs";
    r.target = "/api/runs";
    r.query = std::move(query);
    return r;
}

TEST(ResponsesTest, ErrorBodiesCarryACode) {
    EXPECT_EQ(error_response(404, "Not Found").body,
              R"({"detail":"Not Found","code":"NOT_FOUND"})");
    EXPECT_EQ(error_response(404, "RUN_NOT_FOUND", "Run not found").body,
              R"({"detail":"Run not found","code":"RUN_NOT_FOUND"})");
    EXPECT_EQ(error_response(415, "x").body, R"({"detail":"x","code":"UNSUPPORTED_MEDIA_TYPE"})");
    EXPECT_EQ(default_error_code(599), "HTTP_599");
    const plugin::HttpResponse st = error_response(Status::invalid_argument("bad"));
    EXPECT_EQ(st.status, 400U);
    EXPECT_EQ(st.body, R"({"detail":"bad","code":"INVALID_ARGUMENT"})");
    EXPECT_EQ(error_response(Status::data_loss("x")).body, R"({"detail":"x","code":"INTERNAL"})");
}

TEST(ResponsesTest, StructuredErrorTakesTheDetailCode) {
    boost::json::value detail = boost::json::parse(R"({"code":"FILTER_SYNTAX","message":"m"})");
    const plugin::HttpResponse r = structured_error_response(400, "OTHER", detail);
    EXPECT_EQ(r.body,
              R"({"detail":{"code":"FILTER_SYNTAX","message":"m"},"code":"FILTER_SYNTAX"})");
    EXPECT_EQ(structured_error_response(409, "X", boost::json::value("s")).body,
              R"({"detail":"s","code":"X"})");
}

TEST(ResponsesTest, ValidationErrorIsTheFastApiListForm) {
    const plugin::HttpResponse r =
        validation_error({"query", "limit"}, "too small", "value_error.number.not_ge");
    EXPECT_EQ(r.status, 422U);
    EXPECT_EQ(r.body, R"({"detail":[{"loc":["query","limit"],"msg":"too small",)"
                      R"("type":"value_error.number.not_ge"}],"code":"VALIDATION_ERROR"})");
}

TEST(ResponsesTest, JsonBodyRules) {
    boost::json::value v;
    EXPECT_FALSE(parse_json_body(json_request(R"({"a":1})"), v).has_value());
    EXPECT_EQ(v.at("a").as_int64(), 1);
    EXPECT_FALSE(
        parse_json_body(json_request("[1]", "Application/JSON; charset=utf-8"), v).has_value());

    auto err = parse_json_body(json_request("{}", ""), v);
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->status, 415U);
    err = parse_json_body(json_request("{}", "text/plain"), v);
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->status, 415U);
    err = parse_json_body(json_request("application/json-seq", "application/json-seq"), v);
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->status, 415U);

    for (const char* bad : {"", "{", "{\"a\":NaN}", "[1] 2", "{'a':1}", "\xff"}) {
        err = parse_json_body(json_request(bad), v);
        ASSERT_TRUE(err.has_value()) << bad;
        EXPECT_EQ(err->status, 400U) << bad;
        EXPECT_EQ(err->body, R"({"detail":"Malformed JSON body","code":"BAD_REQUEST"})");
    }

    const std::string depth32 = std::string(32, '[') + std::string(32, ']');
    EXPECT_FALSE(parse_json_body(json_request(depth32), v).has_value());
    const std::string depth33 = std::string(33, '[') + std::string(33, ']');
    err = parse_json_body(json_request(depth33), v);
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->status, 400U);
    EXPECT_THAT(err->body, HasSubstr("deeper than 32"));

    std::string many = "{";
    for (int i = 0; i <= 10'000; ++i) {
        many += (i > 0 ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
    }
    many += "}";
    err = parse_json_body(json_request(many), v);
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->status, 413U);

    err = parse_json_body(json_request(std::string(kMaxJsonBody + 1, ' ')), v);
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->status, 413U);
}

TEST(ApiJsonTest, TolerantParseAndNonFinite) {
    auto v = parse_tolerant_json(
        "\xEF\xBB\xBF{\"a\": NaN, \"b\": [Infinity, -Infinity], "
        "\"s\": \"NaN Infinity\"}");
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(boost::json::serialize(*v), R"({"a":null,"b":[null,null],"s":"NaN Infinity"})");
    EXPECT_FALSE(parse_tolerant_json("{oops").has_value());

    boost::json::value d = boost::json::parse(R"({"x":[1.5]})");
    d.as_object()["y"] = std::numeric_limits<double>::infinity();
    d.as_object()["x"].as_array().emplace_back(std::nan(""));
    null_non_finite(d);
    EXPECT_EQ(boost::json::serialize(d), R"({"x":[1.5E0,null],"y":null})");
    EXPECT_TRUE(compat_number(std::nan("")).is_null());
    EXPECT_EQ(compat_number(2.5).as_double(), 2.5);

    EXPECT_EQ(pretty_json(boost::json::parse(R"({"a":[1,{}],"b":"é"})")),
              "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": \"é\"\n}\n");
}

TEST(RunJsonTest, RunIdRule) {
    EXPECT_TRUE(valid_run_id("20250115_100000_6cefa5"));
    EXPECT_TRUE(valid_run_id("my-run.v2_x"));
    EXPECT_TRUE(valid_run_id(std::string(128, 'a')));
    EXPECT_FALSE(valid_run_id(std::string(129, 'a')));
    for (const char* bad : {"", "_x", ".x", "-x", "a..b", "a/b", "a b", "a\\b", "ä"}) {
        EXPECT_FALSE(valid_run_id(bad)) << bad;
    }
}

plugin::RunInfo sample_run() {
    plugin::RunInfo run;
    run.location.run_id = "r1";
    run.location.path = "cv/resnet";
    run.location.dir = "/nonexistent/runs/cv/resnet/r1";
    run.created_at = 10.0;
    run.status = "running";
    run.pid = 42;
    run.best_metric_value = std::numeric_limits<double>::quiet_NaN();
    run.best_metric_name = "acc";
    run.alias = "a";
    run.tags = {"t1", "t2"};
    run.assets_count = 3;
    run.started_at = 100.0;
    run.liveness = plugin::RunLiveness::kAlive;
    run.summary["best"] = std::numeric_limits<double>::infinity();
    run.meta["k"] = "v";
    return run;
}

TEST(RunJsonTest, ListItemHasCompatFieldsFirstAndNullsNonFinite) {
    const boost::json::object item = run_list_item(sample_run(), {}, 160.0);
    std::vector<std::string> keys;
    for (const auto& kv : item) {
        keys.emplace_back(kv.key());
    }
    EXPECT_THAT(
        keys, ElementsAre("id", "run_dir", "created_time", "status", "pid", "best_metric_value",
                          "best_metric_name", "path", "alias", "tags", "assets_count", "started_at",
                          "ended_at", "duration", "exit_reason", "liveness", "hostname",
                          "last_step", "format_version"));
    EXPECT_TRUE(item.at("best_metric_value").is_null());
    EXPECT_EQ(item.at("duration").as_double(), 60.0);
    EXPECT_EQ(item.at("liveness").as_string(), "alive");
    EXPECT_EQ(item.at("format_version").as_int64(), 0);

    const boost::json::object full = run_list_item(sample_run(), {true, true, true}, 160.0);
    EXPECT_TRUE(full.at("summary").at("best").is_null());
    EXPECT_EQ(full.at("meta").at("k").as_string(), "v");
    EXPECT_TRUE(full.at("config").as_object().empty());
}

TEST(RunJsonTest, LivenessNames) {
    plugin::RunInfo run;
    run.status = "finished";
    EXPECT_EQ(liveness_name(run), "ended");
    run.status = "running";
    EXPECT_EQ(liveness_name(run), "unknown");
    run.liveness = plugin::RunLiveness::kDead;
    EXPECT_EQ(liveness_name(run), "dead");
    run.liveness = plugin::RunLiveness::kStale;
    EXPECT_EQ(liveness_name(run), "stale");
}

TEST(RunJsonTest, RecycleBinEntryDefaults) {
    plugin::RunInfo run = sample_run();
    const boost::json::object e = recycle_bin_entry(run);
    EXPECT_EQ(e.at("delete_reason").as_string(), "unknown");
    EXPECT_EQ(e.at("original_status").as_string(), "unknown");
    EXPECT_TRUE(e.at("deleted_at").is_null());
}

TEST(RunListParamsTest, Defaults) {
    RunListParams p;
    EXPECT_FALSE(parse_run_list_params(query_request({}), p).has_value());
    EXPECT_EQ(p.query.limit, 0U);
    EXPECT_EQ(p.query.sort, plugin::RunSort::kDiscovery);
    EXPECT_FALSE(p.query.descending.has_value());
    EXPECT_FALSE(p.query.path.has_value());
    EXPECT_TRUE(p.query.count);
}

TEST(RunListParamsTest, AllParameters) {
    RunListParams p;
    EXPECT_FALSE(parse_run_list_params(query_request({{"limit", "50"},
                                                      {"cursor", "abc"},
                                                      {"sort", "created"},
                                                      {"order", "asc"},
                                                      {"status", "failed, running,"},
                                                      {"path", "/"},
                                                      {"exact", "true"},
                                                      {"tags", "a,b"},
                                                      {"deleted", "any"},
                                                      {"include", "summary,meta"},
                                                      {"count", "false"},
                                                      {"q", "summary.acc > 0.5"}}),
                                       p)
                     .has_value());
    EXPECT_EQ(p.query.limit, 50U);
    EXPECT_EQ(p.query.cursor, "abc");
    EXPECT_EQ(p.query.sort, plugin::RunSort::kCreated);
    EXPECT_EQ(p.query.descending, std::optional<bool>(false));
    EXPECT_THAT(p.query.statuses, ElementsAre("failed", "running"));
    EXPECT_EQ(p.query.path, std::optional<std::string>(""));
    EXPECT_TRUE(p.query.exact_path);
    EXPECT_THAT(p.query.tags, ElementsAre("a", "b"));
    EXPECT_EQ(p.query.deleted, plugin::DeletedFilter::kAny);
    EXPECT_TRUE(p.includes.summary);
    EXPECT_FALSE(p.includes.config);
    EXPECT_TRUE(p.includes.meta);
    EXPECT_FALSE(p.query.count);
    EXPECT_EQ(p.query.filter, "summary.acc > 0.5");
}

TEST(RunListParamsTest, SortKeys) {
    for (const auto& [name, sort] : std::vector<std::pair<std::string, plugin::RunSort>>{
             {"discovery", plugin::RunSort::kDiscovery},
             {"created", plugin::RunSort::kCreated},
             {"started", plugin::RunSort::kStarted},
             {"ended", plugin::RunSort::kEnded},
             {"duration", plugin::RunSort::kDuration},
             {"status", plugin::RunSort::kStatus},
             {"path", plugin::RunSort::kPath},
             {"alias", plugin::RunSort::kAlias},
             {"id", plugin::RunSort::kId},
             {"best_metric_value", plugin::RunSort::kBestMetric},
             {"summary.val/acc", plugin::RunSort::kSummary}}) {
        RunListParams p;
        EXPECT_FALSE(parse_run_list_params(query_request({{"sort", name}}), p).has_value()) << name;
        EXPECT_EQ(p.query.sort, sort) << name;
    }
    RunListParams p;
    ASSERT_FALSE(parse_run_list_params(query_request({{"sort", "summary.val/acc"}}), p));
    EXPECT_EQ(p.query.sort_field, "val/acc");
}

TEST(RunListParamsTest, BadValues) {
    struct Case {
        std::string name, value;
        unsigned status;
    };
    for (const Case& c : std::vector<Case>{{"limit", "0", 422},
                                           {"limit", "1001", 422},
                                           {"limit", "ten", 422},
                                           {"limit", "", 422},
                                           {"limit", "5x", 422},
                                           {"sort", "bogus", 422},
                                           {"sort", "metric.loss.mean", 422},
                                           {"sort", "metric.min", 422},
                                           {"order", "up", 422},
                                           {"deleted", "maybe", 422},
                                           {"include", "summary,secrets", 422},
                                           {"count", "perhaps", 422},
                                           {"exact", "2", 422}}) {
        RunListParams p;
        auto err = parse_run_list_params(query_request({{c.name, c.value}}), p);
        ASSERT_TRUE(err.has_value()) << c.name << "=" << c.value;
        EXPECT_EQ(err->status, c.status) << c.name << "=" << c.value;
        if (c.status == 422) {
            const boost::json::value body = boost::json::parse(err->body);
            EXPECT_EQ(body.at("detail").at(0).at("loc").at(1).as_string(), c.name);
        }
    }
}

TEST(RunListParamsTest, LinkKeepsOtherParametersAndReplacesTheCursor) {
    EXPECT_EQ(link_with_cursor("/api/runs", {{"limit", "2"}, {"cursor", "old"}, {"path", "a b/c"}},
                               "n+1="),
              "/api/runs?limit=2&path=a%20b%2Fc&cursor=n%2B1%3D");
    EXPECT_THAT(split_comma_list(" a ,, b,"), ElementsAre("a", "b"));
}

TEST(CachedJsonTest, EtagAndNotModified) {
    plugin::HttpRequest req = query_request({});
    const plugin::HttpResponse first = cached_json(req, boost::json::parse("[1]"));
    EXPECT_EQ(first.status, 200U);
    const std::string etag = plugin::HttpRequest::find(first.headers, "ETag").value_or("");
    ASSERT_FALSE(etag.empty());
    EXPECT_EQ(plugin::HttpRequest::find(first.headers, "Cache-Control"),
              std::optional<std::string>("no-cache"));
    req.headers.emplace_back("if-none-match", "\"other\", " + etag);
    const plugin::HttpResponse second = cached_json(req, boost::json::parse("[1]"));
    EXPECT_EQ(second.status, 304U);
    EXPECT_TRUE(second.body.empty());
    const plugin::HttpResponse changed = cached_json(req, boost::json::parse("[2]"));
    EXPECT_EQ(changed.status, 200U);
}

TEST(StorageStatsTest, SizeHuman) {
    EXPECT_EQ(size_human(0), "0.00 B");
    EXPECT_EQ(size_human(637), "637.00 B");
    EXPECT_EQ(size_human(57344), "56.00 KB");
    EXPECT_EQ(size_human(60466), "59.05 KB");
    EXPECT_EQ(size_human(std::uint64_t{3} << 30), "3.00 GB");
}

TEST(PathsTest, Tree) {
    EXPECT_EQ(boost::json::serialize(path_tree({"cv/resnet", "cv/yolo", "cv/yolo/v8", "default"})),
              R"({"cv":{"resnet":{},"yolo":{"v8":{}}},"default":{}})");
    EXPECT_EQ(boost::json::serialize(path_tree({})), "{}");
}

TEST(PrefsFileTest, ReadModifyWriteKeepsUnknownKeys) {
    runicorn::testing::TempDir tmp;
    const std::filesystem::path file = tmp.path() / "cfg" / "config.json";
    EXPECT_THAT(read_object_file(file), IsOkAndHolds(boost::json::object()));
    ASSERT_OK(update_object_file(file, [](boost::json::object& o) { o["b"] = 1; }));
    ASSERT_OK(update_object_file(file, [](boost::json::object& o) { o["a"] = "x"; }));
    auto obj = read_object_file(file);
    ASSERT_TRUE(obj.has_value());
    EXPECT_EQ(boost::json::serialize(*obj), R"({"b":1,"a":"x"})");
    EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    { std::ofstream(file) << "{broken"; }
    const auto broken = read_object_file(file);
    ASSERT_FALSE(broken.has_value());
    EXPECT_THAT(broken.error(), StatusIs(StatusCode::kDataLoss, HasSubstr("config.json")));
    EXPECT_THAT(update_object_file(file, [](boost::json::object&) {}),
                StatusIs(StatusCode::kDataLoss, HasSubstr("not a JSON object")));
}

TEST(PrefsFileTest, ExpandUserPath) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): single-threaded test.
    ::setenv("RUNICORN_API_TEST_VAR", "/data", 1);
    EXPECT_EQ(expand_user_path("$RUNICORN_API_TEST_VAR/x"), "/data/x");
    EXPECT_EQ(expand_user_path("${RUNICORN_API_TEST_VAR}y"), "/datay");
    EXPECT_EQ(expand_user_path("%RUNICORN_API_TEST_VAR%\\z"), "/data\\z");
    EXPECT_EQ(expand_user_path("$RUNICORN_API_NOT_SET/x"), "$RUNICORN_API_NOT_SET/x");
    // NOLINTNEXTLINE(concurrency-mt-unsafe): single-threaded test.
    ::setenv("HOME", "/home/u", 1);
    EXPECT_EQ(expand_user_path("~/r"), "/home/u/r");
    EXPECT_EQ(expand_user_path("a~b"), "a~b");
}

}  // namespace
}  // namespace runicorn::http_plugin::api
