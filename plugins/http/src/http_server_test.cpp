#include "http_server.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "builtin_routes.hpp"
#include "dispatcher.hpp"
#include "http_router.hpp"
#include "responses.hpp"
#include "route_table.hpp"

namespace runicorn::http_plugin {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kStorage[] = "/tmp/runicorn store";

/// Records every log message (level and text). Thread safety: safe for concurrent use.
class RecordingSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    std::vector<std::string> messages() {
        const std::lock_guard lock(mutex_);
        return messages_;
    }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        messages_.push_back(std::string(spdlog::level::to_string_view(msg.level).data()) + ": " +
                            std::string(msg.payload.data(), msg.payload.size()));
    }
    void flush_() override {}

private:
    std::vector<std::string> messages_;
};

class FakeKernelInfo final : public plugin::KernelInfo {
public:
    std::string version() const override { return "9.8.7"; }
    std::string abi_version() const override { return "1.0"; }
    std::vector<plugin::PluginReport> plugins() const override {
        plugin::PluginReport http;
        http.id = "http";
        http.version = "0.1.0";
        http.abi_version = "1.0";
        http.path = "/opt/runicorn/plugins/http/libhttp.so";
        http.state = "loaded";
        http.provides = {"runicorn.http_routes/1"};
        plugin::PluginReport broken;
        broken.id = "broken";
        broken.version = "2.0.0";
        broken.abi_version = "2.0";
        broken.path = "/opt/runicorn/plugins/broken/libbroken.so";
        broken.state = "refused";
        broken.requires_services = {"runicorn.run_store/1"};
        broken.error = "ABI <2.0> is newer than the kernel's 1.0";
        return {http, broken};
    }
};

struct Response {
    unsigned status = 0;
    std::string body;
    plugin::HeaderList headers;  ///< Lower-case names.
    bool keep_alive = false;

    std::string header(std::string_view name) const {
        std::string lower(name);
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return plugin::HttpRequest::find(headers, lower).value_or("<absent>");
    }
    std::string header(http::field field) const { return header(http::to_string(field)); }
};

/// A blocking HTTP/1.1 client on one connection. Thread safety: externally synchronized.
class Client {
public:
    explicit Client(std::uint16_t port) : socket_(ioc_), port_(port) {
        socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    }

    /// Sends one request; fills `ec` instead of throwing when the server closes the connection.
    Response send(http::verb method, std::string_view target, beast::error_code& ec,
                  const std::string& host = "", std::string body = "",
                  const std::vector<std::pair<std::string, std::string>>& extra = {}) {
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, host.empty() ? "127.0.0.1:" + std::to_string(port_) : host);
        for (const auto& [k, v] : extra) {
            req.set(k, v);
        }
        if (!body.empty()) {
            req.set(http::field::content_type, "application/json");
            req.body() = std::move(body);
        }
        req.prepare_payload();
        http::write(socket_, req, ec);
        if (ec) {
            return {};
        }
        return read_response(method == http::verb::head, ec);
    }

    /// Reads the next final response (interim 1xx responses are skipped).
    Response read_response(bool head, beast::error_code& ec) {
        while (true) {
            http::response_parser<http::string_body> parser;
            parser.body_limit(std::uint64_t{16} * 1024 * 1024);
            parser.skip(head);
            http::read(socket_, buffer_, parser, ec);
            if (ec) {
                return {};
            }
            auto res = parser.release();
            if (res.result_int() < 200) {
                continue;
            }
            Response out;
            out.status = res.result_int();
            out.keep_alive = res.keep_alive();
            for (const auto& f : res) {
                std::string name(f.name_string());
                std::transform(name.begin(), name.end(), name.begin(),
                               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
                out.headers.emplace_back(std::move(name), std::string(f.value()));
            }
            out.body = std::move(res.body());
            return out;
        }
    }

    Response send(http::verb method, std::string_view target, const std::string& host = "",
                  std::string body = "") {
        beast::error_code ec;
        Response r = send(method, target, ec, host, std::move(body));
        EXPECT_FALSE(ec) << ec.message();
        return r;
    }

    Response get(std::string_view target) { return send(http::verb::get, target); }

    /// Reads until the server closes the connection; returns the error that ended the read.
    beast::error_code wait_for_close() {
        beast::error_code ec;
        http::response<http::string_body> res;
        http::read(socket_, buffer_, res, ec);
        return ec;
    }

    void write_raw(std::string_view bytes) { net::write(socket_, net::buffer(bytes)); }

private:
    net::io_context ioc_;
    tcp::socket socket_;
    beast::flat_buffer buffer_;
    std::uint16_t port_;
};

