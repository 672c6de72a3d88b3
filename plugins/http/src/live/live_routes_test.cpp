// End to end over real HTTP: the live routes and streams of the http plugin over the storage
// plugin's run store and metric-series service (API.md §2.3, §3, §4.3, §4.4).

#include "live_routes.hpp"

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "../dispatcher.hpp"
#include "../http_server.hpp"
#include "../route_table.hpp"
#include "file_watch.hpp"
#include "folder_run_store.hpp"
#include "log_tail.hpp"
#include "media_routes.hpp"
#include "series_service.hpp"
#include "storage_test_util.hpp"

namespace runicorn::http_plugin::live {
namespace {

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kKitchen[] = "20250115_100000_6cefa5";
constexpr char kInterrupted[] = "20250115_104500_6e73fa";
constexpr char kLong[] = "20250115_111500_06bd22";
constexpr char kEmpty[] = "20250115_114500_1a030f";
constexpr auto kWait = std::chrono::seconds(20);  // generous: no timing assertion

struct Reply {
    unsigned status = 0;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;

    std::string header(std::string_view name) const {
        for (const auto& [k, v] : headers) {
            if (beast::iequals(k, name)) {
                return v;
            }
        }
        return "<absent>";
    }
    json::value json() const { return json::parse(body); }
};

Reply fetch(std::uint16_t port, http::verb method, const std::string& target,
            const std::vector<std::pair<std::string, std::string>>& extra = {},
            std::string body = "") {
    net::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    for (const auto& [k, v] : extra) {
        req.set(k, v);
    }
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(socket, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{64} << 20);
    http::read(socket, buffer, parser);
    Reply out;
    out.status = parser.get().result_int();
    out.body = parser.get().body();
    for (const auto& f : parser.get()) {
        out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    return out;
}

/// A WebSocket client with timeouts on every read. Thread safety: externally synchronized.
class WsClient {
public:
    /// Connects and upgrades; `status` gets the HTTP status of the answer (101 on success).
    WsClient(std::uint16_t port, const std::string& target, unsigned& status,
             const std::string& host = "")
        : ws_(ioc_) {
        beast::get_lowest_layer(ws_).connect(
            tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
        websocket::response_type res;
        beast::error_code ec;
        ws_.handshake(res, host.empty() ? "127.0.0.1:" + std::to_string(port) : host, target, ec);
        status = res.result_int();
        refused_body_ = res.body();
        open_ = !ec;
    }

    bool open() const { return open_; }

    /// The next text frame, or nullopt on close/timeout (then `ec` says which).
    std::optional<std::string> next(beast::error_code* ec_out = nullptr) {
        beast::flat_buffer buf;
        beast::error_code result = net::error::timed_out;
        bool done = false;
        ws_.async_read(buf, [&](beast::error_code ec, std::size_t) {
            result = ec;
            done = true;
        });
        ioc_.restart();
        ioc_.run_for(kWait);
        if (!done) {
            beast::get_lowest_layer(ws_).cancel();
            ioc_.restart();
            ioc_.run_for(std::chrono::seconds(2));
        }
        if (ec_out != nullptr) {
            *ec_out = result;
        }
        if (result) {
            return std::nullopt;
        }
        return beast::buffers_to_string(buf.data());
    }

    /// Reads frames until one contains `needle`; returns it (or "" on close/timeout).
    std::string next_containing(std::string_view needle) {
        for (int i = 0; i < 1000; ++i) {
            auto f = next();
            if (!f) {
                return "";
            }
            if (f->find(needle) != std::string::npos) {
                return *f;
            }
        }
        return "";
    }

    void send(const std::string& text) { ws_.write(net::buffer(text)); }

    websocket::close_reason close_reason() const { return ws_.reason(); }

private:
    net::io_context ioc_;
    websocket::stream<beast::tcp_stream> ws_;
    std::string refused_body_;
    bool open_ = false;
};

/// Replaces a file whole (temp + rename), as writers do (FORMAT.md C1).
void replace_file(const fs::path& p, std::string_view text) {
    const fs::path tmp = p.string() + ".tmp";
    std::ofstream(tmp, std::ios::binary) << text;
    fs::rename(tmp, p);
}

void append(const fs::path& p, std::string_view text) {
    std::ofstream out(p, std::ios::binary | std::ios::app);
    out << text;
}

class LiveRoutesTest : public ::testing::Test {
protected:
    void SetUp() override {
        logger_ = std::make_shared<spdlog::logger>("live",
                                                   std::make_shared<spdlog::sinks::null_sink_mt>());
        root_ = tmp_.path() / "store";
        storage::testing::copy_fixture_store(root_);
        storage::FolderRunStore::Options so;
        so.catalog_file = ":memory:";
        so.check_liveness = false;
        store_ = std::make_shared<storage::FolderRunStore>(root_, logger_, so);
        storage::SeriesService::Options sso;
        sso.persist = false;
        series_ = std::make_shared<storage::SeriesService>(store_, logger_, sso);
        routes_ = std::make_shared<RouteTable>();
        LiveServices services{store_, series_, logger_};
        auto hub = register_live(*routes_, services, StreamOptions{});
        ASSERT_TRUE(hub.has_value()) << hub.error().message();
        hub_ = *hub;
        dispatcher_ = std::make_shared<Dispatcher>(routes_, "127.0.0.1", std::vector<std::string>{},
                                                   nullptr, logger_);
        HttpConfig config;
        config.port = 0;
        server_ = std::make_unique<HttpServer>(config, dispatcher_, logger_);
        server_->set_stream_upgrader(hub_);
        ASSERT_TRUE(server_->start().is_ok());
        port_ = server_->port();
    }

    void TearDown() override { server_.reset(); }

    fs::path make_run(const std::string& id, bool running = true) {
        const fs::path dir = root_ / "runs" / "live" / id;
        fs::create_directories(dir / "media");
        std::ofstream(dir / "meta.json") << R"({"id":")" << id << R"(","path":"live"})";
        std::ofstream(dir / "status.json")
            << (running ? R"({"status":"running","started_at":100.0})"
                        : R"({"status":"finished","started_at":100.0,"ended_at":200.0})");
        EXPECT_TRUE(store_->refresh().has_value());
        return dir;
    }

    Reply get(const std::string& target,
              const std::vector<std::pair<std::string, std::string>>& extra = {}) {
        return fetch(port_, http::verb::get, target, extra);
    }

    storage::testing::TempDir tmp_;
    fs::path root_;
    std::shared_ptr<spdlog::logger> logger_;
    std::shared_ptr<storage::FolderRunStore> store_;
    std::shared_ptr<storage::SeriesService> series_;
    std::shared_ptr<RouteTable> routes_;
    std::shared_ptr<StreamHub> hub_;
    std::shared_ptr<Dispatcher> dispatcher_;
    std::unique_ptr<HttpServer> server_;
    std::uint16_t port_ = 0;
};

// ---- metrics_step (API.md §2.3) --------------------------------------------------------------

TEST_F(LiveRoutesTest, MetricsStepMatchesTheReferenceViewer) {
    std::ifstream in(storage::testing::fixture_dir() / "expected.json");
    std::stringstream ss;
    ss << in.rdbuf();
    const json::value expected = json::parse(ss.str());
    const json::object& exp = expected.at("metrics").at(kKitchen).as_object();
    for (const char* route : {"metrics_step", "metrics"}) {
        const Reply r = get(std::string("/api/runs/") + kKitchen + "/" + route);
        ASSERT_EQ(r.status, 200U) << r.body;
        EXPECT_EQ(r.header("Content-Type"), "application/json");
        const json::object body = r.json().as_object();
        EXPECT_EQ(body.at("columns"), exp.at("columns"));
        EXPECT_EQ(body.at("total"), exp.at("total"));
        EXPECT_EQ(body.at("sampled"), exp.at("sampled"));
        const json::array& rows = body.at("rows").as_array();
        const json::array& want = exp.at("rows").as_array();
        ASSERT_EQ(rows.size(), want.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            for (const auto& [k, v] : want[i].as_object()) {
                const json::value& ours = rows[i].at(k);
                if (v.is_number()) {
                    EXPECT_DOUBLE_EQ(ours.to_number<double>(), v.to_number<double>()) << k;
                } else {
                    EXPECT_EQ(ours, v) << k;
                }
            }
        }
        EXPECT_EQ(r.header("Cache-Control"), "no-cache");
        const Reply again = get(std::string("/api/runs/") + kKitchen + "/" + route,
                                {{"If-None-Match", r.header("ETag")}});
        EXPECT_EQ(again.status, 304U);
        EXPECT_EQ(again.body, "");
        EXPECT_EQ(r.header("X-Row-Count"), "30");
        EXPECT_EQ(r.header("X-Total-Count"), "30");
        EXPECT_EQ(r.header("X-Last-Step"),
                  std::to_string(rows.back().at("global_step").as_int64()));
    }
}

TEST_F(LiveRoutesTest, MetricsStepEdgeCases) {
    const Reply empty = get(std::string("/api/runs/") + kEmpty + "/metrics_step");
    ASSERT_EQ(empty.status, 200U);
    EXPECT_EQ(empty.body, R"({"columns":[],"rows":[],"total":0,"sampled":0})");
    EXPECT_EQ(empty.header("X-Row-Count"), "0");
    EXPECT_EQ(empty.header("X-Last-Step"), "<absent>");

    const Reply missing = get("/api/runs/20250115_000000_000000/metrics_step");
    EXPECT_EQ(missing.status, 404U);
    EXPECT_EQ(missing.body, R"({"detail":"Run not found","code":"RUN_NOT_FOUND"})");

    const Reply low = get(std::string("/api/runs/") + kKitchen + "/metrics_step?downsample=50");
    ASSERT_EQ(low.status, 422U);
    const json::value d = low.json().at("detail").as_array().at(0);
    EXPECT_EQ(json::serialize(d.at("loc")), R"(["query","downsample"])");
    EXPECT_EQ(d.at("msg").as_string(), "Input should be greater than or equal to 100");
    EXPECT_EQ(get(std::string("/api/runs/") + kKitchen + "/metrics?downsample=50001").status, 422U);
    EXPECT_EQ(get(std::string("/api/runs/") + kKitchen + "/metrics_step?downsample=ten").status,
              422U);

    const Reply sampled = get(std::string("/api/runs/") + kLong + "/metrics_step?downsample=100");
    ASSERT_EQ(sampled.status, 200U);
    const json::object body = sampled.json().as_object();
    EXPECT_EQ(body.at("total").to_number<int>(), 5000);
    EXPECT_LE(body.at("sampled").to_number<int>(), 100);
    EXPECT_EQ(sampled.header("X-Row-Count"), std::to_string(body.at("rows").as_array().size()));
    EXPECT_EQ(sampled.header("X-Total-Count"), "5000");
    EXPECT_EQ(sampled.header("X-Last-Step"), "5000");

    const Reply nonfinite = get(std::string("/api/runs/") + kInterrupted + "/metrics_step");
    ASSERT_EQ(nonfinite.status, 200U);
    EXPECT_THAT(nonfinite.body, ::testing::Not(HasSubstr("NaN")));
    EXPECT_THAT(nonfinite.body, ::testing::Not(HasSubstr("Infinity")));
}

TEST_F(LiveRoutesTest, CacheStats) {
    ASSERT_EQ(get(std::string("/api/runs/") + kKitchen + "/metrics_step").status, 200U);
    ASSERT_EQ(get(std::string("/api/runs/") + kKitchen + "/metrics_step").status, 200U);
    const Reply r = get("/api/metrics/cache/stats");
    ASSERT_EQ(r.status, 200U);
    const json::object o = r.json().as_object();
    for (const char* k : {"size", "max_size", "hits", "misses", "incremental_updates", "hit_rate",
                          "incremental_rate"}) {
        EXPECT_TRUE(o.contains(k)) << k;
    }
    EXPECT_EQ(o.at("hits").to_number<int>(), 1);
    EXPECT_EQ(o.at("misses").to_number<int>(), 1);
    EXPECT_DOUBLE_EQ(o.at("hit_rate").to_number<double>(), 50.0);
}

// ---- series (API.md §4.3) --------------------------------------------------------------------

TEST_F(LiveRoutesTest, SeriesRoutes) {
    const Reply keys = get(std::string("/api/runs/") + kKitchen + "/metric-keys");
    ASSERT_EQ(keys.status, 200U);
    EXPECT_THAT(keys.body, HasSubstr(R"("key":"loss")"));

    const Reply s = get(std::string("/api/runs/") + kLong + "/series?keys=loss,acc&points=20");
    ASSERT_EQ(s.status, 200U) << s.body;
    const json::object o = s.json().as_object();
    ASSERT_EQ(o.at("series").as_array().size(), 2U);
    EXPECT_LE(o.at("series").as_array()[0].at("returned").to_number<int>(), 20);
    EXPECT_EQ(o.at("x").as_string(), "step");

    const auto loc_of = [](const Reply& r) {
        return json::serialize(r.json().at("detail").as_array().at(0).at("loc"));
    };
    const std::string base = std::string("/api/runs/") + kLong + "/series";
    Reply bad = get(base + "?points=5");
    EXPECT_EQ(bad.status, 422U);
    EXPECT_EQ(loc_of(bad), R"(["query","points"])");
    bad = get(base + "?points=many");
    EXPECT_EQ(bad.status, 422U);
    EXPECT_EQ(loc_of(bad), R"(["query","points"])");
    bad = get(base + "?x=epoch");
    EXPECT_EQ(bad.status, 422U);
    EXPECT_EQ(loc_of(bad), R"(["query","x"])");
    bad = get(base + "?x_min=abc");
    EXPECT_EQ(bad.status, 422U);
    EXPECT_EQ(get("/api/runs/nope/series").status, 404U);
    EXPECT_EQ(get("/api/runs/nope/metric-keys").status, 404U);

    const std::vector<std::pair<std::string, std::string>> json_type = {
        {"Content-Type", "application/json"}};
    Reply q = fetch(port_, http::verb::post, "/api/series/query", json_type,
                    std::string(R"({"runs":[")") + kLong +
                        R"(","nope"],"keys":["loss"],"points":10,"method":"minmax"})");
    ASSERT_EQ(q.status, 200U) << q.body;
    EXPECT_EQ(q.json().at("results").as_array().size(), 1U);
    EXPECT_EQ(q.json().at("errors").at("nope").as_string(), "Run not found");
    q = fetch(port_, http::verb::post, "/api/series/query", json_type, R"({"keys":["loss"]})");
    EXPECT_EQ(q.status, 422U);
    EXPECT_EQ(loc_of(q), R"(["body","runs"])");
    q = fetch(port_, http::verb::post, "/api/series/query", json_type,
              R"({"runs":["a"],"points":"x"})");
    EXPECT_EQ(q.status, 422U);
    q = fetch(port_, http::verb::post, "/api/series/query", {{"Content-Type", "text/plain"}},
              R"({"runs":[]})");
    EXPECT_EQ(q.status, 415U);
}

// ---- export (API.md §4.3) --------------------------------------------------------------------

TEST_F(LiveRoutesTest, MetricsExport) {
    const std::string base = std::string("/api/runs/") + kKitchen + "/metrics/export";
    const Reply csv = get(base);
    ASSERT_EQ(csv.status, 200U);
    EXPECT_THAT(csv.header("Content-Type"), StartsWith("text/csv"));
    EXPECT_EQ(csv.header("Content-Disposition"),
              std::string("attachment; filename=\"") + kKitchen + "_metrics.csv\"");
    EXPECT_THAT(csv.body, StartsWith("global_step,time,stage,acc,loss,lr,val_acc,val_loss\r\n1,"));
    EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), 31);

