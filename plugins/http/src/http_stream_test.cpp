// Streamed response bodies (HttpResponse::stream) and the shared file helper (file_response.hpp)
// over real sockets: a whole 50 MiB body with a bounded queue, back-pressure, a client that goes
// away, producer failures, HEAD, keep-alive, Range/206/416 and conditional requests.

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <runicorn/testing/temp_dir.hpp>

#include "dispatcher.hpp"
#include "file_response.hpp"
#include "http_router.hpp"
#include "http_server.hpp"
#include "responses.hpp"
#include "route_table.hpp"
#include <fcntl.h>

namespace runicorn::http_plugin {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;

constexpr std::size_t kMiB = std::size_t{1024} * 1024;
constexpr std::size_t kBig = 50 * kMiB;

// The byte at `offset` of every generated body: position-dependent, so a reordered, repeated or
// lost piece shows.
char pattern_at(std::uint64_t offset) {
    return static_cast<char>((offset * 7 + offset / 4093) & 0xFFU);
}

std::string pattern(std::uint64_t offset, std::size_t n) {
    std::string out(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = pattern_at(offset + i);
    }
    return out;
}

bool matches_pattern(std::string_view body) {
    for (std::size_t i = 0; i < body.size(); ++i) {
        if (body[i] != pattern_at(i)) {
            return false;
        }
    }
    return true;
}

/// What the producers of the test routes report. Thread safety: safe for concurrent use.
struct ProducerLog {
    std::atomic<std::uint64_t> accepted{0};  // bytes write() took so far
    std::atomic<int> runs{0};
    std::promise<bool> refused;  // set to true once write() returns false
    std::atomic<bool> refused_set{false};

    void note_refused() {
        if (!refused_set.exchange(true)) {
            refused.set_value(true);
        }
    }
};

struct Reply {
    unsigned status = 0;
    std::string body;
    http::response<http::string_body> raw;
    std::string header(http::field f) const {
        auto it = raw.find(f);
        return it == raw.end() ? "<absent>" : std::string(it->value());
    }
    std::string header(std::string_view name) const {
        auto it = raw.find(name);
        return it == raw.end() ? "<absent>" : std::string(it->value());
    }
};

/// A blocking client on one connection. Thread safety: externally synchronized.
class Client {
public:
    explicit Client(std::uint16_t port) : socket_(ioc_), port_(port) {
        socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    }

    void write_request(http::verb method, std::string_view target,
                       const std::vector<std::pair<std::string, std::string>>& extra = {}) {
        http::request<http::empty_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
        for (const auto& [k, v] : extra) {
            req.set(k, v);
        }
        http::write(socket_, req);
    }

    /// One whole exchange; `ec` gets the read error (a truncated body) instead of throwing.
    Reply send(http::verb method, std::string_view target, beast::error_code& ec,
               const std::vector<std::pair<std::string, std::string>>& extra = {}) {
        write_request(method, target, extra);
        http::response_parser<http::string_body> parser;
        parser.body_limit(std::uint64_t{128} * kMiB);
        parser.skip(method == http::verb::head);
        http::read(socket_, buffer_, parser, ec);
        Reply r;
        r.raw = parser.release();
        r.status = r.raw.result_int();
        r.body = r.raw.body();
        return r;
    }

    Reply get(std::string_view target,
              const std::vector<std::pair<std::string, std::string>>& extra = {}) {
        beast::error_code ec;
        Reply r = send(http::verb::get, target, ec, extra);
        EXPECT_FALSE(ec) << ec.message();
        return r;
    }