plugin::HttpResponse text(std::string body) {
    plugin::HttpResponse r;
    r.content_type = "text/plain";
    r.body = std::move(body);
    return r;
}

class HttpServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        sink_ = std::make_shared<RecordingSink>();
        logger_ = std::make_shared<spdlog::logger>("http", sink_);
        logger_->set_level(spdlog::level::debug);
        routes_ = std::make_shared<RouteTable>();
        const BuiltinContext builtin{std::make_shared<FakeKernelInfo>(), kStorage};
        ASSERT_TRUE(add_builtin_routes(*routes_, builtin).is_ok());
        ASSERT_TRUE(
            routes_
                ->add_route({"GET", "/api/boom", "throws", false},
                            make_handler([](const plugin::HttpRequest&) -> plugin::HttpResponse {
                                throw std::runtime_error("boom");
                            }))
                .is_ok());
        ASSERT_TRUE(
            routes_
                ->add_route({"GET", "/api/boom-int", "throws an int", false},
                            make_handler([](const plugin::HttpRequest&) -> plugin::HttpResponse {
                                throw 42;
                            }))
                .is_ok());
        ASSERT_TRUE(routes_
                        ->add_route({"GET", "/api/echo/:name", "echo", false},
                                    make_handler([](const plugin::HttpRequest& r) {
                                        boost::json::object o;
                                        o["name"] = r.param("name").value_or("?");
                                        o["path"] = r.path;
                                        o["q"] = r.query_value("q").value_or("?");
                                        o["target"] = r.target;
                                        o["peer"] = r.peer_address;
                                        o["ua"] = r.header("user-agent").value_or("?");
                                        return json_response(200, o);
                                    }))
                        .is_ok());
        ASSERT_TRUE(routes_
                        ->add_route({"POST", "/api/echo", "echo body", false},
                                    make_handler([](const plugin::HttpRequest& r) {
                                        return text("got " + std::to_string(r.body.size()) +
                                                    " bytes: " + r.body.substr(0, 20));
                                    }))
                        .is_ok());
        dispatcher_ = std::make_shared<Dispatcher>(routes_, "127.0.0.1",
                                                   std::vector<std::string>{"mybox.lan"},
                                                   make_ui_placeholder(builtin), logger_);
        HttpConfig config;
        config.port = 0;
        server_ = std::make_unique<HttpServer>(config, dispatcher_, logger_);
        ASSERT_TRUE(server_->start().is_ok());
        port_ = server_->port();
        ASSERT_NE(port_, 0);
    }

    void TearDown() override {
        server_.reset();
        // Every test leaves only idle or closed connections, which stop() closes at once.
        for (const std::string& m : sink_->messages()) {
            EXPECT_THAT(m, Not(HasSubstr("still open after 10 s")));
            EXPECT_THAT(m, Not(HasSubstr("not received in time")));
        }
    }

    bool logged(std::string_view needle) {
        for (const std::string& m : sink_->messages()) {
            if (m == needle) {
                return true;
            }
        }
        return false;
    }

    std::shared_ptr<RecordingSink> sink_;
    std::shared_ptr<spdlog::logger> logger_;
    std::shared_ptr<RouteTable> routes_;
    std::shared_ptr<Dispatcher> dispatcher_;
    std::unique_ptr<HttpServer> server_;
    std::uint16_t port_ = 0;
};

TEST_F(HttpServerTest, LogsListeningAndPublishesBaseUrl) {
    const std::string url = "http://127.0.0.1:" + std::to_string(port_);
    EXPECT_EQ(server_->base_url(), url);
    EXPECT_TRUE(logged("info: listening on " + url));
}

