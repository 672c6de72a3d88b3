#include "openapi_routes.hpp"

#include <memory>
#include <string>

#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../http_router.hpp"
#include "../responses.hpp"

namespace runicorn::http_plugin {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

plugin::HttpResponse call(RouteTable& table, std::string_view method,
                          std::vector<std::string> segments) {
    RouteMatch m = table.match(method, segments);
    EXPECT_EQ(m.kind, RouteMatch::Kind::kFound);
    return m.handler->handle(plugin::HttpRequest{});
}

TEST(OpenApiTest, DocumentDescribesEveryRoute) {
    plugin::RouteSpec runs{"GET", "/api/runs/:run_id", "One run", true};
    runs.parameters = {{"include", "query", false, "boolean", "Add details"},
                       {"run_id", "path", true, "string", "The run id"}};
    runs.response_schema = R"({"type":"object"})";
    plugin::RouteSpec patch{"PATCH", "/api/runs/:run_id", "Edit", false};
    patch.request_schema = R"({"type":"object","properties":{"tags":{"type":"array"}}})";
    patch.tags = {"runs", "edit"};
    plugin::RouteSpec ws{"GET", "/api/runs/:run_id/logs/ws", "Log stream", true};
    ws.stream = "websocket";
    plugin::RouteSpec bad{"GET", "/api/x", "bad schema"};
    bad.response_schema = "{not json";
    const json::object doc = openapi_document({runs, patch, ws, bad}, "1.2.3");
    EXPECT_EQ(doc.at("openapi"), "3.1.0");
    EXPECT_EQ(doc.at("info").at("version"), "1.2.3");
    const auto& paths = doc.at("paths").as_object();
    ASSERT_TRUE(paths.contains("/api/runs/{run_id}"));
    const auto& get = paths.at("/api/runs/{run_id}").at("get").as_object();
    EXPECT_EQ(get.at("summary"), "One run");
    EXPECT_EQ(get.at("x-runicorn-compat"), true);
    EXPECT_EQ(get.at("tags").as_array().at(0), "runs");
    const auto& params = get.at("parameters").as_array();
    ASSERT_EQ(params.size(), 2U);
    EXPECT_EQ(json::serialize(params.at(0)),
              R"({"name":"run_id","in":"path","required":true,"schema":{"type":"string"},)"
              R"("description":"The run id"})");
    EXPECT_EQ(params.at(1).at("name"), "include");
    EXPECT_EQ(params.at(1).at("schema").at("type"), "boolean");
    EXPECT_EQ(get.at("responses").at("200").at("content").at("application/json").at("schema"),
              json::object({{"type", "object"}}));
    const auto& p = paths.at("/api/runs/{run_id}").at("patch").as_object();
    EXPECT_EQ(p.at("x-runicorn-compat"), false);
    EXPECT_EQ(p.at("tags").as_array().size(), 2U);
    EXPECT_TRUE(
        p.at("requestBody").at("content").at("application/json").as_object().contains("schema"));
    const auto& stream = paths.at("/api/runs/{run_id}/logs/ws").at("get").as_object();
    EXPECT_EQ(stream.at("x-runicorn-stream").at("protocol"), "websocket");
    EXPECT_TRUE(stream.at("responses").as_object().contains("101"));
    EXPECT_FALSE(
        paths.at("/api/x").at("get").at("responses").at("200").as_object().contains("content"));
}

TEST(OpenApiTest, RoutesServeDocumentDocsAndRedirect) {
    auto table = std::make_shared<RouteTable>();
    ASSERT_TRUE(table
                    ->add_route({"GET", "/api/health", "Liveness", true},
                                make_handler([](const plugin::HttpRequest&) {
                                    return json_response(200, json::object{});
                                }))
                    .is_ok());
    ASSERT_TRUE(add_openapi_routes(table, "9.9.9").is_ok());
    plugin::HttpResponse doc = call(*table, "GET", {"openapi.json"});
    EXPECT_EQ(doc.status, 200U);
    EXPECT_THAT(doc.body, HasSubstr(R"("/api/health":{"get":{"summary":"Liveness")"));
    EXPECT_THAT(doc.body, HasSubstr(R"("/openapi.json":{"get")"));
    EXPECT_THAT(doc.body, HasSubstr(R"("x-runicorn-compat":true)"));
    // Routes added later show up.
    ASSERT_TRUE(
        table
            ->add_route({"POST", "/api/late", "Late"}, make_handler([](const plugin::HttpRequest&) {
                            return json_response(200, json::object{});
                        }))
            .is_ok());
    EXPECT_THAT(call(*table, "GET", {"openapi.json"}).body, HasSubstr(R"("/api/late":{"post")"));

    plugin::HttpResponse docs = call(*table, "GET", {"docs"});
    EXPECT_EQ(docs.content_type, "text/html; charset=utf-8");
    EXPECT_THAT(docs.body, HasSubstr(R"(<script src="/docs/docs.js"></script>)"));
    // Offline: nothing from another host, no inline script (the CSP forbids it).
    EXPECT_THAT(docs.body, Not(HasSubstr("http://")));
    EXPECT_THAT(docs.body, Not(HasSubstr("https://")));
    EXPECT_THAT(docs.body, Not(HasSubstr("<script>")));
    plugin::HttpResponse js = call(*table, "GET", {"docs", "docs.js"});
    EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
    EXPECT_THAT(js.body, HasSubstr("fetch('/openapi.json'"));
    EXPECT_THAT(js.body, Not(HasSubstr("innerHTML")));
    plugin::HttpResponse redoc = call(*table, "GET", {"redoc"});
    EXPECT_EQ(redoc.status, 301U);
    EXPECT_EQ(plugin::HttpRequest::find(redoc.headers, "Location"), "/docs");
}

}  // namespace
}  // namespace runicorn::http_plugin