    const Reply bom = get(base + "?bom=true&keys=loss");
    EXPECT_THAT(bom.body, StartsWith("\xEF\xBB\xBFglobal_step,time,stage,loss\r\n"));

    const Reply lng = get(base + "?layout=long&keys=loss");
    ASSERT_EQ(lng.status, 200U);
    EXPECT_THAT(lng.body, StartsWith("global_step,time,stage,key,value\r\n1,"));
    EXPECT_THAT(lng.body, HasSubstr(",train,loss,"));

    const Reply js = get(base + "?format=json");
    ASSERT_EQ(js.status, 200U);
    EXPECT_EQ(js.json().at("rows").as_array().size(), 30U);
    EXPECT_EQ(js.json().at("run_id").as_string(), kKitchen);

    const Reply jl = get(base + "?format=jsonl");
    ASSERT_EQ(jl.status, 200U);
    EXPECT_THAT(jl.body, StartsWith("{"));
    EXPECT_THAT(jl.body, ::testing::Not(HasSubstr("\"image\"")));

    const Reply nf = get(std::string("/api/runs/") + kInterrupted + "/metrics/export");
    ASSERT_EQ(nf.status, 200U);
    EXPECT_THAT(nf.body, HasSubstr("NaN"));
    EXPECT_THAT(nf.body, HasSubstr("Infinity"));