TEST_F(HttpServerTest, HealthReturnsJson) {
    Client client(port_);
    Response r = client.get("/api/health");
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.header(http::field::content_type), "application/json");
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r.header(http::field::cache_control), "no-store");
    EXPECT_EQ(r.body, R"({"status":"ok","storage":"/tmp/runicorn store","version":"9.8.7",)"
                      R"("compat_version":"0.6.0","implementation":"runicorn-cpp"})");
}

TEST_F(HttpServerTest, HealthEchoesDecodedNonce) {
    Client client(port_);
    Response r = client.get("/api/health?nonce=a%20b+c%2B");
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.body,
              R"({"status":"ok","storage":"/tmp/runicorn store","version":"9.8.7",)"
              R"("compat_version":"0.6.0","implementation":"runicorn-cpp","nonce":"a b c+"})");
}

TEST_F(HttpServerTest, PluginsListsKernelReports) {
    Client client(port_);
    Response r = client.get("/api/plugins");
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.body, R"({"plugins":[)"
                      R"({"id":"http","version":"0.1.0","abi_version":"1.0",)"
                      R"("path":"/opt/runicorn/plugins/http/libhttp.so","state":"loaded",)"
                      R"("provides":["runicorn.http_routes/1"],"requires":[],"error":null},)"
                      R"({"id":"broken","version":"2.0.0","abi_version":"2.0",)"
                      R"("path":"/opt/runicorn/plugins/broken/libbroken.so","state":"refused",)"
                      R"("provides":[],"requires":["runicorn.run_store/1"],)"
                      R"("error":"ABI <2.0> is newer than the kernel's 1.0"}],)"
                      R"("kernel":{"version":"9.8.7","abi_version":"1.0"}})");
}

TEST_F(HttpServerTest, PluginByIdAndUnknownPlugin) {
    Client client(port_);
    Response http_plugin = client.get("/api/plugins/http");
    EXPECT_EQ(http_plugin.status, 200U);
    EXPECT_EQ(http_plugin.body,
              R"({"id":"http","version":"0.1.0","abi_version":"1.0",)"
              R"("path":"/opt/runicorn/plugins/http/libhttp.so","state":"loaded",)"
              R"("provides":["runicorn.http_routes/1"],"requires":[],"error":null})");
    Response missing = client.get("/api/plugins/nope%22x");
    EXPECT_EQ(missing.status, 404U);
    EXPECT_EQ(missing.body, R"({"detail":"Plugin 'nope\"x' not found","code":"NOT_FOUND"})");
}

TEST_F(HttpServerTest, UnknownApiPathIs404Json) {
    Client client(port_);
    Response r = client.get("/api/nope");
    EXPECT_EQ(r.status, 404U);
    EXPECT_EQ(r.header(http::field::content_type), "application/json");
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r.body, R"({"detail":"Not Found","code":"NOT_FOUND"})");
    Response api = client.get("/api");
    EXPECT_EQ(api.status, 404U);
    EXPECT_EQ(api.body, R"({"detail":"Not Found","code":"NOT_FOUND"})");
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllow) {
    Client client(port_);
    Response r = client.send(http::verb::post, "/api/health", "", "{}");
    EXPECT_EQ(r.status, 405U);
    EXPECT_EQ(r.header(http::field::allow), "GET, HEAD");
    EXPECT_EQ(r.body, R"({"detail":"Method Not Allowed","code":"METHOD_NOT_ALLOWED"})");
    Response del = client.send(http::verb::delete_, "/api/echo");
    EXPECT_EQ(del.status, 405U);
    EXPECT_EQ(del.header(http::field::allow), "POST");
}

TEST_F(HttpServerTest, HeadOnGetRouteSendsHeadersOnly) {
    Client client(port_);
    Response get = client.get("/api/health");
    Response head = client.send(http::verb::head, "/api/health");
    EXPECT_EQ(head.status, 200U);
    EXPECT_EQ(head.body, "");
    EXPECT_EQ(head.header(http::field::content_length), std::to_string(get.body.size()));
    EXPECT_EQ(head.header(http::field::content_type), "application/json");
    // The connection is still in step after a HEAD response.
    EXPECT_EQ(client.get("/api/nope").body, R"({"detail":"Not Found","code":"NOT_FOUND"})");
}

