// WS /api/runs/{run_id}/logs/ws (API.md §3.1): COMPAT text frames, or JSON frames with
// format=json.

#include <charconv>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "../responses.hpp"
#include "log_tail.hpp"
#include "stream_session.hpp"

namespace runicorn::http_plugin::live {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;

constexpr std::size_t kDefaultTail = 10000;
constexpr std::size_t kMaxTail = 100000;
constexpr std::size_t kJsonFrameBytes = 64 * 1024;

struct LogParams {
    std::size_t tail = kDefaultTail;
    std::optional<std::uint64_t> since;
    bool json = false;
};

/// Reads ?tail=, ?since=, ?format=; nullopt with `error` set for a bad value.
std::optional<LogParams> parse_params(const plugin::HttpRequest& req, std::string& error) {
    LogParams p;
    const auto number = [](const std::string& s, std::uint64_t& out) {
        const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
        return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
    };
    if (auto t = req.query_value("tail")) {
        std::uint64_t v = 0;
        if (!number(*t, v)) {
            error = "tail";
            return std::nullopt;
        }
        p.tail = static_cast<std::size_t>(std::min<std::uint64_t>(v, kMaxTail));
    }
    if (auto s = req.query_value("since")) {
        std::uint64_t v = 0;
        if (!number(*s, v)) {
            error = "since";
            return std::nullopt;
        }
        p.since = v;
    }
    if (auto f = req.query_value("format")) {
        if (*f != "json" && *f != "text") {
            error = "format";
            return std::nullopt;
        }
        p.json = *f == "json";
    }
    return p;
}

std::string timeout_text(std::chrono::seconds s) {
    if (s.count() % 3600 == 0) {
        const auto h = s.count() / 3600;
        return std::to_string(h) + (h == 1 ? " hour" : " hours");
    }
    return std::to_string(s.count()) + " seconds";
}

/// Thread safety: strand-bound.
class LogSession final : public WsSession {
public:
    LogSession(tcp::socket&& socket, StreamEnv env, std::string run_id, LogParams params)
        : WsSession(std::move(socket), std::move(env)),
          run_id_(std::move(run_id)),
          params_(params) {}

private:
    void on_open() override {
        if (env_.services.runs == nullptr) {
            error("storage plugin not loaded");
            return finish();
        }
        auto run = env_.services.runs->find_run(run_id_, false);
        if (!run) {
            error("run not found");
            return finish();
        }
        location_ = run->location;
        running_ = run->status == "running";
        tailer_.emplace(location_.dir / "logs.txt");
        watch_dir(location_.dir);
        arm_idle_timer();
        if (!tailer_->exists()) {
            waiting_ = true;
            info("No logs available yet. Waiting for logs to be created...");
            return;
        }
        begin();
    }

    void begin() {
        auto cut = tailer_->start(params_.since, params_.tail, params_.json);
        if (!cut) {
            error(cut.error().message());
            return finish();
        }
        offset_before_ = tailer_->offset();
        if (*cut && !params_.since) {
            info("Showing last " + std::to_string(params_.tail) +
                 " lines. Full log file: logs.txt");
        }
        pump();
    }

    void on_wake(unsigned bits) override {
        if (waiting_) {
            if (!tailer_->exists()) {
                return;
            }
            waiting_ = false;
            info("Logs are now available, streaming...");
            params_.since = 0;
            begin();
        } else if ((bits & kWakeData) != 0) {
            pump();
        }
        if ((bits & kWakeStatus) != 0) {
            check_status();
        }
    }

    void on_drained() override { pump(); }

    std::string slow_consumer_frame() const override {
        if (params_.json) {
            return R"({"type":"reset","reason":"slow_consumer"})";
        }
        return "[error] client too slow; reconnect to continue";
    }

    /// Sends complete lines until caught up or the queue is full (then on_drained resumes).
    void pump() {
        if (waiting_ || finishing()) {
            return;
        }
        bool more = true;
        while (more && !above_high_water() && !finishing()) {
            auto chunk = tailer_->read(env_.options.read_chunk_bytes, more);
            if (!chunk) {
                error(chunk.error().message());
                return;
            }
            emit(*chunk);
        }
    }

    void check_status() {
        auto run = env_.services.runs->read_run(location_);
        if (run_gone(run)) {
            error("run deleted");
            return finish();
        }
        if (!run) {
            return;
        }
        running_ = run->status == "running";
        if (!running_ && !waiting_) {
            pump();
            auto partial = tailer_->flush_partial();
            if (partial && *partial) {
                emit(**partial);
            }
        }
    }

    void emit(const LogChunk& chunk) {
        if (chunk.reset && params_.json) {
            send(R"({"type":"reset","reason":"file_truncated"})");
        }
        if (chunk.lines.empty()) {
            return;
        }
        arm_idle_timer();
        if (!params_.json) {
            for (const std::string& line : chunk.lines) {
                send(line);
            }
            return;
        }
        // Batches of at most 64 KiB (a longer line goes alone). `offset` is exact only for the
        // last batch of a chunk; earlier batches carry the chunk's start so that a resume
        // repeats rather than skips.
        std::size_t i = 0;
        std::uint64_t first = chunk.first_line;
        while (i < chunk.lines.size()) {
            json::array lines;
            std::size_t bytes = 0;
            const std::size_t start = i;
            while (i < chunk.lines.size() &&
                   (i == start || bytes + chunk.lines[i].size() <= kJsonFrameBytes)) {
                bytes += chunk.lines[i].size();
                lines.emplace_back(chunk.lines[i]);
                ++i;
            }
            json::object frame;
            frame["type"] = "lines";
            frame["first_line"] = first;
            frame["offset"] = i == chunk.lines.size() ? chunk.offset : offset_before_;
            frame["lines"] = std::move(lines);
            send(json::serialize(frame));
            first += i - start;
        }
        offset_before_ = chunk.offset;
    }

    void info(const std::string& message) {
        if (params_.json) {
            json::object o;
            o["type"] = "info";
            o["message"] = message;
            send(json::serialize(o));
        } else {
            send("[info] " + message);
        }
    }

    void error(const std::string& detail) {
        if (params_.json) {
            json::object o;
            o["type"] = "error";
            o["detail"] = detail;
            send(json::serialize(o));
        } else {
            send("[error] " + detail);
        }
    }

    void arm_idle_timer() {
        timer_.expires_after(env_.options.log_idle_timeout);
        timer_.async_wait(
            [weak = std::weak_ptr<WsSession>(shared_from_this()), this](beast::error_code ec) {
                if (ec) {
                    return;  // re-armed or cancelled
                }
                if (auto self = weak.lock()) {
                    info("Connection timeout after " + timeout_text(env_.options.log_idle_timeout) +
                         " of inactivity");
                    finish();
                }
            });
    }

    const std::string run_id_;
    LogParams params_;
    plugin::RunLocation location_;
    std::optional<LogTailer> tailer_;
    bool running_ = false;
    bool waiting_ = false;
    std::uint64_t offset_before_ = 0;
};

}  // namespace

void start_log_stream(tcp::socket socket, http::request<http::string_body> raw,
                      plugin::HttpRequest request, std::string run_id, const StreamEnv& env) {
    std::string bad;
    auto params = parse_params(request, bad);
    if (!params) {
        send_plain_response(
            std::move(socket),
            validation_error({"query", bad}, "Input should be a valid value", "value_error"),
            raw.version());
        return;
    }
    auto session = std::make_shared<LogSession>(std::move(socket), env, std::move(run_id), *params);
    session->run(std::move(raw));
}

}  // namespace runicorn::http_plugin::live