    EXPECT_EQ(get(base + "?format=xml").status, 400U);
    EXPECT_EQ(get(base + "?layout=tall").status, 422U);
    EXPECT_EQ(get(base + "?bom=maybe").status, 422U);
    EXPECT_EQ(get("/api/runs/nope/metrics/export").status, 404U);
}

// ---- media (API.md §4.4) ---------------------------------------------------------------------

TEST_F(LiveRoutesTest, MediaListingAndFiles) {
    const fs::path dir = make_run("media_run", false);
    const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(100, 'x');
    std::ofstream(dir / "media" / "1_abc_img.png", std::ios::binary) << png;
    std::ofstream(dir / "media" / "evil.svg") << "<svg onload=alert(1)></svg>";
    std::ofstream(dir / "secret.txt") << "secret";
    fs::create_symlink("../secret.txt", dir / "media" / "link.png");
    append(
        dir / "events.jsonl",
        R"({"ts":1.0,"type":"image","data":{"key":"img","path":"media/1_abc_img.png","step":1,"caption":null,"global_step":1,"format":"png"}})"
        "\n");

    const Reply list = get("/api/runs/media_run/media");
    ASSERT_EQ(list.status, 200U) << list.body;
    const std::string url(list.json().at("items").as_array().at(0).at("url").as_string());
    EXPECT_EQ(url, "/api/runs/media_run/media/1_abc_img.png");
    EXPECT_EQ(get("/api/runs/media_run/media?limit=0").status, 422U);
    EXPECT_EQ(get("/api/runs/media_run/media?limit=5000").status, 422U);
    EXPECT_EQ(get("/api/runs/nope/media").status, 404U);

    const Reply img = get(url);
    ASSERT_EQ(img.status, 200U);
    EXPECT_EQ(img.header("Content-Type"), "image/png");
    EXPECT_EQ(img.body, png);
    EXPECT_EQ(img.header("Cache-Control"), "private, max-age=31536000, immutable");
    const std::string etag = img.header("ETag");
    ASSERT_NE(etag, "<absent>");
    EXPECT_EQ(get(url, {{"If-None-Match", etag}}).status, 304U);

    const Reply part = get(url, {{"Range", "bytes=0-3"}});
    EXPECT_EQ(part.status, 206U);
    EXPECT_EQ(part.body, png.substr(0, 4));
    EXPECT_EQ(part.header("Content-Range"), "bytes 0-3/108");
    const Reply suffix = get(url, {{"Range", "bytes=-8"}});
    EXPECT_EQ(suffix.status, 206U);
    EXPECT_EQ(suffix.body, png.substr(100));
    const Reply beyond = get(url, {{"Range", "bytes=500-"}});
    EXPECT_EQ(beyond.status, 416U);
    EXPECT_EQ(beyond.header("Content-Range"), "bytes */108");

    const Reply svg = get("/api/runs/media_run/media/evil.svg");
    ASSERT_EQ(svg.status, 200U);
    EXPECT_EQ(svg.header("Content-Type"), "application/octet-stream");
    EXPECT_EQ(svg.header("Content-Disposition"), "attachment");

    EXPECT_EQ(get("/api/runs/media_run/media/link.png").status, 403U);
    EXPECT_EQ(get("/api/runs/media_run/media/..%2Fsecret.txt").status, 403U);
    EXPECT_EQ(get("/api/runs/media_run/media/..").status, 403U);
    EXPECT_EQ(get("/api/runs/media_run/media/C:x.png").status, 403U);
    EXPECT_EQ(get("/api/runs/media_run/media/a%5Cb.png").status, 403U);
    const Reply missing = get("/api/runs/media_run/media/none.png");
    EXPECT_EQ(missing.status, 404U);
}

