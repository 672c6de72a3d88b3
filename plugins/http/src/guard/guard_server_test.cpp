// End-to-end tests of the security layer over real sockets (API.md §1.3, §1.4): Origin, CORS,
// token (headers, cookie, login link, auth routes), rate limit headers and 429, response headers,
// the connection cap, 408, 414 and 431.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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

#include "../dispatcher.hpp"
#include "../http_router.hpp"
#include "../http_server.hpp"
#include "../responses.hpp"
#include "../route_table.hpp"
#include "auth_routes.hpp"
#include "rate_limiter.hpp"
#include "token_auth.hpp"

namespace runicorn::http_plugin {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kToken[] = "a-token-of-sufficient-length";

struct Response {
    unsigned status = 0;
    std::string body;
    plugin::HeaderList headers;  ///< Lower-case names.

    std::string header(std::string name) const {
        return plugin::HttpRequest::find(headers, name).value_or("<absent>");
    }
    bool has(std::string name) const {
        return plugin::HttpRequest::find(headers, name).has_value();
    }
};

/// A blocking HTTP/1.1 client on one connection. Thread safety: externally synchronized.
class Client {
public:
    explicit Client(std::uint16_t port) : socket_(ioc_), port_(port) {
        socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    }

    Response send(http::verb method, std::string_view target, const plugin::HeaderList& extra = {},
                  std::string body = "") {
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
        for (const auto& [k, v] : extra) {
            if (k == "host") {
                req.set(http::field::host, v);
            } else {
                req.insert(k, v);
            }
        }
        if (!body.empty()) {
            req.set(http::field::content_type, "application/json");
            req.body() = std::move(body);
        }
        req.prepare_payload();
        beast::error_code ec;
        http::write(socket_, req, ec);
        EXPECT_FALSE(ec) << ec.message();
        return read(method == http::verb::head);
    }

    Response get(std::string_view target, const plugin::HeaderList& extra = {}) {
        return send(http::verb::get, target, extra);
    }

    Response read(bool head = false) {
        http::response_parser<http::string_body> parser;
        parser.skip(head);
        beast::error_code ec;
        http::read(socket_, buffer_, parser, ec);
        if (ec) {
            last_error_ = ec;
            return {};
        }
        auto res = parser.release();
        Response out;
        out.status = res.result_int();
        for (const auto& f : res) {
            std::string name(f.name_string());
            for (char& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            out.headers.emplace_back(std::move(name), std::string(f.value()));
        }
        out.body = std::move(res.body());
        return out;
    }

    void write_raw(std::string_view bytes) { net::write(socket_, net::buffer(bytes)); }
    beast::error_code last_error() const { return last_error_; }

private:
    net::io_context ioc_;
    tcp::socket socket_;
    beast::flat_buffer buffer_;
    std::uint16_t port_;
    beast::error_code last_error_;
};

class GuardServerTest : public ::testing::Test {
protected:
    void start(bool token_required, RateLimitSettings limits = RateLimitSettings{},
               HttpConfig config = HttpConfig{}) {
        logger_ = std::make_shared<spdlog::logger>("http",
                                                   std::make_shared<spdlog::sinks::null_sink_mt>());
        routes_ = std::make_shared<RouteTable>();
        auth_ = std::make_shared<TokenAuth>(token_required, kToken);
        ASSERT_TRUE(add_auth_routes(*routes_, auth_).is_ok());
        ASSERT_TRUE(routes_
                        ->add_route({"GET", "/api/thing", "a thing"},
                                    make_handler([](const plugin::HttpRequest&) {
                                        return json_response(200, boost::json::object{{"ok", 1}});
                                    }))
                        .is_ok());
        ASSERT_TRUE(routes_
                        ->add_route({"POST", "/api/thing", "change a thing"},
                                    make_handler([](const plugin::HttpRequest&) {
                                        return json_response(200, boost::json::object{{"ok", 2}});
                                    }))
                        .is_ok());
        GuardOptions guard;
        guard.allowed_origins = {"http://tool.lan:9000"};
        guard.auth = auth_;
        guard.rate_limiter = std::make_shared<RateLimiter>(std::move(limits));
        auto page = make_handler([](const plugin::HttpRequest&) {
            plugin::HttpResponse r;
            r.content_type = std::string(kHtmlType);
            r.body = "<p>ui</p>";
            return r;
        });
        dispatcher_ = std::make_shared<Dispatcher>(routes_, "127.0.0.1", std::vector<std::string>{},
                                                   page, logger_, std::move(guard));
        config.port = 0;
        server_ = std::make_unique<HttpServer>(config, dispatcher_, logger_);
        ASSERT_TRUE(server_->start().is_ok());
        port_ = server_->port();
    }