    tcp::socket& socket() { return socket_; }
    beast::flat_buffer& buffer() { return buffer_; }

private:
    net::io_context ioc_;
    tcp::socket socket_;
    beast::flat_buffer buffer_;
    std::uint16_t port_;
};

class HttpStreamTest : public ::testing::Test {
protected:
    void SetUp() override {
        logger_ = std::make_shared<spdlog::logger>("http",
                                                   std::make_shared<spdlog::sinks::null_sink_mt>());
        routes_ = std::make_shared<RouteTable>();
        add("/api/stream/big", [this](const plugin::HttpRequest&) {
            plugin::HttpResponse r;
            r.content_type = "application/octet-stream";
            r.stream = [this](plugin::BodySink& sink) {
                log_.runs++;
                for (std::uint64_t off = 0; off < kBig; off += kMiB) {
                    if (!sink.write(pattern(off, kMiB))) {
                        log_.note_refused();
                        return Status::cancelled("client gone");
                    }
                    log_.accepted += kMiB;
                }
                return Status::ok();
            };
            return r;
        });
        add("/api/stream/sized", [this](const plugin::HttpRequest&) {
            plugin::HttpResponse r;
            r.content_type = "text/plain";
            r.content_length = 300'000;
            r.stream = [this](plugin::BodySink& sink) {
                log_.runs++;
                // Uneven pieces, one larger than the server's piece size.
                const std::string all = pattern(0, 300'000);
                return sink.write(std::string_view(all).substr(0, 7)) &&
                               sink.write(std::string_view(all).substr(7, 290'000)) &&
                               sink.write(std::string_view(all).substr(290'007))
                           ? Status::ok()
                           : Status::cancelled("client gone");
            };
            return r;
        });
        add("/api/stream/forever", [this](const plugin::HttpRequest&) {
            plugin::HttpResponse r;
            r.stream = [this](plugin::BodySink& sink) {
                log_.runs++;
                const std::string piece(64 * 1024, 'x');
                while (sink.write(piece)) {
                    log_.accepted += piece.size();
                }
                log_.note_refused();
                return Status::ok();
            };
            return r;
        });
        add("/api/stream/fail", [this](const plugin::HttpRequest&) {
            plugin::HttpResponse r;
            r.stream = [this](plugin::BodySink& sink) {
                log_.runs++;
                (void)sink.write(pattern(0, kMiB));
                return Status::data_loss("blob missing");
            };
            return r;
        });
        add("/api/stream/throw", [this](const plugin::HttpRequest&) {
            plugin::HttpResponse r;
            r.stream = [this](plugin::BodySink& sink) -> Status {
                log_.runs++;
                (void)sink.write(pattern(0, 100'000));
                throw std::runtime_error("producer bug");
            };
            return r;
        });
        add("/api/stream/short", [this](const plugin::HttpRequest&) {
            plugin::HttpResponse r;
            r.content_length = 1000;
            r.stream = [this](plugin::BodySink& sink) {
                log_.runs++;
                (void)sink.write(pattern(0, 500));
                return Status::ok();  // 500 of the 1000 bytes it promised
            };
            return r;
        });
        add("/api/stream/long", [this](const plugin::HttpRequest&) {
            plugin::HttpResponse r;
            r.content_length = 10;
            r.stream = [this](plugin::BodySink& sink) {
                log_.runs++;
                if (!sink.write(pattern(0, 20))) {
                    log_.note_refused();
                }
                return Status::ok();
            };
            return r;
        });
        add("/api/file", [this](const plugin::HttpRequest& request) {
            UniqueFd fd(::open(file_.c_str(), O_RDONLY | O_CLOEXEC));
            FileResponseOptions options;
            options.content_type = "application/octet-stream";
            options.disposition = content_disposition("data.bin");
            return file_response(request, std::make_shared<UniqueFd>(std::move(fd)), options);
        });
        file_ = tmp_.path() / "data.bin";
        std::ofstream(file_, std::ios::binary) << pattern(0, 1000);

        dispatcher_ = std::make_shared<Dispatcher>(routes_, "127.0.0.1", std::vector<std::string>{},
                                                   nullptr, logger_);
        HttpConfig config;
        config.port = 0;
        server_ = std::make_unique<HttpServer>(config, dispatcher_, logger_);
        ASSERT_TRUE(server_->start().is_ok());
        port_ = server_->port();
    }

    void TearDown() override { server_.reset(); }

    void add(const std::string& pattern,
             std::function<plugin::HttpResponse(const plugin::HttpRequest&)> fn) {
        ASSERT_TRUE(routes_->add_route({"GET", pattern, "test", false}, make_handler(std::move(fn)))
                        .is_ok());
    }

    /// Waits (at most 30 s) until the producer's accepted count stops moving for 300 ms.
    std::uint64_t settled_accepted() {
        std::uint64_t last = log_.accepted.load();
        for (int i = 0; i < 100; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            const std::uint64_t now = log_.accepted.load();
            if (now == last && now > 0) {
                return now;
            }
            last = now;
        }
        return last;
    }

    testing::TempDir tmp_;
    std::filesystem::path file_;
    ProducerLog log_;
    std::shared_ptr<spdlog::logger> logger_;
    std::shared_ptr<RouteTable> routes_;
    std::shared_ptr<Dispatcher> dispatcher_;
    std::unique_ptr<HttpServer> server_;
    std::uint16_t port_ = 0;
};

TEST_F(HttpStreamTest, FiftyMebibytesArriveWholeChunked) {
    Client c(port_);
    const Reply r = c.get("/api/stream/big");
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.header(http::field::transfer_encoding), "chunked");
    EXPECT_EQ(r.header(http::field::content_type), "application/octet-stream");
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
    ASSERT_EQ(r.body.size(), kBig);
    EXPECT_TRUE(matches_pattern(r.body));
    // The producer never ran further ahead of the socket than the queue allows.
    EXPECT_GT(server_->stream_queue_peak(), 0U);
    EXPECT_LE(server_->stream_queue_peak(), 4 * kMiB + 256 * 1024);
}

TEST_F(HttpStreamTest, ProducerWaitsForASlowClient) {
    Client c(port_);
    c.write_request(http::verb::get, "/api/stream/big");
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{128} * kMiB);
    http::read_header(c.socket(), c.buffer(), parser);
    // The client reads nothing more: the producer must block (bounded queue plus socket buffers)
    // instead of buffering all 50 MiB in the server.
    const std::uint64_t ahead = settled_accepted();
    EXPECT_LT(ahead, 32 * kMiB);
    http::read(c.socket(), c.buffer(), parser);
    const std::string body = parser.get().body();
    ASSERT_EQ(body.size(), kBig);
    EXPECT_TRUE(matches_pattern(body));
    EXPECT_EQ(log_.accepted.load(), kBig);
}

TEST_F(HttpStreamTest, ClientDisconnectStopsTheProducer) {
    std::future<bool> refused = log_.refused.get_future();
    {
        Client c(port_);
        c.write_request(http::verb::get, "/api/stream/forever");
        http::response_parser<http::string_body> parser;
        http::read_header(c.socket(), c.buffer(), parser);
        std::array<char, 100'000> some{};
        net::read(c.socket(), net::buffer(some));
    }  // closed with unread data: the server's writes fail
    ASSERT_EQ(refused.wait_for(std::chrono::seconds(60)), std::future_status::ready)
        << "the producer never saw write() == false";
    EXPECT_TRUE(refused.get());
}

TEST_F(HttpStreamTest, ProducerErrorTruncatesTheChunkedBody) {
    Client c(port_);
    beast::error_code ec;
    const Reply r = c.send(http::verb::get, "/api/stream/fail", ec);
    EXPECT_EQ(r.status, 200U);  // the header went out before the producer ran
    EXPECT_EQ(ec, http::error::partial_message) << ec.message();
    EXPECT_EQ(log_.runs.load(), 1);
}

TEST_F(HttpStreamTest, ProducerExceptionTruncatesTheBody) {
    Client c(port_);
    beast::error_code ec;
    (void)c.send(http::verb::get, "/api/stream/throw", ec);
    EXPECT_EQ(ec, http::error::partial_message) << ec.message();
}

TEST_F(HttpStreamTest, ContentLengthIsEnforced) {
    {
        Client c(port_);
        beast::error_code ec;
        const Reply r = c.send(http::verb::get, "/api/stream/short", ec);
        EXPECT_EQ(r.header(http::field::content_length), "1000");
        EXPECT_EQ(ec, http::error::partial_message) << ec.message();
    }
    {
        Client c(port_);
        std::future<bool> refused = log_.refused.get_future();
        beast::error_code ec;
        const Reply r = c.send(http::verb::get, "/api/stream/long", ec);
        ASSERT_EQ(refused.wait_for(std::chrono::seconds(30)), std::future_status::ready);
        // The 10 promised bytes never went out (the oversized write was refused whole), and the
        // connection was closed, so nothing else can be read as a next response.
        EXPECT_TRUE(ec) << "got a complete body of " << r.body.size() << " bytes";
    }
}

TEST_F(HttpStreamTest, SizedStreamThenKeepAlive) {
    Client c(port_);
    const Reply r = c.get("/api/stream/sized");
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.header(http::field::content_length), "300000");
    EXPECT_EQ(r.header(http::field::transfer_encoding), "<absent>");
    ASSERT_EQ(r.body.size(), 300'000U);
    EXPECT_TRUE(matches_pattern(r.body));
    EXPECT_TRUE(r.raw.keep_alive());
    // The same connection serves the next request, streamed or not.
    const Reply again = c.get("/api/stream/big");
    EXPECT_EQ(again.body.size(), kBig);
    const Reply file = c.get("/api/file");
    EXPECT_EQ(file.body, pattern(0, 1000));
}

TEST_F(HttpStreamTest, HeadSendsHeadersOnlyAndNeverRunsTheProducer) {
    Client c(port_);
    beast::error_code ec;
    const Reply sized = c.send(http::verb::head, "/api/stream/sized", ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(sized.status, 200U);
    EXPECT_EQ(sized.header(http::field::content_length), "300000");
    EXPECT_TRUE(sized.body.empty());
    const Reply chunked = c.send(http::verb::head, "/api/stream/big", ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(chunked.header(http::field::transfer_encoding), "chunked");
    // Still in step: the next response on the connection is read correctly.
    const Reply file = c.get("/api/file");
    EXPECT_EQ(file.body, pattern(0, 1000));
    EXPECT_EQ(log_.runs.load(), 0);
}

TEST_F(HttpStreamTest, StopCutsARunningStream) {
    std::future<bool> refused = log_.refused.get_future();
    Client c(port_);
    c.write_request(http::verb::get, "/api/stream/forever");
    http::response_parser<http::string_body> parser;
    http::read_header(c.socket(), c.buffer(), parser);
    (void)settled_accepted();  // the producer is blocked on a full queue
    server_->stop();           // returns once the producer has returned
    ASSERT_EQ(refused.wait_for(std::chrono::seconds(0)), std::future_status::ready);
}

TEST_F(HttpStreamTest, FileRangeRequests) {
    Client c(port_);
    const Reply whole = c.get("/api/file");
    EXPECT_EQ(whole.status, 200U);
    EXPECT_EQ(whole.body, pattern(0, 1000));
    EXPECT_EQ(whole.header("Accept-Ranges"), "bytes");
    EXPECT_EQ(whole.header(http::field::content_disposition), "attachment; filename=\"data.bin\"");
    const std::string etag = whole.header(http::field::etag);
    ASSERT_NE(etag, "<absent>");
    ASSERT_NE(whole.header(http::field::last_modified), "<absent>");

    Reply r = c.get("/api/file", {{"Range", "bytes=10-19"}});
    EXPECT_EQ(r.status, 206U);
    EXPECT_EQ(r.header(http::field::content_range), "bytes 10-19/1000");
    EXPECT_EQ(r.body, pattern(0, 1000).substr(10, 10));

    r = c.get("/api/file", {{"Range", "bytes=-5"}});
    EXPECT_EQ(r.status, 206U);
    EXPECT_EQ(r.body, pattern(0, 1000).substr(995));

    r = c.get("/api/file", {{"Range", "bytes=990-5000"}});
    EXPECT_EQ(r.status, 206U);
    EXPECT_EQ(r.header(http::field::content_range), "bytes 990-999/1000");
    EXPECT_EQ(r.body.size(), 10U);

    r = c.get("/api/file", {{"Range", "bytes=1000-"}});
    EXPECT_EQ(r.status, 416U);
    EXPECT_EQ(r.header(http::field::content_range), "bytes */1000");
    EXPECT_THAT(r.body, HasSubstr("RANGE_NOT_SATISFIABLE"));

    // Several ranges, or nonsense: the whole file.
    r = c.get("/api/file", {{"Range", "bytes=0-1,5-6"}});
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.body.size(), 1000U);
    r = c.get("/api/file", {{"Range", "lines=1-2"}});
    EXPECT_EQ(r.status, 200U);

    // If-Range with a stale validator: the whole file; with the current one: the range.
    r = c.get("/api/file", {{"Range", "bytes=0-0"}, {"If-Range", "\"stale\""}});
    EXPECT_EQ(r.status, 200U);
    r = c.get("/api/file", {{"Range", "bytes=0-0"}, {"If-Range", etag}});
    EXPECT_EQ(r.status, 206U);

    r = c.get("/api/file", {{"If-None-Match", etag}});
    EXPECT_EQ(r.status, 304U);
    EXPECT_TRUE(r.body.empty());

    beast::error_code ec;
    r = c.send(http::verb::head, "/api/file", ec);
    ASSERT_FALSE(ec);
    EXPECT_EQ(r.header(http::field::content_length), "1000");
}

TEST(FileResponseUnits, ParseByteRange) {
    using P = std::pair<std::uint64_t, std::uint64_t>;
    EXPECT_EQ(parse_byte_range("bytes=0-0", 10), P(0, 0));
    EXPECT_EQ(parse_byte_range("bytes=3-", 10), P(3, 9));
    EXPECT_EQ(parse_byte_range("bytes=-3", 10), P(7, 9));
    EXPECT_EQ(parse_byte_range("bytes=-30", 10), P(0, 9));
    EXPECT_EQ(parse_byte_range("bytes=5-100", 10), P(5, 9));
    const auto unsat = parse_byte_range("bytes=10-", 10);
    ASSERT_TRUE(unsat);
    EXPECT_GT(unsat->first, unsat->second);
    EXPECT_GT(parse_byte_range("bytes=-0", 10)->first, parse_byte_range("bytes=-0", 10)->second);
    EXPECT_EQ(parse_byte_range("bytes=5-2", 10), std::nullopt);
    EXPECT_EQ(parse_byte_range("bytes=a-b", 10), std::nullopt);
    EXPECT_EQ(parse_byte_range("bytes=1-2,4-5", 10), std::nullopt);
    EXPECT_EQ(parse_byte_range("items=1-2", 10), std::nullopt);
}

TEST(FileResponseUnits, FilenamesAndDisposition) {
    EXPECT_EQ(sanitize_filename("../../etc/passwd"), "_.._etc_passwd");
    EXPECT_EQ(sanitize_filename("a\\b/c.txt"), "a_b_c.txt");
    EXPECT_EQ(sanitize_filename(std::string("x\x01y\r\nz.bin\x7f")), "xyz.bin");
    EXPECT_EQ(sanitize_filename(" .. "), "");
    EXPECT_EQ(content_disposition("model.pth"), "attachment; filename=\"model.pth\"");
    EXPECT_EQ(content_disposition("a\"b.txt"),
              "attachment; filename=\"a_b.txt\"; filename*=UTF-8''a%22b.txt");
    EXPECT_EQ(content_disposition("数据 1.zip"),
              "attachment; filename=\"______ 1.zip\"; "
              "filename*=UTF-8''%E6%95%B0%E6%8D%AE%201.zip");
    EXPECT_EQ(content_disposition(""), "attachment; filename=\"download\"");
    EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
}

}  // namespace
}  // namespace runicorn::http_plugin