TEST(MediaUnitsTest, SignaturesAndNames) {
    EXPECT_EQ(image_type_by_signature(std::string("\xFF\xD8\xFF\xE0", 4)), "image/jpeg");
    EXPECT_EQ(image_type_by_signature("GIF89a..."), "image/gif");
    EXPECT_EQ(image_type_by_signature("RIFF\x10\0\0\0WEBPVP8 "), "");  // NUL cut the literal
    EXPECT_EQ(image_type_by_signature(std::string("RIFF\x10\0\0\0WEBPVP8 ", 16)), "image/webp");
    EXPECT_EQ(image_type_by_signature("BM" + std::string(20, '\0')), "image/bmp");
    EXPECT_EQ(image_type_by_signature("<svg"), "");
    EXPECT_TRUE(safe_media_name("a.png"));
    EXPECT_FALSE(safe_media_name(""));
    EXPECT_FALSE(safe_media_name("a/b"));
    EXPECT_FALSE(safe_media_name(std::string("a\0b", 3)));
}

// ---- file watcher ---------------------------------------------------------------------------

TEST(FileWatchHubTest, ReportsFileNamesUntilUnwatched) {
    storage::testing::TempDir tmp;
    auto hub = FileWatchHub::start(nullptr);
    ASSERT_TRUE(hub.has_value()) << hub.error().message();
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::string> names;
    auto token = (*hub)->watch(tmp.path(), [&](std::string_view name) {
        const std::lock_guard lock(mu);
        names.emplace_back(name);
        cv.notify_all();
    });
    ASSERT_TRUE(token.has_value());
    append(tmp.path() / "events.jsonl", "x\n");
    {
        std::unique_lock lock(mu);
        EXPECT_TRUE(cv.wait_for(lock, kWait, [&] {
            return std::find(names.begin(), names.end(), "events.jsonl") != names.end();
        }));
    }
    (*hub)->unwatch(*token);
    {
        const std::lock_guard lock(mu);
        names.clear();
    }
    append(tmp.path() / "events.jsonl", "y\n");
    (*hub)->stop();  // joins the thread: anything still queued has been delivered or dropped
    const std::lock_guard lock(mu);
    EXPECT_TRUE(names.empty());
    EXPECT_THAT((*hub)->watch(tmp.path() / "missing", [](std::string_view) {}).error(),
                ::runicorn::testing::StatusIs(StatusCode::kFailedPrecondition,
                                              "the file watcher has stopped"));
}

