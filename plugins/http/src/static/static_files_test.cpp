// The web UI files (API.md §5) from a small generated dist folder, over real sockets.
#include "static_files.hpp"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <runicorn/testing/temp_dir.hpp>

#include "../dispatcher.hpp"
#include "../http_router.hpp"
#include "../http_server.hpp"
#include "../route_table.hpp"

namespace runicorn::http_plugin {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

struct Response {
    unsigned status = 0;
    std::string body;
    plugin::HeaderList headers;
    std::string header(const std::string& name) const {
        return plugin::HttpRequest::find(headers, name).value_or("<absent>");
    }
};

/// Sends one raw request on a new connection and reads the response.
Response fetch(std::uint16_t port, const std::string& target, const plugin::HeaderList& extra = {},
               bool head = false) {
    net::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    std::string raw = std::string(head ? "HEAD " : "GET ") + target +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto& [k, v] : extra) {
        raw += k + ": " + v + "\r\n";
    }
    raw += "\r\n";
    net::write(socket, net::buffer(raw));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.skip(head);
    beast::error_code ec;
    http::read(socket, buffer, parser, ec);
    EXPECT_FALSE(ec) << ec.message() << " for " << target;
    Response out;
    if (ec) {
        return out;
    }
    auto res = parser.release();
    out.status = res.result_int();
    for (const auto& f : res) {
        std::string name(f.name_string());
        for (char& c : name) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        out.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    out.body = res.body();
    return out;
}

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

class StaticFilesTest : public ::testing::Test {
protected:
    void SetUp() override {
        dist_ = dir_.path() / "dist";
        write(dist_ / "index.html", "<!doctype html><title>UI</title>");
        write(dist_ / "assets" / "app-3f9a1c.js", "console.log('app')");
        write(dist_ / "assets" / "app-3f9a1c.js.br", "BROTLI");
        write(dist_ / "assets" / "app-3f9a1c.js.gz", "GZIP");
        write(dist_ / "assets" / "style-77aa.css", "body{}");
        write(dist_ / "favicon.svg", "<svg/>");
        write(dir_.path() / "secret.txt", "top secret");
        fs::create_symlink(dir_.path() / "secret.txt", dist_ / "leak.txt");
        fs::create_symlink("../../secret.txt", dist_ / "assets" / "rel-leak.txt");
        start(dist_);
    }

    void start(const fs::path& root) {
        server_.reset();
        logger_ = std::make_shared<spdlog::logger>("http",
                                                   std::make_shared<spdlog::sinks::null_sink_mt>());
        routes_ = std::make_shared<RouteTable>();
        auto no_ui = make_handler([](const plugin::HttpRequest&) {
            plugin::HttpResponse r;
            r.content_type = "text/html; charset=utf-8";
            r.body = "no UI built";
            return r;
        });
        dispatcher_ =
            std::make_shared<Dispatcher>(routes_, "127.0.0.1", std::vector<std::string>{},
                                         std::make_shared<StaticFiles>(root, no_ui), logger_);
        HttpConfig config;
        config.port = 0;
        server_ = std::make_unique<HttpServer>(config, dispatcher_, logger_);
        ASSERT_TRUE(server_->start().is_ok());
        port_ = server_->port();
    }

    runicorn::testing::TempDir dir_;
    fs::path dist_;
    std::shared_ptr<spdlog::logger> logger_;
    std::shared_ptr<RouteTable> routes_;
    std::shared_ptr<Dispatcher> dispatcher_;
    std::unique_ptr<HttpServer> server_;
    std::uint16_t port_ = 0;
};

TEST_F(StaticFilesTest, IndexWithNoCacheCspAndEtag) {
    Response r = fetch(port_, "/");
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.body, "<!doctype html><title>UI</title>");
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(r.header("cache-control"), "no-cache");
    EXPECT_THAT(r.header("content-security-policy"), HasSubstr("default-src 'self'"));
    EXPECT_THAT(r.header("etag"), ::testing::MatchesRegex("W/\"[0-9a-f]+-20\""));
    Response again = fetch(port_, "/", {{"If-None-Match", r.header("etag")}});
    EXPECT_EQ(again.status, 304U);
    EXPECT_EQ(again.body, "");
    EXPECT_EQ(fetch(port_, "/", {{"If-None-Match", "W/\"other\""}}).status, 200U);
    EXPECT_EQ(fetch(port_, "/", {{"If-Modified-Since", r.header("last-modified")}}).status, 304U);
    EXPECT_EQ(fetch(port_, "/", {{"If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"}}).status,
              200U);
}

