// Soak and abuse tests over real sockets (API.md §1.3, §3): a thousand concurrent connections,
// the total connection cap, slowloris header trickles, clients vanishing in the middle of a log
// WebSocket, a metric WebSocket and an SSE stream, and runs deleted while their streams are open.
// Each test ends by checking that the server still serves. No timing assertions: deadlines in the
// server are shortened instead, and waits are generous upper bounds.

#include <array>
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "dispatcher.hpp"
#include "folder_run_store.hpp"
#include "http_router.hpp"
#include "http_server.hpp"
#include "live/live_routes.hpp"
#include "responses.hpp"
#include "route_table.hpp"
#include "series_service.hpp"
#include "storage_test_util.hpp"
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

namespace runicorn::http_plugin {
namespace {

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;
using ::testing::AnyOf;
using ::testing::Eq;
using ::testing::HasSubstr;

constexpr auto kWait = std::chrono::seconds(30);  // an upper bound, never an assertion

tcp::endpoint loopback(std::uint16_t port) { return {net::ip::make_address("127.0.0.1"), port}; }

/// Blocking reads on `s` give up after kWait (a hang becomes a failure, not a stuck test).
void recv_timeout(tcp::socket& s) {
    timeval tv{};
    tv.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(kWait).count();
    (void)::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/// A connected socket with recv_timeout().
std::unique_ptr<tcp::socket> connect_to(net::io_context& ioc, std::uint16_t port) {
    auto s = std::make_unique<tcp::socket>(ioc);
    s->connect(loopback(port));
    recv_timeout(*s);
    return s;
}

void append_lines(const fs::path& file, std::size_t n) {
    std::ofstream out(file, std::ios::app);
    for (std::size_t i = 0; i < n; ++i) {
        out << "appended " << i << "\n";
    }
}

/// Reads one HTTP response from `socket` (blocking); status 0 when the connection closed first.
unsigned read_status(tcp::socket& socket, std::string* body = nullptr) {
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    beast::error_code ec;
    http::read(socket, buffer, res, ec);
    if (ec) {
        return 0;
    }
    if (body != nullptr) {
        *body = res.body();
    }
    return res.result_int();
}

std::string get_request(std::uint16_t port, std::string_view target, bool close = false) {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
           (close ? "\r\nConnection: close" : "") + "\r\n\r\n";
}

/// One request on a fresh connection.
unsigned fetch(std::uint16_t port, std::string_view target, std::string* body = nullptr) {
    net::io_context ioc;
    auto socket = connect_to(ioc, port);
    net::write(*socket, net::buffer(get_request(port, target, true)));
    return read_status(*socket, body);
}

/// Polls `done` every 10 ms for up to kWait; returns its last value.
template <typename F>
bool eventually(F done) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

/// Raises the soft RLIMIT_NOFILE to `want` (or the hard limit); returns the soft limit now.
rlim_t raise_nofile(rlim_t want) {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
        return 0;
    }
    if (lim.rlim_cur < want) {
        lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? want : std::min(want, lim.rlim_max);
        (void)::setrlimit(RLIMIT_NOFILE, &lim);
        (void)::getrlimit(RLIMIT_NOFILE, &lim);
    }
    return lim.rlim_cur;
}

/// Opens a WebSocket and reads its first frame; nullptr when the upgrade failed.
std::unique_ptr<websocket::stream<beast::tcp_stream>> open_ws(net::io_context& ioc,
                                                              std::uint16_t port,
                                                              const std::string& target) {
    auto ws = std::make_unique<websocket::stream<beast::tcp_stream>>(ioc);
    beast::get_lowest_layer(*ws).connect(loopback(port));
    recv_timeout(beast::get_lowest_layer(*ws).socket());
    beast::error_code ec;
    ws->handshake("127.0.0.1:" + std::to_string(port), target, ec);
    if (ec) {
        return nullptr;
    }
    beast::flat_buffer b;
    ws->read(b, ec);
    return ec ? nullptr : std::move(ws);
}

/// Opens an SSE stream and reads until its first event; nullptr on failure.
std::unique_ptr<tcp::socket> open_sse(net::io_context& ioc, std::uint16_t port,
                                      const std::string& target) {
    auto s = connect_to(ioc, port);
    net::write(*s, net::buffer(get_request(port, target)));
    std::array<char, 4096> buf{};
    beast::error_code ec;
    const std::size_t n = s->read_some(net::buffer(buf), ec);
    if (ec || std::string_view(buf.data(), n).find("200 OK") == std::string_view::npos) {
        return nullptr;
    }
    return s;
}

/// Closes the TCP connection abruptly (RST): no WebSocket close, no FIN-then-wait.
void vanish(tcp::socket& s) {
    beast::error_code ec;
    s.set_option(net::socket_base::linger(true, 0), ec);
    s.close(ec);
}

class HttpSoakTest : public ::testing::Test {
protected:
    void SetUp() override {
        logger_ = std::make_shared<spdlog::logger>("soak",
                                                   std::make_shared<spdlog::sinks::null_sink_mt>());
        root_ = tmp_.path() / "store";
        fs::create_directories(root_ / "runs");
        storage::FolderRunStore::Options so;
        so.catalog_file = ":memory:";
        so.check_liveness = false;
        store_ = std::make_shared<storage::FolderRunStore>(root_, logger_, so);
        storage::SeriesService::Options sso;
        sso.persist = false;
        series_ = std::make_shared<storage::SeriesService>(store_, logger_, sso);
    }