// ---- log tailer ------------------------------------------------------------------------------

TEST(LogTailerTest, TailSinceTruncationAndPartialLines) {
    storage::testing::TempDir tmp;
    const fs::path p = tmp.path() / "logs.txt";
    LogTailer t(p);
    auto missing = t.start(std::nullopt, 10, true);
    ASSERT_TRUE(missing.has_value());
    EXPECT_FALSE(*missing);
    append(p, "one\n\ntwo\r\nthree\nfour\nhalf");
    auto cut = t.start(std::nullopt, 2, true);
    ASSERT_TRUE(cut.has_value());
    EXPECT_TRUE(*cut);
    bool more = false;
    auto c = t.read(1 << 20, more);
    ASSERT_TRUE(c.has_value());
    EXPECT_THAT(c->lines, ::testing::ElementsAre("three", "four"));
    EXPECT_EQ(c->first_line, 4U);
    EXPECT_FALSE(more);
    append(p, " done\n\xff\n");
    c = t.read(1 << 20, more);
    ASSERT_TRUE(c.has_value());
    EXPECT_THAT(c->lines, ::testing::ElementsAre("half done", "\xEF\xBF\xBD"));
    const std::uint64_t end = c->offset;

    LogTailer resume(p);
    ASSERT_TRUE(resume.start(std::uint64_t{4}, 0, true).has_value());
    c = resume.read(1 << 20, more);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->lines.front(), "two");
    EXPECT_EQ(c->offset, end);

    fs::resize_file(p, 4);
    c = t.read(1 << 20, more);
    ASSERT_TRUE(c.has_value());
    EXPECT_TRUE(c->reset);
    EXPECT_THAT(c->lines, ::testing::ElementsAre("one"));

    append(p, "tail-without-newline");
    auto flushed = t.flush_partial();
    ASSERT_TRUE(flushed.has_value() && flushed->has_value());
    EXPECT_THAT((*flushed)->lines, ::testing::ElementsAre("tail-without-newline"));
}

// ---- streams (API.md §3) ---------------------------------------------------------------------

TEST_F(LiveRoutesTest, LogWebSocketReplaysAndFollows) {
    const fs::path dir = make_run("log_run");
    append(dir / "logs.txt", "10:00:00 | first\n[10:00:01] second\n");
    unsigned status = 0;
    WsClient ws(port_, "/api/runs/log_run/logs/ws", status);
    ASSERT_TRUE(ws.open()) << status;
    EXPECT_EQ(status, 101U);
    EXPECT_EQ(ws.next(), "10:00:00 | first");
    EXPECT_EQ(ws.next(), "[10:00:01] second");
    append(dir / "logs.txt", "10:00:02 | INFO | trainer | third\n");
    EXPECT_EQ(ws.next(), "10:00:02 | INFO | trainer | third");
}

TEST_F(LiveRoutesTest, LogWebSocketCompatTexts) {
    const fs::path dir = make_run("log_texts");
    unsigned status = 0;
    {
        WsClient ws(port_, "/api/runs/no_such_run/logs/ws", status);
        ASSERT_TRUE(ws.open());
        EXPECT_EQ(ws.next(), "[error] run not found");
        beast::error_code ec;
        EXPECT_FALSE(ws.next(&ec).has_value());
        EXPECT_EQ(ec, websocket::error::closed);
    }
    {
        WsClient ws(port_, "/api/runs/log_texts/logs/ws", status);
        ASSERT_TRUE(ws.open());
        EXPECT_EQ(ws.next(), "[info] No logs available yet. Waiting for logs to be created...");
        append(dir / "logs.txt", "hello\n");
        EXPECT_EQ(ws.next(), "[info] Logs are now available, streaming...");
        EXPECT_EQ(ws.next(), "hello");
    }
    append(dir / "logs.txt", "a\nb\nc\n");
    {
        WsClient ws(port_, "/api/runs/log_texts/logs/ws?tail=2", status);
        ASSERT_TRUE(ws.open());
        EXPECT_EQ(ws.next(), "[info] Showing last 2 lines. Full log file: logs.txt");
        EXPECT_EQ(ws.next(), "b");
        EXPECT_EQ(ws.next(), "c");
    }
    {
        WsClient ws(port_, "/api/runs/log_texts/logs/ws?format=json&tail=1", status);
        ASSERT_TRUE(ws.open());
        const std::string info = ws.next().value_or("");
        EXPECT_EQ(json::parse(info).at("type").as_string(), "info");
        const json::value lines = json::parse(ws.next().value_or("{}"));
        EXPECT_EQ(lines.at("type").as_string(), "lines");
        EXPECT_EQ(lines.at("first_line").to_number<int>(), 4);
        EXPECT_EQ(json::serialize(lines.at("lines")), R"(["c"])");
        EXPECT_EQ(lines.at("offset").to_number<std::uint64_t>(), fs::file_size(dir / "logs.txt"));
    }
    {
        WsClient ws(port_, "/api/runs/log_texts/logs/ws?tail=many", status);
        EXPECT_FALSE(ws.open());
        EXPECT_EQ(status, 422U);
    }
}

