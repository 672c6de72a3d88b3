#include "http_router.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace runicorn::http_plugin {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

std::shared_ptr<plugin::RouteHandler> named(std::string body) {
    return make_handler([body = std::move(body)](const plugin::HttpRequest& /*request*/) {
        plugin::HttpResponse r;
        r.body = body;
        return r;
    });
}

std::string call(const RouteMatch& m) { return m.handler->handle(plugin::HttpRequest{}).body; }

std::vector<std::string> segments_of(std::string_view target) {
    return parse_target(target).value().segments;
}

class RouterTest : public ::testing::Test {
protected:
    void add_ok(std::string method, std::string pattern, std::string body) {
        ASSERT_TRUE(
            router_.add({std::move(method), std::move(pattern), "", false}, named(std::move(body)))
                .is_ok());
    }
    RouteMatch match(std::string_view method, std::string_view target) {
        return router_.match(method, segments_of(target));
    }

    Router router_;
};

TEST_F(RouterTest, MatchesLiteralAndParamSegments) {
    add_ok("GET", "/api/health", "health");
    add_ok("GET", "/api/runs/:run_id/metrics/:key", "metric");

    RouteMatch health = match("GET", "/api/health");
    ASSERT_EQ(health.kind, RouteMatch::Kind::kFound);
    EXPECT_EQ(call(health), "health");
    EXPECT_TRUE(health.params.empty());

    RouteMatch metric = match("GET", "/api/runs/20250101_000000_abcdef/metrics/loss");
    ASSERT_EQ(metric.kind, RouteMatch::Kind::kFound);
    EXPECT_EQ(call(metric), "metric");
    EXPECT_EQ(metric.spec.pattern, "/api/runs/:run_id/metrics/:key");
    EXPECT_THAT(metric.params,
                ElementsAre(Pair("run_id", "20250101_000000_abcdef"), Pair("key", "loss")));
}

TEST_F(RouterTest, RootPattern) {
    add_ok("GET", "/", "root");
    RouteMatch root = match("GET", "/");
    ASSERT_EQ(root.kind, RouteMatch::Kind::kFound);
    EXPECT_EQ(call(root), "root");
    EXPECT_EQ(match("GET", "/x").kind, RouteMatch::Kind::kNotFound);
}

TEST_F(RouterTest, ParamDoesNotMatchEmptySegmentOrTrailingSlash) {
    add_ok("GET", "/api/runs/:run_id", "run");
    EXPECT_EQ(match("GET", "/api/runs/").kind, RouteMatch::Kind::kNotFound);
    EXPECT_EQ(match("GET", "/api/runs/a/").kind, RouteMatch::Kind::kNotFound);
    EXPECT_EQ(match("GET", "/api/runs").kind, RouteMatch::Kind::kNotFound);
}

TEST_F(RouterTest, LiteralSegmentBeatsParam) {
    add_ok("GET", "/api/runs/:run_id", "by-id");
    add_ok("GET", "/api/runs/search", "search");
    EXPECT_EQ(call(match("GET", "/api/runs/search")), "search");
    EXPECT_EQ(call(match("GET", "/api/runs/other")), "by-id");
}

TEST_F(RouterTest, UnknownPathIsNotFound) {
    add_ok("GET", "/api/health", "health");
    RouteMatch m = match("GET", "/api/nope");
    EXPECT_EQ(m.kind, RouteMatch::Kind::kNotFound);
    EXPECT_EQ(m.handler, nullptr);
    EXPECT_TRUE(m.allow.empty());
}

TEST_F(RouterTest, KnownPathWrongMethodIsMethodNotAllowedWithAllow) {
    add_ok("DELETE", "/api/runs/:run_id", "delete");
    add_ok("GET", "/api/runs/:run_id", "get");
    add_ok("PATCH", "/api/runs/:run_id", "patch");
    RouteMatch m = match("POST", "/api/runs/abc");
    EXPECT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
    EXPECT_THAT(m.allow, ElementsAre("GET", "HEAD", "PATCH", "DELETE"));
}

TEST_F(RouterTest, AllowWithoutGetHasNoHead) {
    add_ok("POST", "/api/status/check", "check");
    RouteMatch m = match("GET", "/api/status/check");
    EXPECT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
    EXPECT_THAT(m.allow, ElementsAre("POST"));
    EXPECT_EQ(match("HEAD", "/api/status/check").kind, RouteMatch::Kind::kMethodNotAllowed);
}

TEST_F(RouterTest, HeadUsesTheGetRoute) {
    add_ok("GET", "/api/health", "health");
    RouteMatch m = match("HEAD", "/api/health");
    ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
    EXPECT_EQ(call(m), "health");
}