TEST_F(HttpServerTest, PathAndQueryArePercentDecoded) {
    Client client(port_);
    Response r = client.get("/api/echo/a%2Fb%20%C3%A9?q=x+y%26z");
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.body,
              "{\"name\":\"a/b \xC3\xA9\",\"path\":\"/api/echo/a/b \xC3\xA9\",\"q\":\"x y&z\","
              "\"target\":\"/api/echo/a%2Fb%20%C3%A9?q=x+y%26z\",\"peer\":\"127.0.0.1\","
              "\"ua\":\"?\"}");
}

TEST_F(HttpServerTest, MalformedTargetIs400) {
    Client client(port_);
    Response r = client.get("/api/echo/%zz");
    EXPECT_EQ(r.status, 400U);
    EXPECT_EQ(r.body, R"({"detail":"Malformed request target","code":"BAD_REQUEST"})");
}

TEST_F(HttpServerTest, PostBodyReachesHandler) {
    Client client(port_);
    Response r = client.send(http::verb::post, "/api/echo", "", R"({"hello":"world"})");
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.header(http::field::content_type), "text/plain");
    EXPECT_EQ(r.body, R"(got 17 bytes: {"hello":"world"})");
}

TEST_F(HttpServerTest, BodyOverLimitIs413) {
    Client client(port_);
    beast::error_code ec;
    Response r = client.send(http::verb::post, "/api/echo", ec, "",
                             std::string(std::size_t{1024} * 1024 + 1, 'x'));
    // The server refuses on Content-Length and closes; the client may see the 413 or a reset.
    if (!ec) {
        EXPECT_EQ(r.status, 413U);
        EXPECT_EQ(r.body, R"({"detail":"Request body too large","code":"PAYLOAD_TOO_LARGE"})");
        EXPECT_FALSE(r.keep_alive);
    }
    Client again(port_);
    EXPECT_EQ(again.get("/api/health").status, 200U);
}

TEST_F(HttpServerTest, ExpectContinueGetsBodyRead) {
    Client client(port_);
    beast::error_code ec;
    Response r = client.send(http::verb::post, "/api/echo", ec, "", std::string(5000, 'y'),
                             {{"Expect", "100-continue"}});
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.body, "got 5000 bytes: yyyyyyyyyyyyyyyyyyyy");
}

TEST_F(HttpServerTest, BadHostIs403) {
    Client client(port_);
    Response r = client.send(http::verb::get, "/api/health", "evil.example");
    EXPECT_EQ(r.status, 403U);
    EXPECT_EQ(r.body, R"({"detail":"Host not allowed","code":"HOST_NOT_ALLOWED"})");
    Response with_port = client.send(http::verb::get, "/", "evil.example:23300");
    EXPECT_EQ(with_port.status, 403U);
    EXPECT_EQ(with_port.body, R"({"detail":"Host not allowed","code":"HOST_NOT_ALLOWED"})");
    Response wildcard = client.send(http::verb::get, "/api/health", "0.0.0.0:23300");
    EXPECT_EQ(wildcard.status, 403U);
    EXPECT_EQ(wildcard.body, R"({"detail":"Host not allowed","code":"HOST_NOT_ALLOWED"})");
}

TEST_F(HttpServerTest, AllowedHostsPass) {
    Client client(port_);
    for (const char* host : {"localhost", "LOCALHOST:1234", "127.0.0.1", "[::1]", "[::1]:80",
                             "mybox.lan", "MyBox.LAN:8443"}) {
        Response r = client.send(http::verb::get, "/api/health", host);
        EXPECT_EQ(r.status, 200U) << host;
    }
}