    void start(HttpConfig config = HttpConfig{}) {
        routes_ = std::make_shared<RouteTable>();
        ASSERT_TRUE(routes_
                        ->add_route({"GET", "/api/ping", "ping"},
                                    make_handler([](const plugin::HttpRequest&) {
                                        return json_response(200, json::object{{"ok", true}});
                                    }))
                        .is_ok());
        live::LiveServices services{store_, series_, logger_};
        auto hub = live::register_live(*routes_, services, live::StreamOptions{});
        ASSERT_TRUE(hub.has_value()) << hub.error().message();
        hub_ = *hub;
        dispatcher_ = std::make_shared<Dispatcher>(routes_, "127.0.0.1", std::vector<std::string>{},
                                                   nullptr, logger_);
        config.port = 0;
        server_ = std::make_unique<HttpServer>(config, dispatcher_, logger_);
        server_->set_stream_upgrader(hub_);
        ASSERT_TRUE(server_->start().is_ok());
        port_ = server_->port();
    }

    void TearDown() override { server_.reset(); }

    fs::path make_run(const std::string& id, std::size_t log_lines = 0,
                      std::size_t metric_rows = 0) {
        const fs::path dir = root_ / "runs" / "soak" / id;
        fs::create_directories(dir / "media");
        std::ofstream(dir / "meta.json") << R"({"id":")" << id << R"(","path":"soak"})";
        std::ofstream(dir / "status.json") << R"({"status":"running","started_at":100.0})";
        {
            std::ofstream logs(dir / "logs.txt");
            for (std::size_t i = 0; i < log_lines; ++i) {
                logs << "line " << i << " " << std::string(80, 'x') << "\n";
            }
        }
        {
            std::ofstream events(dir / "events.jsonl");
            for (std::size_t i = 0; i < metric_rows; ++i) {
                events << R"({"ts":1.0,"type":"metrics","data":{"global_step":)" << i
                       << R"(,"loss":0.5,"acc":0.25}})"
                       << "\n";
            }
        }
        EXPECT_TRUE(store_->refresh().has_value());
        return dir;
    }

    void expect_serving() {
        std::string body;
        EXPECT_EQ(fetch(port_, "/api/ping", &body), 200U);
        EXPECT_EQ(body, R"({"ok":true})");
    }