TEST_F(LiveRoutesTest, MetricWebSocketPushesRecords) {
    const fs::path dir = make_run("metric_run");
    append(dir / "events.jsonl",
           R"({"ts":1.0,"type":"metrics","data":{"loss":0.9,"global_step":1,"time":1.0}})"
           "\n");
    unsigned status = 0;
    WsClient ws(port_, "/api/runs/metric_run/metrics/ws", status);
    ASSERT_TRUE(ws.open()) << status;
    const json::value hello = json::parse(ws.next().value_or("{}"));
    EXPECT_EQ(hello.at("type").as_string(), "hello");
    EXPECT_EQ(hello.at("run_id").as_string(), "metric_run");
    EXPECT_EQ(hello.at("status").as_string(), "running");
    EXPECT_EQ(json::serialize(hello.at("keys")), R"(["loss"])");
    EXPECT_EQ(hello.at("last_step").to_number<int>(), 1);

    append(
        dir / "events.jsonl",
        R"({"ts":2.0,"type":"metrics","data":{"loss":NaN,"acc":0.5,"global_step":2,"time":2.0,"stage":"train"}})"
        "\n");
    const json::value keys = json::parse(ws.next_containing("\"keys\""));
    EXPECT_EQ(json::serialize(keys.at("added")), R"(["acc"])");
    const json::value rows = json::parse(ws.next_containing("\"rows\""));
    ASSERT_EQ(rows.at("rows").as_array().size(), 1U);
    const json::value& row = rows.at("rows").as_array()[0];
    EXPECT_EQ(row.at("global_step").to_number<int>(), 2);
    EXPECT_EQ(row.at("stage").as_string(), "train");
    EXPECT_EQ(json::serialize(row.at("values")), R"({"loss":"NaN","acc":5E-1})");

    // Subscribing narrows the keys; a cursor from a frame resumes without repeats.
    ws.send(R"({"type":"subscribe","keys":["acc"]})");
    EXPECT_EQ(ws.next_containing("subscribed"), R"({"type":"subscribed","keys":["acc"]})");
    ws.send(R"({"type":"subscribe","keys":7})");
    EXPECT_EQ(ws.next_containing("error"),
              R"({"type":"error","detail":"keys: Input should be a valid list"})");
    append(dir / "events.jsonl",
           R"({"ts":3.0,"type":"metrics","data":{"loss":0.3,"acc":0.6,"global_step":3}})"
           "\n");
    const json::value narrowed = json::parse(ws.next_containing("\"rows\""));
    EXPECT_EQ(json::serialize(narrowed.at("rows").as_array()[0].at("values")), R"({"acc":6E-1})");
    const std::string cursor(rows.at("cursor").as_string());

    WsClient again(port_, "/api/runs/metric_run/metrics/ws?since=" + cursor, status);
    ASSERT_TRUE(again.open());
    EXPECT_EQ(json::parse(again.next().value_or("{}")).at("cursor").as_string(), cursor);
    const json::value resumed = json::parse(again.next_containing("\"rows\""));
    EXPECT_EQ(resumed.at("rows").as_array()[0].at("global_step").to_number<int>(), 3);

    // Status changes arrive as status frames.
    replace_file(dir / "status.json",
                 R"({"status":"finished","started_at":100.0,"ended_at":300.0})");
    const json::value st = json::parse(ws.next_containing("\"status\",\"status\""));
    EXPECT_EQ(st.at("status").as_string(), "finished");
    EXPECT_EQ(st.at("ended_at").to_number<double>(), 300.0);
}

TEST_F(LiveRoutesTest, MetricWebSocketRefusals) {
    make_run("metric_bad");
    unsigned status = 0;
    {
        WsClient ws(port_, "/api/runs/nope/metrics/ws", status);
        EXPECT_FALSE(ws.open());
        EXPECT_EQ(status, 404U);
    }
    {
        WsClient ws(port_, "/api/runs/metric_bad/metrics/ws?since=bogus", status);
        EXPECT_FALSE(ws.open());
        EXPECT_EQ(status, 422U);
    }
    {
        // Admission runs before the upgrade: a foreign Host is a plain 403.
        WsClient ws(port_, "/api/runs/metric_bad/metrics/ws", status, "evil.example");
        EXPECT_FALSE(ws.open());
        EXPECT_EQ(status, 403U);
    }
    {
        WsClient ws(port_, "/api/runs/metric_bad/metrics/ws", status);
        ASSERT_TRUE(ws.open());
        ASSERT_TRUE(ws.next().has_value());  // hello
        ws.send(std::string(70 * 1024, 'x'));
        beast::error_code ec;
        while (ws.next(&ec).has_value()) {
        }
        EXPECT_EQ(ws.close_reason().code, websocket::close_code::too_big);
    }
    // Without an upgrade the stream paths answer 426.
    EXPECT_EQ(get("/api/runs/metric_bad/metrics/ws").status, 426U);
    EXPECT_EQ(get("/api/runs/metric_bad/logs/ws").status, 426U);
}