TEST_F(HttpServerTest, MissingOrRepeatedHostIs400) {
    Client missing(port_);
    missing.write_raw("GET /api/health HTTP/1.1\r\n\r\n");
    beast::error_code ec;
    Response r = missing.read_response(false, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(r.status, 400U);
    EXPECT_EQ(r.body, R"({"detail":"Missing Host header","code":"BAD_REQUEST"})");

    Client repeated(port_);
    repeated.write_raw("GET /api/health HTTP/1.1\r\nHost: localhost\r\nHost: evil\r\n\r\n");
    r = repeated.read_response(false, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(r.status, 400U);
    EXPECT_EQ(r.body, R"({"detail":"Repeated Host header","code":"BAD_REQUEST"})");
}

TEST_F(HttpServerTest, ThrowingHandlerIs500WithRequestId) {
    Client client(port_);
    Response r = client.get("/api/boom");
    EXPECT_EQ(r.status, 500U);
    const std::string prefix = R"({"detail":"Internal Server Error (request id )";
    ASSERT_EQ(r.body.substr(0, prefix.size()), prefix);
    const std::string id = r.body.substr(prefix.size(), 16);
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    EXPECT_EQ(r.body, prefix + id + R"lit()","code":"INTERNAL"})lit");
    EXPECT_TRUE(logged("error: request " + id + ": GET /api/boom: handler threw: boom"));
    // The connection survives a failed handler.
    EXPECT_EQ(client.get("/api/health").status, 200U);
}

TEST_F(HttpServerTest, NonStandardExceptionIs500) {
    Client client(port_);
    Response r = client.get("/api/boom-int");
    EXPECT_EQ(r.status, 500U);
    const std::string prefix = R"({"detail":"Internal Server Error (request id )";
    ASSERT_EQ(r.body.substr(0, prefix.size()), prefix);
    const std::string id = r.body.substr(prefix.size(), 16);
    EXPECT_TRUE(logged("error: request " + id +
                       ": GET /api/boom-int: handler threw a non-standard "
                       "exception"));
}

TEST_F(HttpServerTest, OversizedHeaderIs431OrClosed) {
    Client client(port_);
    beast::error_code ec;
    Response r = client.send(http::verb::get, "/api/health", ec, "", "",
                             {{"X-Big", std::string(std::size_t{10} * 1024, 'a')}});
    if (!ec) {
        EXPECT_EQ(r.status, 431U);
        EXPECT_EQ(r.body,
                  R"({"detail":"Request header fields too large","code":"HEADERS_TOO_LARGE"})");
        EXPECT_FALSE(r.keep_alive);
    }
    // The server is unharmed.
    Client again(port_);
    EXPECT_EQ(again.get("/api/health").status, 200U);
}

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
    Client client(port_);
    Response first = client.get("/api/health");
    EXPECT_EQ(first.status, 200U);
    EXPECT_TRUE(first.keep_alive);
    Response second = client.get("/api/plugins/http");
    EXPECT_EQ(second.status, 200U);
    EXPECT_TRUE(second.keep_alive);
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
    Client client(port_);
    beast::error_code ec;
    Response r = client.send(http::verb::get, "/api/health", ec, "", "", {{"Connection", "close"}});
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(r.status, 200U);
    EXPECT_FALSE(r.keep_alive);
    EXPECT_EQ(client.wait_for_close(), http::error::end_of_stream);
}

TEST_F(HttpServerTest, RootServesPlaceholderPage) {
    Client client(port_);
    Response r = client.get("/");
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.header(http::field::content_type), "text/html; charset=utf-8");
    EXPECT_EQ(r.header(http::field::cache_control), "no-cache");
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
    EXPECT_THAT(r.header("Content-Security-Policy"), HasSubstr("default-src 'self'"));
    EXPECT_THAT(r.body, HasSubstr("<title>Runicorn</title>"));
    EXPECT_THAT(r.body, HasSubstr("The viewer is running."));
    EXPECT_THAT(r.body, HasSubstr("<dt>Version</dt><dd>9.8.7</dd>"));
    EXPECT_THAT(r.body, HasSubstr("<dt>Storage root</dt><dd><code>/tmp/runicorn store</code>"));
    EXPECT_THAT(r.body, HasSubstr("<tr><td><code>http</code></td><td>0.1.0</td>"
                                  "<td class=\"state-loaded\">loaded</td></tr>"));
    EXPECT_THAT(r.body, HasSubstr("<td class=\"state-refused\">refused<div class=\"error\">"
                                  "ABI &lt;2.0&gt; is newer than the kernel&#39;s 1.0</div>"));
    EXPECT_THAT(r.body, HasSubstr("The web UI is not built yet."));
    // Self-contained: nothing is fetched from elsewhere.
    EXPECT_THAT(r.body, Not(HasSubstr("http://")));
    EXPECT_THAT(r.body, Not(HasSubstr("https://")));
    EXPECT_THAT(r.body, Not(HasSubstr("<script")));
    EXPECT_THAT(r.body, Not(HasSubstr("<link")));
}