TEST_F(RouterTest, DuplicateRouteIsAlreadyExists) {
    add_ok("GET", "/api/runs/:run_id", "first");
    Status same = router_.add({"GET", "/api/runs/:run_id", "", false}, named("second"));
    EXPECT_EQ(same.code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(same.message(), "route 'GET /api/runs/:run_id' is already registered");

    Status renamed = router_.add({"GET", "/api/runs/:id", "", false}, named("third"));
    EXPECT_EQ(renamed.code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(renamed.message(),
              "route 'GET /api/runs/:id' conflicts with 'GET /api/runs/:run_id'");

    // Another method on the same pattern is a different route.
    EXPECT_TRUE(router_.add({"DELETE", "/api/runs/:run_id", "", false}, named("d")).is_ok());
    EXPECT_EQ(call(match("GET", "/api/runs/x")), "first");
}

TEST_F(RouterTest, MalformedPatternIsInvalidArgument) {
    struct Case {
        std::string method;
        std::string pattern;
        std::string message;
    };
    const std::vector<Case> cases = {
        {"GET", "api/x", "route 'GET api/x': the pattern must start with '/'"},
        {"GET", "", "route 'GET ': the pattern must start with '/'"},
        {"GET", "/api//x", "route 'GET /api//x': the pattern has an empty segment"},
        {"GET", "/api/x/", "route 'GET /api/x/': the pattern has an empty segment"},
        {"GET", "/api/:", "route 'GET /api/:': ':' is not a valid parameter"},
        {"GET", "/api/:1x", "route 'GET /api/:1x': ':1x' is not a valid parameter"},
        {"GET", "/api/:a-b", "route 'GET /api/:a-b': ':a-b' is not a valid parameter"},
        {"GET", "/api/:a/:a", "route 'GET /api/:a/:a': the parameter 'a' is repeated"},
        {"GET", "/api/a b",
         "route 'GET /api/a b': the segment 'a b' holds a character not allowed in a path"},
        {"GET", "/api/x?y",
         "route 'GET /api/x?y': the segment 'x?y' holds a character not allowed in a path"},
        {"GET", "/api/%41",
         "route 'GET /api/%41': the segment '%41' holds a character not allowed in a path"},
        {"HEAD", "/api/x",
         "route 'HEAD /api/x': the method must be one of GET, POST, PUT, PATCH, DELETE"},
        {"get", "/api/x",
         "route 'get /api/x': the method must be one of GET, POST, PUT, PATCH, DELETE"},
    };
    for (const Case& c : cases) {
        Status s = router_.add({c.method, c.pattern, "", false}, named("x"));
        EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.pattern;
        EXPECT_EQ(s.message(), c.message);
    }
    Status no_handler = router_.add({"GET", "/api/x", "", false}, nullptr);
    EXPECT_EQ(no_handler.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(no_handler.message(), "route 'GET /api/x' has no handler");
    EXPECT_TRUE(router_.routes().empty());
}

TEST_F(RouterTest, RoutesListsInOrderAndClearEmpties) {
    add_ok("GET", "/b", "b");
    add_ok("POST", "/a", "a");
    const auto routes = router_.routes();
    ASSERT_EQ(routes.size(), 2U);
    EXPECT_EQ(routes[0].pattern, "/b");
    EXPECT_EQ(routes[1].method, "POST");
    router_.clear();
    EXPECT_TRUE(router_.routes().empty());
    EXPECT_EQ(match("GET", "/b").kind, RouteMatch::Kind::kNotFound);
}

TEST_F(RouterTest, PercentEncodedSlashStaysInsideItsSegment) {
    add_ok("GET", "/api/files/:name", "file");
    RouteMatch m = match("GET", "/api/files/a%2Fb%20c");
    ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
    EXPECT_THAT(m.params, ElementsAre(Pair("name", "a/b c")));
}

TEST_F(RouterTest, PercentEncodedLiteralMatches) {
    add_ok("GET", "/api/health", "health");
    EXPECT_EQ(match("GET", "/api/%68ealth").kind, RouteMatch::Kind::kFound);
}

TEST(PercentDecodeTest, DecodesEscapes) {
    EXPECT_EQ(percent_decode("a%20b%2fc%2F"), "a b/c/");
    EXPECT_EQ(percent_decode("%E4%BD%A0"), "\xE4\xBD\xA0");
    EXPECT_EQ(percent_decode("a+b"), "a+b");
    EXPECT_EQ(percent_decode("a+b", true), "a b");
    EXPECT_EQ(percent_decode(""), "");
}

TEST(PercentDecodeTest, RefusesMalformedEscapes) {
    EXPECT_EQ(percent_decode("%"), std::nullopt);
    EXPECT_EQ(percent_decode("abc%2"), std::nullopt);
    EXPECT_EQ(percent_decode("%zz"), std::nullopt);
    EXPECT_EQ(percent_decode("%g1"), std::nullopt);
    EXPECT_EQ(percent_decode("a%00b"), std::nullopt);
}

TEST(ParseTargetTest, SplitsPathSegmentsAndQuery) {
    auto t = parse_target("/api/runs/a%20b?nonce=x%2By&flag&q=a+b&q=2&&=v");
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->path, "/api/runs/a b");
    EXPECT_THAT(t->segments, ElementsAre("api", "runs", "a b"));
    EXPECT_THAT(t->query, ElementsAre(Pair("nonce", "x+y"), Pair("flag", ""), Pair("q", "a b"),
                                      Pair("q", "2"), Pair("", "v")));
}

TEST(ParseTargetTest, RootAndTrailingSlash) {
    EXPECT_TRUE(parse_target("/").value().segments.empty());
    EXPECT_THAT(parse_target("/a/").value().segments, ElementsAre("a", ""));
    EXPECT_THAT(parse_target("/?x=1").value().query, ElementsAre(Pair("x", "1")));
}

TEST(ParseTargetTest, RefusesBadTargets) {
    auto absolute = parse_target("http://example.com/");
    ASSERT_FALSE(absolute.has_value());
    EXPECT_EQ(absolute.error(), Status::invalid_argument("the request target must start with '/'"));
    auto bad_path = parse_target("/a%zz");
    ASSERT_FALSE(bad_path.has_value());
    EXPECT_EQ(bad_path.error(),
              Status::invalid_argument("the request path holds a malformed percent-escape"));
    auto bad_query = parse_target("/a?x=%4");
    ASSERT_FALSE(bad_query.has_value());
    EXPECT_EQ(bad_query.error(),
              Status::invalid_argument("the query string holds a malformed percent-escape"));
}

}  // namespace
}  // namespace runicorn::http_plugin