    storage::testing::TempDir tmp_;
    fs::path root_;
    std::shared_ptr<spdlog::logger> logger_;
    std::shared_ptr<storage::FolderRunStore> store_;
    std::shared_ptr<storage::SeriesService> series_;
    std::shared_ptr<RouteTable> routes_;
    std::shared_ptr<live::StreamHub> hub_;
    std::shared_ptr<Dispatcher> dispatcher_;
    std::unique_ptr<HttpServer> server_;
    std::uint16_t port_ = 0;
};

// ---- connections ------------------------------------------------------------------------------

TEST_F(HttpSoakTest, AThousandConcurrentConnectionsAreAllServed) {
    constexpr std::size_t kClients = 1000;
    if (raise_nofile(4096) < 2 * kClients + 200) {
        GTEST_SKIP() << "RLIMIT_NOFILE too low for " << kClients << " connections in one process";
    }
    start();
    net::io_context ioc;
    std::vector<std::unique_ptr<tcp::socket>> sockets;
    sockets.reserve(kClients);
    for (std::size_t i = 0; i < kClients; ++i) {
        sockets.push_back(connect_to(ioc, port_));
    }
    // All of them hold a connection at once, then all send, then all read.
    const std::string req = get_request(port_, "/api/ping");
    for (auto& s : sockets) {
        net::write(*s, net::buffer(req));
    }
    std::size_t ok = 0;
    for (auto& s : sockets) {
        ok += read_status(*s) == 200U ? 1U : 0U;
    }
    EXPECT_EQ(ok, kClients);
    // Keep-alive: each connection serves a second request.
    for (auto& s : sockets) {
        net::write(*s, net::buffer(req));
    }
    ok = 0;
    for (auto& s : sockets) {
        ok += read_status(*s) == 200U ? 1U : 0U;
    }
    EXPECT_EQ(ok, kClients);
    sockets.clear();
    expect_serving();
}

TEST_F(HttpSoakTest, AtTheTotalCapTheOldestHeaderIncompleteConnectionGoesFirst) {
    constexpr std::size_t kCap = 1024;
    if (raise_nofile(4096) < 2 * kCap + 200) {
        GTEST_SKIP() << "RLIMIT_NOFILE too low for " << kCap << " connections in one process";
    }
    HttpConfig config;
    config.max_connections = kCap;
    start(config);
    net::io_context ioc;
    std::vector<std::unique_ptr<tcp::socket>> partial;
    for (std::size_t i = 0; i < kCap; ++i) {
        auto s = connect_to(ioc, port_);
        // Half a header, so the connection counts as "header incomplete".
        net::write(*s,
                   net::buffer(std::string_view("GET /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n")));
        partial.push_back(std::move(s));
    }
    // One more connection at the cap (the listener accepts in arrival order, so the others are
    // all in): the oldest incomplete one, the first, is closed for it.
    auto extra = connect_to(ioc, port_);
    net::write(*extra, net::buffer(get_request(port_, "/api/ping", true)));
    EXPECT_EQ(read_status(*extra), 200U);
    EXPECT_EQ(read_status(*partial.front()), 0U) << "the oldest connection was not closed";
    // A younger one is still there: finishing its header gets an answer.
    net::write(*partial.back(), net::buffer(std::string_view("Connection: close\r\n\r\n")));
    EXPECT_EQ(read_status(*partial.back()), 200U);
    partial.clear();
    expect_serving();
}

TEST_F(HttpSoakTest, BusyConnectionsAtTheCapMakeNewOnesGet503) {
    HttpConfig config;
    config.max_connections = 8;
    start(config);
    make_run("busy_run", 10, 10);
    // Eight live streams: busy connections that must not be evicted.
    std::vector<std::unique_ptr<websocket::stream<beast::tcp_stream>>> streams;
    net::io_context ioc;
    for (int i = 0; i < 8; ++i) {
        auto ws = open_ws(ioc, port_, "/api/runs/busy_run/metrics/ws");
        ASSERT_NE(ws, nullptr);
        streams.push_back(std::move(ws));
    }
    // Whether a taken-over stream still counts against the cap is the server's business; what
    // matters is that a new connection gets either an answer or a clean 503, never a hang.
    std::string body;
    const unsigned status = fetch(port_, "/api/ping", &body);
    EXPECT_TRUE(status == 200U || status == 503U) << status;
    if (status == 503U) {
        EXPECT_THAT(body, HasSubstr(R"("detail":"Too many connections")"));
    }
    streams.clear();
    EXPECT_TRUE(eventually([&] { return hub_->open_streams() == 0; }));
    EXPECT_TRUE(eventually([&] { return fetch(port_, "/api/ping") == 200U; }));
}

TEST_F(HttpSoakTest, SlowlorisGets408AndItsConnectionIsFreed) {
    HttpConfig config;
    config.header_timeout = std::chrono::milliseconds(500);
    config.max_connections = 4;
    start(config);
    net::io_context ioc;
    std::vector<std::unique_ptr<tcp::socket>> slow;
    for (int i = 0; i < 4; ++i) {
        slow.push_back(connect_to(ioc, port_));
    }
    // Trickle one header byte per 50 ms on every connection: a 10 s header at that pace; the
    // server's 500 ms header deadline must cut it short.
    const std::string header =
        "GET /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + std::string(200, 'p') + "\r\n\r\n";
    std::vector<bool> answered(slow.size(), false);
    for (std::size_t pos = 0; pos < header.size(); ++pos) {
        bool all = true;
        for (std::size_t i = 0; i < slow.size(); ++i) {
            beast::error_code ec;
            if (!answered[i]) {
                net::write(*slow[i], net::buffer(&header[pos], 1), ec);
                answered[i] = ec || slow[i]->available(ec) > 0;
            }
            all = all && answered[i];
        }
        if (all) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (auto& s : slow) {
        std::string body;
        EXPECT_EQ(read_status(*s, &body), 408U);
        EXPECT_THAT(body, HasSubstr("Request timeout"));
    }
    // The four slots are free again: four ordinary clients at once are all served.
    std::vector<std::unique_ptr<tcp::socket>> fresh;
    for (int i = 0; i < 4; ++i) {
        auto s = connect_to(ioc, port_);
        net::write(*s, net::buffer(get_request(port_, "/api/ping")));
        fresh.push_back(std::move(s));
    }
    for (auto& s : fresh) {
        EXPECT_EQ(read_status(*s), 200U);
    }
    fresh.clear();
    slow.clear();
    expect_serving();
}

// ---- streams ----------------------------------------------------------------------------------

TEST_F(HttpSoakTest, ClientsVanishingMidStreamReleaseTheirSessions) {
    start();
    // A big log and many metric rows, so that the server is still writing when the clients go.
    make_run("vanish_run", 20'000, 20'000);
    net::io_context ioc;
    for (int round = 0; round < 2; ++round) {
        std::vector<std::unique_ptr<websocket::stream<beast::tcp_stream>>> ws;
        std::vector<std::unique_ptr<tcp::socket>> sse;
        for (int i = 0; i < 5; ++i) {
            auto logs = open_ws(ioc, port_, "/api/runs/vanish_run/logs/ws?tail=100000");
            auto json_logs = open_ws(ioc, port_, "/api/runs/vanish_run/logs/ws?format=json");
            auto metrics = open_ws(ioc, port_, "/api/runs/vanish_run/metrics/ws");
            ASSERT_NE(logs, nullptr);
            ASSERT_NE(json_logs, nullptr);
            ASSERT_NE(metrics, nullptr);
            ws.push_back(std::move(logs));
            ws.push_back(std::move(json_logs));
            ws.push_back(std::move(metrics));
            auto events = open_sse(ioc, port_, "/api/events?runs=vanish_run");
            ASSERT_NE(events, nullptr);
            sse.push_back(std::move(events));
        }
        // (A log replay larger than the slow-consumer limit may already have been closed.)
        EXPECT_GT(hub_->open_streams(), 0U);
        for (auto& w : ws) {
            vanish(beast::get_lowest_layer(*w).socket());
        }
        for (auto& s : sse) {
            vanish(*s);
        }
        // Appends after the clients left: the sessions notice on their next write at the latest.
        append_lines(root_ / "runs" / "soak" / "vanish_run" / "logs.txt", 100);
        EXPECT_TRUE(eventually([&] { return hub_->open_streams() == 0; }))
            << hub_->open_streams() << " stream sessions still open after their clients left";
    }
    expect_serving();
}

TEST_F(HttpSoakTest, DeletingARunEndsItsStreamsWithAnError) {
    start();
    // Soft delete; soft delete and purge at once; the folder removed behind the store's back.
    for (const std::string how : {"soft", "purge", "rmrf"}) {
        const std::string id = how + "_run";
        const fs::path dir = make_run(id, 100, 100);
        net::io_context ioc;
        auto logs = open_ws(ioc, port_, "/api/runs/" + id + "/logs/ws");
        auto json_logs = open_ws(ioc, port_, "/api/runs/" + id + "/logs/ws?format=json");
        auto metrics = open_ws(ioc, port_, "/api/runs/" + id + "/metrics/ws");
        auto events = open_sse(ioc, port_, "/api/events?runs=" + id + "&channels=metrics,status");
        ASSERT_NE(logs, nullptr);
        ASSERT_NE(json_logs, nullptr);
        ASSERT_NE(metrics, nullptr);
        ASSERT_NE(events, nullptr);
        if (how == "rmrf") {
            fs::remove_all(dir);
        } else {
            ASSERT_TRUE(store_->soft_delete(id, "").is_ok());
        }
        if (how == "purge") {
            ASSERT_TRUE(store_->purge(id).is_ok());
        }
        // Each WebSocket's last text frame says the run is gone, then it closes.
        const auto last_text = [](websocket::stream<beast::tcp_stream>& ws) {
            std::string last;
            for (;;) {
                beast::flat_buffer b;
                beast::error_code ec;
                ws.read(b, ec);
                if (ec) {
                    return last;
                }
                last = beast::buffers_to_string(b.data());
            }
        };
        EXPECT_EQ(last_text(*logs), "[error] run deleted") << id;
        EXPECT_EQ(last_text(*json_logs), R"({"type":"error","detail":"run deleted"})") << id;
        const std::string metrics_last = last_text(*metrics);
        if (how == "rmrf") {
            // rm -rf removes events.jsonl before the folder: the stream may see a vanished file
            // (reset, after which the client refetches and gets 404) before a vanished run.
            EXPECT_THAT(metrics_last, AnyOf(Eq(R"({"type":"error","detail":"run deleted"})"),
                                            Eq(R"({"type":"reset","reason":"file_rewritten"})")))
                << id;
        } else {
            EXPECT_EQ(metrics_last, R"({"type":"error","detail":"run deleted"})") << id;
        }
        // The SSE stream sends an error event for the run and, following nothing else, ends.
        std::string got;
        std::array<char, 4096> buf{};
        for (;;) {
            beast::error_code ec;
            const std::size_t n = events->read_some(net::buffer(buf), ec);
            if (ec) {
                break;
            }
            got.append(buf.data(), n);
        }
        EXPECT_THAT(got, HasSubstr("event: error\n")) << id << ": " << got;
        EXPECT_THAT(got, HasSubstr(R"("detail":"run deleted")")) << id;
        EXPECT_TRUE(eventually([&] { return hub_->open_streams() == 0; }));
    }
    expect_serving();
}

}  // namespace
}  // namespace runicorn::http_plugin