TEST_F(HttpServerTest, NonApiPathsServeThePageAndHeadHasLength) {
    Client client(port_);
    Response root = client.get("/");
    Response deep = client.get("/runs/20250101_000000_abcdef");
    EXPECT_EQ(deep.status, 200U);
    EXPECT_EQ(deep.body, root.body);
    Response head = client.send(http::verb::head, "/runs/x");
    EXPECT_EQ(head.status, 200U);
    EXPECT_EQ(head.body, "");
    EXPECT_EQ(head.header(http::field::content_length), std::to_string(root.body.size()));
    Response post = client.send(http::verb::post, "/", "", "{}");
    EXPECT_EQ(post.status, 405U);
    EXPECT_EQ(post.header(http::field::allow), "GET, HEAD");
    EXPECT_EQ(post.body, R"({"detail":"Method Not Allowed","code":"METHOD_NOT_ALLOWED"})");
}

TEST_F(HttpServerTest, RoutesAddedWhileRunningAreServed) {
    ASSERT_TRUE(
        routes_
            ->add_route({"GET", "/api/late", "late", false},
                        make_handler([](const plugin::HttpRequest&) { return text("late"); }))
            .is_ok());
    Client client(port_);
    EXPECT_EQ(client.get("/api/late").body, "late");
}

TEST_F(HttpServerTest, SecondServerOnSamePortFailsToStart) {
    HttpConfig config;
    config.port = port_;
    HttpServer second(config, dispatcher_, logger_);
    EXPECT_EQ(second.start(),
              Status::unavailable("cannot listen on 127.0.0.1:" + std::to_string(port_) +
                                  ": Address already in use"));
    EXPECT_EQ(second.base_url(), "");
    second.stop();
}

TEST_F(HttpServerTest, StartTwiceIsRefused) {
    EXPECT_EQ(server_->start(),
              Status::failed_precondition("the HTTP server has already been started"));
}

TEST_F(HttpServerTest, StopClosesIdleKeepAliveConnectionsPromptly) {
    Client idle(port_);
    EXPECT_EQ(idle.get("/api/health").status, 200U);  // now idle, kept alive
    Client silent(port_);                             // connected, never sends a byte
    Client partial(port_);
    partial.write_raw("GET /api/health HTTP/1.1\r\nHost: loc");  // header half sent
    // Make sure the server has accepted all three before stopping.
    EXPECT_EQ(Client(port_).get("/api/health").status, 200U);

    server_->stop();

    EXPECT_EQ(idle.wait_for_close(), http::error::end_of_stream);
    EXPECT_EQ(silent.wait_for_close(), http::error::end_of_stream);
    // Unread bytes at close make the kernel answer with a reset instead of a FIN.
    const beast::error_code partial_end = partial.wait_for_close();
    EXPECT_TRUE(partial_end == http::error::end_of_stream ||
                partial_end == net::error::connection_reset)
        << partial_end.message();
    EXPECT_EQ(server_->base_url(), "");
    EXPECT_EQ(server_->port(), 0);
    for (const std::string& m : sink_->messages()) {
        EXPECT_THAT(m, Not(HasSubstr("still open after 10 s")));
        EXPECT_THAT(m, Not(HasSubstr("not received in time")));
    }
    server_->stop();  // idempotent
}

}  // namespace
}  // namespace runicorn::http_plugin