TEST_F(StaticFilesTest, HashedAssetsAreImmutableWithMimeTypes) {
    Response js = fetch(port_, "/assets/app-3f9a1c.js");
    EXPECT_EQ(js.status, 200U);
    EXPECT_EQ(js.body, "console.log('app')");
    EXPECT_EQ(js.header("content-type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(js.header("cache-control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(js.header("vary"), "Accept-Encoding");
    EXPECT_EQ(js.header("content-encoding"), "<absent>");
    EXPECT_EQ(fetch(port_, "/assets/style-77aa.css").header("content-type"),
              "text/css; charset=utf-8");
    EXPECT_EQ(fetch(port_, "/favicon.svg").header("content-type"), "image/svg+xml");
    Response head = fetch(port_, "/assets/app-3f9a1c.js", {}, true);
    EXPECT_EQ(head.status, 200U);
    EXPECT_EQ(head.header("content-length"), "18");
}

TEST_F(StaticFilesTest, PrecompressedSiblingsPerAcceptEncoding) {
    Response br = fetch(port_, "/assets/app-3f9a1c.js", {{"Accept-Encoding", "gzip, br"}});
    EXPECT_EQ(br.body, "BROTLI");
    EXPECT_EQ(br.header("content-encoding"), "br");
    EXPECT_EQ(br.header("content-type"), "text/javascript; charset=utf-8");
    Response gz = fetch(port_, "/assets/app-3f9a1c.js", {{"Accept-Encoding", "gzip, br;q=0"}});
    EXPECT_EQ(gz.body, "GZIP");
    EXPECT_EQ(gz.header("content-encoding"), "gzip");
    EXPECT_NE(gz.header("etag"), br.header("etag"));
    Response css = fetch(port_, "/assets/style-77aa.css", {{"Accept-Encoding", "br"}});
    EXPECT_EQ(css.body, "body{}");
    EXPECT_EQ(css.header("content-encoding"), "<absent>");
}

TEST_F(StaticFilesTest, SpaFallbackOnlyForHtmlOutsideApiAndDocs) {
    Response deep = fetch(port_, "/runs/20250101_000000_abcdef", {{"Accept", "text/html"}});
    EXPECT_EQ(deep.status, 200U);
    EXPECT_EQ(deep.body, "<!doctype html><title>UI</title>");
    EXPECT_EQ(fetch(port_, "/runs/x", {{"Accept", "application/json"}}).status, 404U);
    EXPECT_EQ(fetch(port_, "/assets/missing.js", {{"Accept", "application/javascript"}}).status,
              404U);
    Response api = fetch(port_, "/api/nope", {{"Accept", "text/html"}});
    EXPECT_EQ(api.status, 404U);
    EXPECT_THAT(api.body, HasSubstr(R"("detail":"Not Found")"));
    EXPECT_EQ(fetch(port_, "/openapi.json", {{"Accept", "text/html"}}).status, 404U);
    EXPECT_EQ(fetch(port_, "/docs", {{"Accept", "text/html"}}).status, 404U);
}

TEST_F(StaticFilesTest, UnsafePathsAre403) {
    for (const char* target : {"/../secret.txt", "/%2e%2e/secret.txt",
                               "/assets/%2E%2E/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt",
                               "/a%5c..%5csecret.txt", "/C:/secret.txt", "/assets//app-3f9a1c.js",
                               "/./index.html", "/leak.txt", "/assets/rel-leak.txt", "/x%00.js"}) {
        Response r = fetch(port_, target, {{"Accept", "text/html"}});
        EXPECT_EQ(r.status, 403U) << target;
        EXPECT_THAT(r.body, HasSubstr(R"("detail":"Unsafe path")")) << target;
        EXPECT_THAT(r.body, ::testing::Not(HasSubstr("top secret"))) << target;
    }
}

TEST_F(StaticFilesTest, NoUiBuiltServesTheExplanationPage) {
    start(dir_.path() / "missing");
    Response root = fetch(port_, "/");
    EXPECT_EQ(root.status, 200U);
    EXPECT_EQ(root.body, "no UI built");
    EXPECT_EQ(fetch(port_, "/runs/x", {{"Accept", "text/html"}}).body, "no UI built");
    EXPECT_EQ(fetch(port_, "/assets/app.js", {{"Accept", "*/*;q=0.1"}}).body, "no UI built");
}

TEST(StaticFilesUnitTest, WebRootMimeAndSafePaths) {
    EXPECT_EQ(web_root("/p/http", std::nullopt), fs::path("/p/http/web"));
    EXPECT_EQ(web_root("/p/http", ""), fs::path("/p/http/web"));
    EXPECT_EQ(web_root("/p/http", "/srv/dist"), fs::path("/srv/dist"));
    EXPECT_EQ(mime_type("a.WOFF2"), "font/woff2");
    EXPECT_EQ(mime_type("noext"), "application/octet-stream");
    EXPECT_EQ(mime_type("dir.d/noext"), "application/octet-stream");
    EXPECT_EQ(safe_relative_path("/"), "index.html");
    EXPECT_EQ(safe_relative_path("/assets/a.js"), "assets/a.js");
    EXPECT_EQ(safe_relative_path("/docs/"), "docs/index.html");
    EXPECT_FALSE(safe_relative_path("/a/../b").has_value());
    EXPECT_FALSE(safe_relative_path("/a\\b").has_value());
    EXPECT_FALSE(safe_relative_path(std::string_view("/a\0b", 4)).has_value());
    EXPECT_FALSE(safe_relative_path("relative").has_value());
}

}  // namespace
}  // namespace runicorn::http_plugin