    void TearDown() override { server_.reset(); }

    std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

    std::shared_ptr<spdlog::logger> logger_;
    std::shared_ptr<RouteTable> routes_;
    std::shared_ptr<TokenAuth> auth_;
    std::shared_ptr<Dispatcher> dispatcher_;
    std::unique_ptr<HttpServer> server_;
    std::uint16_t port_ = 0;
};

TEST_F(GuardServerTest, SecurityHeadersOnEveryResponse) {
    start(false);
    Client c(port_);
    for (const char* target : {"/api/thing", "/api/nope", "/", "/api/auth/status"}) {
        Response r = c.get(target);
        EXPECT_EQ(r.header("x-content-type-options"), "nosniff") << target;
        EXPECT_EQ(r.header("referrer-policy"), "no-referrer") << target;
        EXPECT_EQ(r.header("x-frame-options"), "DENY") << target;
    }
    EXPECT_THAT(c.get("/").header("content-security-policy"),
                HasSubstr("default-src 'self'; img-src 'self' data: blob:"));
    EXPECT_FALSE(c.get("/api/thing").has("content-security-policy"));
}

TEST_F(GuardServerTest, OriginCheckOnWrites) {
    start(false);
    Client c(port_);
    EXPECT_EQ(c.send(http::verb::post, "/api/thing", {}, "{}").status, 200U);
    EXPECT_EQ(c.send(http::verb::post, "/api/thing", {{"Origin", "http://" + host()}}, "{}").status,
              200U);
    EXPECT_EQ(
        c.send(http::verb::post, "/api/thing", {{"Origin", "http://tool.lan:9000"}}, "{}").status,
        200U);
    for (const plugin::HeaderList& bad :
         std::vector<plugin::HeaderList>{{{"Origin", "http://evil.example"}},
                                         {{"Origin", "null"}},
                                         {{"Sec-Fetch-Site", "cross-site"}},
                                         {{"Sec-Fetch-Site", "same-site"}}}) {
        Client fresh(port_);
        Response r = fresh.send(http::verb::post, "/api/thing", bad, "{}");
        EXPECT_EQ(r.status, 403U) << bad[0].second;
        EXPECT_THAT(r.body, HasSubstr(R"("detail":"Origin not allowed")"));
    }
    // GETs are not checked, but stream requests are.
    EXPECT_EQ(c.get("/api/thing", {{"Origin", "http://evil.example"}}).status, 200U);
    EXPECT_EQ(c.get("/api/thing", {{"Origin", "null"}, {"Accept", "text/event-stream"}}).status,
              403U);
}

TEST_F(GuardServerTest, CorsOnlyForConfiguredOrigins) {
    start(false);
    Client c(port_);
    Response allowed = c.get("/api/thing", {{"Origin", "http://tool.lan:9000"}});
    EXPECT_EQ(allowed.header("access-control-allow-origin"), "http://tool.lan:9000");
    EXPECT_EQ(allowed.header("vary"), "Origin");
    Response foreign = c.get("/api/thing", {{"Origin", "http://evil.example"}});
    EXPECT_FALSE(foreign.has("access-control-allow-origin"));
    Response preflight =
        c.send(http::verb::options, "/api/thing",
               {{"Origin", "http://tool.lan:9000"}, {"Access-Control-Request-Method", "POST"}});
    EXPECT_EQ(preflight.status, 204U);
    EXPECT_EQ(preflight.header("access-control-allow-origin"), "http://tool.lan:9000");
    EXPECT_THAT(preflight.header("access-control-allow-methods"), HasSubstr("POST"));
    EXPECT_THAT(preflight.header("allow"), HasSubstr("POST"));
    Response foreign_preflight =
        c.send(http::verb::options, "/api/thing",
               {{"Origin", "http://evil.example"}, {"Access-Control-Request-Method", "POST"}});
    EXPECT_EQ(foreign_preflight.status, 204U);
    for (const auto& [name, value] : foreign_preflight.headers) {
        EXPECT_THAT(name, ::testing::Not(StartsWith("access-control-allow"))) << value;
    }
}

TEST_F(GuardServerTest, NoTokenNeededOnPlainLoopback) {
    start(false);
    Client c(port_);
    EXPECT_EQ(c.get("/api/thing").status, 200U);
    Response status = c.get("/api/auth/status");
    EXPECT_EQ(status.body, R"({"auth_required":false,"authenticated":true})");
    Response codes = c.send(http::verb::post, "/api/auth/login-codes");
    EXPECT_EQ(codes.body, R"({"url":"http://)" + host() + R"(/","expires_at":null})");
}

TEST_F(GuardServerTest, TokenRequiredOnApiNotOnStatusOrUi) {
    start(true);
    Client c(port_);
    Response missing = c.get("/api/thing");
    EXPECT_EQ(missing.status, 401U);
    EXPECT_THAT(missing.body, HasSubstr(R"("detail":"Authentication required")"));
    EXPECT_EQ(missing.header("www-authenticate"), "Bearer");
    EXPECT_EQ(c.get("/api/thing", {{"Authorization", "Bearer wrong-token-wrong-token"}}).status,
              401U);
    EXPECT_EQ(c.get("/api/nope").status, 401U);  // unknown API paths reveal nothing either
    EXPECT_EQ(c.get("/openapi.json").status, 401U);
    EXPECT_EQ(c.get("/api/thing", {{"Authorization", std::string("Bearer ") + kToken}}).status,
              200U);
    EXPECT_EQ(c.get("/api/thing", {{"X-Runicorn-Token", kToken}}).status, 200U);
    EXPECT_EQ(c.get("/api/auth/status").body, R"({"auth_required":true,"authenticated":false})");
    EXPECT_EQ(c.get("/api/auth/status", {{"X-Runicorn-Token", kToken}}).body,
              R"({"auth_required":true,"authenticated":true})");
    EXPECT_EQ(c.get("/").status, 200U);  // the UI shell shows the login page
    EXPECT_EQ(c.send(http::verb::post, "/api/auth/logout").status, 401U);
}

TEST_F(GuardServerTest, LoginLinkSetsSessionCookieOnce) {
    start(true);
    Client c(port_);
    Response minted =
        c.send(http::verb::post, "/api/auth/login-codes", {{"X-Runicorn-Token", kToken}});
    ASSERT_EQ(minted.status, 200U);
    const std::string prefix = R"({"url":"http://)" + host() + "/?login=";
    ASSERT_THAT(minted.body, StartsWith(prefix));
    const std::string code = minted.body.substr(prefix.size(), 22);
    EXPECT_THAT(minted.body, HasSubstr(R"(","expires_at":)"));

    Response login = c.get("/runs/abc?login=" + code + "&x=1");
    EXPECT_EQ(login.status, 303U);
    EXPECT_EQ(login.header("location"), "/runs/abc?x=1");
    const std::string set_cookie = login.header("set-cookie");
    const std::string name = "runicorn_session_" + std::to_string(port_) + "=";
    ASSERT_THAT(set_cookie, StartsWith(name));
    EXPECT_THAT(set_cookie, HasSubstr("; HttpOnly; SameSite=Strict; Path=/"));
    const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));

    EXPECT_EQ(c.get("/api/thing", {{"Cookie", cookie}}).status, 200U);
    EXPECT_EQ(c.get("/api/auth/status", {{"Cookie", cookie}}).body,
              R"({"auth_required":true,"authenticated":true})");
    // Single use.
    EXPECT_EQ(c.get("/?login=" + code).status, 401U);
    // Logout closes the session and expires the cookie.
    Response out = c.send(http::verb::post, "/api/auth/logout", {{"Cookie", cookie}});
    EXPECT_EQ(out.status, 200U);
    EXPECT_EQ(out.body, R"({"ok":true})");
    EXPECT_THAT(out.header("set-cookie"), HasSubstr("Max-Age=0"));
    EXPECT_EQ(c.get("/api/thing", {{"Cookie", cookie}}).status, 401U);
    // ?token= works like a login link.
    Response by_token = c.get(std::string("/?token=") + kToken);
    EXPECT_EQ(by_token.status, 303U);
    EXPECT_EQ(by_token.header("location"), "/");
    EXPECT_EQ(c.get("/?token=wrong").status, 401U);
}

TEST_F(GuardServerTest, RateLimitHeadersAnd429KeyedOnSocketPeer) {
    RateLimitSettings limits;
    limits.default_rule = RateRule{3, 60, 0};
    start(false, limits);
    Client c(port_);
    Response first = c.get("/api/thing");
    EXPECT_EQ(first.header("x-ratelimit-limit"), "3");
    EXPECT_EQ(first.header("x-ratelimit-remaining"), "2");
    EXPECT_TRUE(first.has("x-ratelimit-reset"));
    EXPECT_FALSE(c.get("/").has("x-ratelimit-limit"));  // only /api
    EXPECT_EQ(c.get("/api/thing", {{"X-Forwarded-For", "1.2.3.4"}}).status, 200U);
    EXPECT_EQ(c.get("/api/nope").status, 404U);
    Response limited = c.get("/api/thing", {{"X-Forwarded-For", "5.6.7.8"}});
    EXPECT_EQ(limited.status, 429U);
    EXPECT_THAT(
        limited.body,
        StartsWith(R"({"detail":"Rate limit exceeded","code":"RATE_LIMITED","retry_after":)"));
    EXPECT_NE(limited.header("retry-after"), "<absent>");
    EXPECT_EQ(limited.header("x-ratelimit-remaining"), "0");
    // OPTIONS is exempt.
    EXPECT_EQ(c.send(http::verb::options, "/api/thing").status, 204U);
}

TEST_F(GuardServerTest, LongRequestLineIs414AndLargeHeaderBlockIs431) {
    start(false);
    {
        Client c(port_);
        Response r = c.get("/api/thing?q=" + std::string(9000, 'a'));
        EXPECT_EQ(r.status, 414U);
        EXPECT_THAT(r.body, HasSubstr(R"("detail":"Request line too long")"));
    }
    {
        Client c(port_);
        Response r = c.get("/api/thing?q=" + std::string(20000, 'a'));
        EXPECT_EQ(r.status, 414U);
    }
    {
        Client c(port_);
        Response r = c.get("/api/thing", {{"X-Big", std::string(8500, 'b')}});
        EXPECT_EQ(r.status, 431U);
    }
    {
        Client c(port_);
        plugin::HeaderList many;
        for (int i = 0; i < 101; ++i) {
            many.emplace_back("X-H" + std::to_string(i), "v");
        }
        EXPECT_EQ(c.get("/api/thing", many).status, 431U);
    }
    Client ok(port_);
    EXPECT_EQ(ok.get("/api/thing?q=" + std::string(7000, 'a')).status, 200U);
}

TEST_F(GuardServerTest, HeaderAndBodyDeadlinesGive408) {
    HttpConfig config;
    config.header_timeout = std::chrono::milliseconds(300);
    config.body_timeout = std::chrono::milliseconds(300);
    start(false, RateLimitSettings{}, config);
    Client partial(port_);
    partial.write_raw("GET /api/thing HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    Response r = partial.read();
    EXPECT_EQ(r.status, 408U);
    EXPECT_THAT(r.body, HasSubstr(R"("detail":"Request timeout")"));
    Client body(port_);
    body.write_raw(
        "POST /api/thing HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 10\r\n\r\n{\"a\"");
    EXPECT_EQ(body.read().status, 408U);
    // A connection that sent nothing is closed without a response.
    Client idle(port_);
    Response none = idle.read();
    EXPECT_EQ(none.status, 0U);
    EXPECT_EQ(idle.last_error(), http::error::end_of_stream);
}

TEST_F(GuardServerTest, ConnectionCapEvictsIdleThenRefusesWith503) {
    HttpConfig config;
    config.max_connections = 2;
    start(false, RateLimitSettings{}, config);
    Client a(port_);
    Client b(port_);
    a.write_raw("GET /api/thing HTTP/1.1\r\nHost: 127.0.0.1\r\n");  // header unfinished
    EXPECT_EQ(b.get("/api/thing").status, 200U);
    // At the cap: the oldest connection still sending its header (a) makes room for c.
    Client c(port_);
    EXPECT_EQ(c.get("/api/thing").status, 200U);
    Response evicted = a.read();
    EXPECT_EQ(evicted.status, 0U);
    // Now b and c are idle keep-alive connections waiting for a header: d evicts b.
    Client d(port_);
    EXPECT_EQ(d.get("/api/thing").status, 200U);
}

TEST_F(GuardServerTest, BusyConnectionsAreNotEvictedAndExtraOnesGet503) {
    HttpConfig config;
    config.max_connections = 1;
    start(false, RateLimitSettings{}, config);
    std::atomic<bool> entered{false};
    std::atomic<bool> release{false};
    ASSERT_TRUE(
        routes_
            ->add_route({"GET", "/api/slow", "slow"}, make_handler([&](const plugin::HttpRequest&) {
                            entered = true;
                            while (!release.load()) {
                                std::this_thread::sleep_for(std::chrono::milliseconds(2));
                            }
                            return json_response(200, boost::json::object{});
                        }))
            .is_ok());
    Client busy(port_);
    busy.write_raw("GET /api/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    while (!entered.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    Client refused(port_);
    Response r = refused.get("/api/thing");
    EXPECT_EQ(r.status, 503U);
    EXPECT_THAT(r.body, HasSubstr(R"("detail":"Too many connections")"));
    release = true;
    EXPECT_EQ(busy.read().status, 200U);
}

}  // namespace
}  // namespace runicorn::http_plugin