TEST_F(LiveRoutesTest, StoppingTheServerClosesStreams) {
    make_run("stop_run");
    unsigned status = 0;
    WsClient ws(port_, "/api/runs/stop_run/metrics/ws", status);
    ASSERT_TRUE(ws.open());
    ASSERT_TRUE(ws.next().has_value());  // hello
    EXPECT_EQ(hub_->open_streams(), 1U);
    // Stop from another thread so that this one can answer the close handshake.
    std::thread stopper([this] { server_.reset(); });
    beast::error_code ec;
    EXPECT_FALSE(ws.next(&ec).has_value());
    stopper.join();
    EXPECT_EQ(ec, websocket::error::closed);
    EXPECT_EQ(ws.close_reason().code, websocket::close_code::going_away);
}

TEST_F(LiveRoutesTest, EventStreamDeliversMetricsLogsAndStatus) {
    const fs::path dir = make_run("sse_run");
    append(dir / "events.jsonl",
           R"({"ts":1.0,"type":"metrics","data":{"loss":0.9,"global_step":1}})"
           "\n");
    EXPECT_EQ(get("/api/events?runs=nope").status, 404U);
    EXPECT_EQ(get("/api/events?runs=sse_run&channels=bogus").status, 422U);

    net::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
    const std::string req =
        "GET /api/events?runs=sse_run HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
        "\r\nAccept: text/event-stream\r\n\r\n";
    net::write(socket, net::buffer(req));
    std::string got;
    const auto read_until = [&](std::string_view needle) {
        std::array<char, 4096> buf{};
        const auto deadline = std::chrono::steady_clock::now() + kWait;
        while (got.find(needle) == std::string::npos &&
               std::chrono::steady_clock::now() < deadline) {
            bool done = false;
            socket.async_read_some(net::buffer(buf), [&](beast::error_code ec, std::size_t n) {
                if (!ec) {
                    got.append(buf.data(), n);
                }
                done = true;
            });
            ioc.restart();
            ioc.run_for(kWait);
            if (!done) {
                break;
            }
        }
        return got.find(needle) != std::string::npos;
    };
    ASSERT_TRUE(read_until("retry: 1000\n\n"));
    EXPECT_THAT(got, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_THAT(got, HasSubstr("Content-Type: text/event-stream\r\n"));
    append(dir / "events.jsonl",
           R"({"ts":2.0,"type":"metrics","data":{"loss":0.8,"global_step":2}})"
           "\n");
    EXPECT_TRUE(read_until("event: metrics\n"));
    EXPECT_TRUE(read_until(R"("values":{"loss":8E-1})"));
    append(dir / "logs.txt", "a log line\n");
    EXPECT_TRUE(read_until("event: log\n"));
    EXPECT_TRUE(read_until(R"("lines":["a log line"])"));
    replace_file(dir / "status.json", R"({"status":"failed","exit_reason":"oom"})");
    EXPECT_TRUE(read_until("event: status\n"));
    EXPECT_TRUE(read_until(R"("exit_reason":"oom")"));
}

// ---- SSE runs channel (API.md §3.3) ------------------------------------------------------------

/// A raw SSE client over a socket; reads with a generous deadline. Thread safety: externally
/// synchronized.
class SseClient {
public:
    SseClient(std::uint16_t port, const std::string& target, const std::string& last_event_id = "")
        : socket_(ioc_) {
        socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
        std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nAccept: text/event-stream\r\n";
        if (!last_event_id.empty()) {
            req += "Last-Event-ID: " + last_event_id + "\r\n";
        }
        req += "\r\n";
        net::write(socket_, net::buffer(req));
    }

    /// Reads until `needle` appears after the consumed part; returns the text up to the end of
    /// the event holding it (and consumes it), or "" on close/timeout.
    std::string until(std::string_view needle) {
        std::array<char, 4096> buf{};
        const auto deadline = std::chrono::steady_clock::now() + kWait;
        while (got_.find(needle, pos_) == std::string::npos &&
               std::chrono::steady_clock::now() < deadline) {
            bool done = false;
            bool failed = false;
            socket_.async_read_some(net::buffer(buf), [&](beast::error_code ec, std::size_t n) {
                if (!ec) {
                    got_.append(buf.data(), n);
                } else {
                    failed = true;
                }
                done = true;
            });
            ioc_.restart();
            ioc_.run_for(kWait);
            if (!done || failed) {
                break;
            }
        }
        const auto at = got_.find(needle, pos_);
        if (at == std::string::npos) {
            return "";
        }
        auto end = got_.find("\n\n", at);
        end = end == std::string::npos ? got_.size() : end + 2;
        const auto begin = got_.rfind("\n\n", at);
        std::string event =
            got_.substr(begin == std::string::npos || begin < pos_ ? pos_ : begin + 2,
                        end - (begin == std::string::npos || begin < pos_ ? pos_ : begin + 2));
        pos_ = end;
        return event;
    }

    /// The `id:` line of an event text.
    static std::string id_of(const std::string& event) {
        const auto at = event.find("\nid: ");
        if (at == std::string::npos) {
            return "";
        }
        const auto end = event.find('\n', at + 5);
        return event.substr(at + 5, end - at - 5);
    }

    /// The parsed `data:` line of an event text.
    static json::value data_of(const std::string& event) {
        const auto at = event.find("data: ");
        if (at == std::string::npos) {
            return nullptr;
        }
        const auto end = event.find('\n', at);
        return json::parse(event.substr(at + 6, end - at - 6));
    }

    void close() {
        beast::error_code ec;
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        socket_.close(ec);
    }

private:
    net::io_context ioc_;
    tcp::socket socket_;
    std::string got_;
    std::size_t pos_ = 0;
};

TEST_F(LiveRoutesTest, EventStreamRunsChannelFollowsTheRunList) {
    ASSERT_TRUE(store_->refresh().has_value());  // the first build reports nothing
    SseClient sse(port_, "/api/events?channels=runs");
    ASSERT_NE(sse.until("retry: 1000\n\n"), "");
    EXPECT_EQ(hub_->open_streams(), 1U);

    make_run("feed_run");  // a new run: refresh() catalogs it
    std::string ev = sse.until("\"feed_run\"");
    ASSERT_NE(ev, "");
    EXPECT_THAT(ev, StartsWith("event: runs\nid: ;r"));
    json::value data = SseClient::data_of(ev);
    EXPECT_EQ(data.at("op").as_string(), "upsert");
    EXPECT_EQ(data.at("run").at("id").as_string(), "feed_run");
    EXPECT_EQ(data.at("run").at("status").as_string(), "running");

    plugin::RunUpdate update;
    update.alias = std::optional<std::string>("nice");
    ASSERT_TRUE(store_->update_run("feed_run", update).has_value());
    ev = sse.until("\"alias\":\"nice\"");
    ASSERT_NE(ev, "");
    EXPECT_EQ(SseClient::data_of(ev).at("op").as_string(), "upsert");
    const std::string after_alias = SseClient::id_of(ev);

    ASSERT_TRUE(store_->soft_delete("feed_run", "").is_ok());
    ev = sse.until("\"op\":\"delete\"");
    ASSERT_NE(ev, "");
    EXPECT_EQ(SseClient::data_of(ev).at("reason").as_string(), "soft_deleted");
    EXPECT_EQ(SseClient::data_of(ev).at("run").at("id").as_string(), "feed_run");

    ASSERT_TRUE(store_->restore("feed_run").is_ok());
    ev = sse.until("\"op\":\"upsert\"");
    ASSERT_NE(ev, "");
    EXPECT_EQ(SseClient::data_of(ev).at("run").at("id").as_string(), "feed_run");

    // A status change written by the run's process, noticed by a refresh.
    replace_file(root_ / "runs" / "live" / "feed_run" / "status.json",
                 R"({"status":"failed","started_at":100.0,"ended_at":150.0})");
    ASSERT_TRUE(store_->refresh().has_value());
    ev = sse.until("\"status\":\"failed\"");
    ASSERT_NE(ev, "");

    ASSERT_TRUE(store_->soft_delete("feed_run", "").is_ok());
    ASSERT_NE(sse.until("\"soft_deleted\""), "");
    ASSERT_TRUE(store_->purge("feed_run").is_ok());
    ev = sse.until("\"reason\":\"removed\"");
    ASSERT_NE(ev, "");
    EXPECT_EQ(SseClient::data_of(ev).at("op").as_string(), "delete");

    // Resuming after the alias event replays what followed it, in order.
    SseClient again(port_, "/api/events?channels=runs", after_alias);
    ASSERT_NE(again.until("retry: 1000\n\n"), "");
    ev = again.until("event: runs\n");
    ASSERT_NE(ev, "");
    EXPECT_EQ(SseClient::data_of(ev).at("reason").as_string(), "soft_deleted");
    ev = again.until("event: runs\n");
    EXPECT_EQ(SseClient::data_of(ev).at("op").as_string(), "upsert");

    // An id of another server start (or one older than the feed keeps) asks for a refetch.
    SseClient foreign(port_, "/api/events?channels=runs", ";r0.3");
    ev = foreign.until("event: reset\n");
    ASSERT_NE(ev, "");
    EXPECT_EQ(SseClient::data_of(ev).at("reason").as_string(), "runs_gap");

    // Disconnected clients free their sessions (no timing assertion: wait for it).
    sse.close();
    again.close();
    foreign.close();
    for (int i = 0; i < 2000 && hub_->open_streams() != 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(hub_->open_streams(), 0U);
    // Another change with no listener left does no harm.
    make_run("feed_run_2");
}

TEST_F(LiveRoutesTest, RunsFeedKeepsABoundedHistory) {
    ASSERT_TRUE(store_->refresh().has_value());  // the first build reports nothing
    auto feed = RunsFeed::start(store_, 2);
    ASSERT_NE(feed, nullptr);
    int woken = 0;
    feed->add_waker([&woken] { ++woken; });
    make_run("ring_a");
    make_run("ring_b");
    make_run("ring_c");
    EXPECT_EQ(feed->last_seq(), 3U);
    EXPECT_EQ(woken, 3);
    bool gap = false;
    auto events = feed->since(1, gap);
    EXPECT_FALSE(gap);
    ASSERT_EQ(events.size(), 2U);
    EXPECT_THAT(events[1].data, HasSubstr("\"ring_c\""));
    events = feed->since(0, gap);
    EXPECT_TRUE(gap);  // event 1 is gone
    (void)feed->since(7, gap);
    EXPECT_TRUE(gap);  // from the future
    feed->stop();
    make_run("ring_d");
    EXPECT_EQ(feed->last_seq(), 3U);  // unsubscribed
    EXPECT_EQ(get("/api/events?channels=runs,bogus").status, 422U);
}

}  // namespace
}  // namespace runicorn::http_plugin::live
