// GET /api/events (API.md §3.3): one Server-Sent Events stream multiplexing the metric, log and
// status changes of up to 50 runs, and the changes of the run list (the `runs` channel).

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "../responses.hpp"
#include "log_tail.hpp"
#include "stream_session.hpp"

namespace runicorn::http_plugin::live {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;

constexpr std::size_t kMaxRuns = 50;
constexpr unsigned kChanMetrics = 1;
constexpr unsigned kChanLogs = 2;
constexpr unsigned kChanStatus = 4;
constexpr unsigned kChanRuns = 8;

std::string sse_event(std::string_view name, std::string_view id, const json::value& data) {
    std::string out = "event: ";
    out += name;
    out += "\nid: ";
    out += id;
    out += "\ndata: ";
    out += json::serialize(data);  // compact JSON never holds a raw newline
    out += "\n\n";
    return out;
}

/// Thread safety: strand-bound (close() and the watch callbacks post to the strand).
class SseSession final : public StreamSession, public std::enable_shared_from_this<SseSession> {
public:
    struct Track {
        plugin::RunInfo run;
        std::string cursor;  // metrics
        std::optional<LogTailer> tailer;
        json::object status;
        std::optional<std::uint64_t> token;
        bool gone = false;  // the run was deleted (drop_track())
    };

    /// Where the `runs` channel starts: after event `seq`; `gap` sends a reset first (the
    /// client's Last-Event-ID is older than the feed keeps, or of another server start).
    struct RunsStart {
        std::uint64_t seq = 0;
        bool gap = false;
    };

    SseSession(tcp::socket&& socket, StreamEnv env, std::vector<Track> tracks, unsigned channels,
               RunsStart runs_start)
        : stream_(std::move(socket)),
          env_(std::move(env)),
          timer_(stream_.get_executor()),
          tracks_(std::move(tracks)),
          channels_(channels),
          runs_seq_(runs_start.seq),
          runs_gap_(runs_start.gap),
          dirty_(tracks_.size(), 0U) {}

    ~SseSession() override { cleanup(); }
    SseSession(const SseSession&) = delete;
    SseSession& operator=(const SseSession&) = delete;
    SseSession(SseSession&&) = delete;
    SseSession& operator=(SseSession&&) = delete;

    void run() {
        set_id_ = env_.sessions->add(weak_from_this());
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->on_run(); });
    }

    void close() override {
        net::post(stream_.get_executor(), [self = shared_from_this()] { self->shutdown(); });
    }

private:
    void on_run() {
        stream_.expires_never();
        send(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
            "X-Frame-Options: DENY\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n"
            "retry: 1000\n\n");
        for (std::size_t i = 0; i < tracks_.size(); ++i) {
            watch(i);
        }
        watch_runs();
        do_read();
        arm_comment();
        pump_all();
    }

    void watch(std::size_t i) {
        if (env_.watch == nullptr) {
            return;
        }
        std::weak_ptr<SseSession> weak = weak_from_this();
        auto token = env_.watch->watch(tracks_[i].run.location.dir, [weak, i](std::string_view n) {
            const unsigned bits = wake_bits_for(n);
            auto self = bits != 0 ? weak.lock() : nullptr;
            if (self == nullptr) {
                return;
            }
            {
                const std::lock_guard lock(self->dirty_mu_);
                self->dirty_[i] |= bits;
            }
            // Always post: the reference taken here must be dropped on the strand, never on the
            // watcher's thread (the destructor unwatches under the watcher's lock).
            net::post(self->stream_.get_executor(), [self] { self->on_wake(); });
        });
        if (token) {
            tracks_[i].token = *token;
        }
    }

    void watch_runs() {
        if ((channels_ & kChanRuns) == 0 || env_.runs_feed == nullptr) {
            return;
        }
        std::weak_ptr<SseSession> weak = weak_from_this();
        runs_waker_ = env_.runs_feed->add_waker([weak] {
            if (auto self = weak.lock()) {
                // Posted, so the reference is dropped on the strand (see watch()).
                net::post(self->stream_.get_executor(), [self] { self->pump_runs(); });
            }
        });
    }

    void pump_runs() {
        if ((channels_ & kChanRuns) == 0 || env_.runs_feed == nullptr || closed_) {
            return;
        }
        if (high()) {
            behind_ = true;
            return;
        }
        bool gap = false;
        std::vector<RunsFeed::Event> events = env_.runs_feed->since(runs_seq_, gap);
        if (gap || runs_gap_) {
            runs_gap_ = false;
            // The client missed run-list changes: it refetches the list (GET /api/runs).
            runs_seq_ = env_.runs_feed->last_seq();
            send("event: reset\nid: " + event_id() +
                 "\ndata: {\"reason\":\"runs_gap\",\"channel\":\"runs\"}\n\n");
            events = env_.runs_feed->since(runs_seq_, gap);
        }
        for (RunsFeed::Event& e : events) {
            if (closed_) {
                return;
            }
            runs_seq_ = e.seq;
            std::string text = "event: runs\nid: ";
            text += event_id();
            text += "\ndata: ";
            text += e.data;
            text += "\n\n";
            send(std::move(text));
        }
    }

    void on_wake() {
        std::vector<unsigned> bits;
        {
            const std::lock_guard lock(dirty_mu_);
            bits.assign(dirty_.size(), 0U);
            bits.swap(dirty_);
        }
        for (std::size_t i = 0; i < bits.size() && !closed_; ++i) {
            if ((bits[i] & kWakeData) != 0) {
                pump(i);
                std::error_code ec;
                if (!tracks_[i].gone && (bits[i] & kWakeStatus) == 0 &&
                    !std::filesystem::exists(tracks_[i].run.location.dir, ec) && !ec) {
                    drop_track(i);  // purged: the folder went with its files
                }
            }
            if ((bits[i] & kWakeStatus) != 0) {
                check_status(i);
            }
        }
    }

    /// "<metrics cursor>~<log offset>" per run, comma-separated, then with the runs channel
    /// ";r<feed epoch>.<runs seq>".
    std::string event_id() const {
        std::string id;
        for (const Track& t : tracks_) {
            if (!id.empty()) {
                id.push_back(',');
            }
            id += t.cursor + "~" + std::to_string(t.tailer ? t.tailer->offset() : 0);
        }
        if ((channels_ & kChanRuns) != 0 && env_.runs_feed != nullptr) {
            id += ";r" + env_.runs_feed->epoch() + "." + std::to_string(runs_seq_);
        }
        return id;
    }

    void pump_all() {
        for (std::size_t i = 0; i < tracks_.size(); ++i) {
            pump(i);
        }
        pump_runs();
    }

    void pump(std::size_t i) {
        Track& t = tracks_[i];
        if (t.gone) {
            return;
        }
        if ((channels_ & kChanMetrics) != 0) {
            bool at_end = false;
            while (!at_end && !high() && !closed_) {
                auto batch = env_.services.series->read_records(
                    t.run.location.dir, t.cursor, env_.options.read_chunk_bytes, false);
                if (!batch) {
                    break;
                }
                at_end = batch->at_end;
                t.cursor = batch->cursor;
                json::array rows;
                for (const plugin::MetricRecord& r : batch->records) {
                    json::object row;
                    row["global_step"] =
                        r.global_step ? json::value(*r.global_step) : json::value(nullptr);
                    row["time"] = r.time && std::isfinite(*r.time) ? json::value(*r.time)
                                                                   : json::value(nullptr);
                    row["stage"] = r.stage ? json::value(*r.stage) : json::value(nullptr);
                    row["values"] = r.values;
                    rows.emplace_back(std::move(row));
                }
                if (!rows.empty()) {
                    json::object data;
                    data["run_id"] = t.run.location.run_id;
                    data["rows"] = std::move(rows);
                    send(sse_event("metrics", event_id(), data));
                }
            }
        }
        if ((channels_ & kChanLogs) != 0 && t.tailer) {
            bool more = true;
            while (more && !high() && !closed_) {
                auto chunk = t.tailer->read(env_.options.read_chunk_bytes, more);
                if (!chunk) {
                    break;
                }
                if (chunk->lines.empty()) {
                    continue;
                }
                json::object data;
                data["run_id"] = t.run.location.run_id;
                data["first_line"] = chunk->first_line;
                json::array lines;
                for (const std::string& l : chunk->lines) {
                    lines.emplace_back(l);
                }
                data["lines"] = std::move(lines);
                send(sse_event("log", event_id(), data));
            }
        }
        if (high()) {
            behind_ = true;
        }
    }

    void check_status(std::size_t i) {
        Track& t = tracks_[i];
        if (t.gone) {
            return;
        }
        auto run = env_.services.runs->read_run(t.run.location);
        if (run_gone(run)) {
            return drop_track(i);
        }
        if ((channels_ & kChanStatus) == 0) {
            return;
        }
        if (!run) {
            return;
        }
        json::object now = status_fields(*run);
        if (now == t.status) {
            return;
        }
        t.status = now;
        json::object data;
        data["run_id"] = t.run.location.run_id;
        for (auto& kv : now) {
            data.emplace(kv.key(), kv.value());
        }
        send(sse_event("status", event_id(), data));
    }

    /// The run of track `i` was deleted: one `error` event, then nothing more about it; the
    /// stream ends when it has nothing left to follow.
    void drop_track(std::size_t i) {
        Track& t = tracks_[i];
        t.gone = true;
        if (t.token && env_.watch != nullptr) {
            env_.watch->unwatch(*t.token);
        }
        t.token.reset();
        json::object data;
        data["run_id"] = t.run.location.run_id;
        data["detail"] = "run deleted";
        send(sse_event("error", event_id(), data));
        const bool any_left = std::any_of(tracks_.begin(), tracks_.end(),
                                          [](const Track& other) { return !other.gone; });
        if (!any_left && (channels_ & kChanRuns) == 0) {
            finishing_ = true;
            if (!writing_) {
                shutdown();
            }
        }
    }

    bool high() const { return queued_bytes_ >= env_.options.high_water_bytes; }

    void send(std::string text) {
        if (closed_) {
            return;
        }
        queued_bytes_ += text.size();
        queue_.push_back(std::make_shared<const std::string>(std::move(text)));
        if (queued_bytes_ > env_.options.slow_consumer_bytes) {
            while (queue_.size() > (writing_ ? 1U : 0U)) {
                queued_bytes_ -= queue_.back()->size();
                queue_.pop_back();
            }
            const std::string reset = "event: reset\ndata: {\"reason\":\"slow_consumer\"}\n\n";
            queued_bytes_ += reset.size();
            queue_.push_back(std::make_shared<const std::string>(reset));
            finishing_ = true;
        }
        if (!writing_) {
            do_write();
        }
    }

    void do_write() {
        if (queue_.empty()) {
            writing_ = false;
            if (finishing_) {
                shutdown();
            }
            return;
        }
        writing_ = true;
        stream_.expires_after(std::chrono::seconds(30));
        net::async_write(stream_, net::buffer(*queue_.front()),
                         beast::bind_front_handler(&SseSession::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t /*n*/) {
        if (ec) {
            writing_ = false;
            return shutdown();
        }
        stream_.expires_never();
        queued_bytes_ -= queue_.front()->size();
        queue_.pop_front();
        if (behind_ && queued_bytes_ < env_.options.high_water_bytes / 2 && !finishing_) {
            behind_ = false;
            pump_all();
        }
        do_write();
    }

    void do_read() {
        stream_.async_read_some(
            net::buffer(read_buf_),
            beast::bind_front_handler(&SseSession::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t /*n*/) {
        if (ec) {
            return shutdown();  // the client went away
        }
        do_read();  // a client sends nothing on an event stream; ignore it
    }

    void arm_comment() {
        timer_.expires_after(env_.options.sse_comment_interval);
        timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
            auto self = weak.lock();
            if (ec || self == nullptr || self->closed_) {
                return;
            }
            self->send(": keep-alive\n\n");
            self->arm_comment();
        });
    }

    void shutdown() {
        if (closed_) {
            return;
        }
        closed_ = true;
        timer_.cancel();
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
        cleanup();
    }

    void cleanup() noexcept {
        if (runs_waker_ != 0 && env_.runs_feed != nullptr) {
            env_.runs_feed->remove_waker(runs_waker_);
            runs_waker_ = 0;
        }
        for (Track& t : tracks_) {
            if (t.token && env_.watch != nullptr) {
                env_.watch->unwatch(*t.token);
            }
            t.token.reset();
        }
        if (set_id_ != 0) {
            env_.sessions->remove(set_id_);
            set_id_ = 0;
        }
    }

    beast::tcp_stream stream_;
    const StreamEnv env_;
    net::steady_timer timer_;
    std::vector<Track> tracks_;
    const unsigned channels_;
    std::uint64_t runs_seq_ = 0;    // the last runs event sent
    bool runs_gap_ = false;         // send a runs reset before the next runs event
    std::uint64_t runs_waker_ = 0;  // RunsFeed waker id; 0: none
    std::deque<std::shared_ptr<const std::string>> queue_;
    std::size_t queued_bytes_ = 0;
    bool writing_ = false;
    bool finishing_ = false;
    bool closed_ = false;
    bool behind_ = false;
    std::array<char, 512> read_buf_{};
    std::uint64_t set_id_ = 0;
    std::mutex dirty_mu_;
    std::vector<unsigned> dirty_;  // guarded by dirty_mu_
};

/// Where the runs channel resumes for the Last-Event-ID part "r<epoch>.<seq>": after `seq` when
/// it belongs to this feed, else from now with a reset first.
SseSession::RunsStart runs_resume(std::string_view part, const RunsFeed& feed) {
    SseSession::RunsStart start{feed.last_seq(), true};
    if (!part.starts_with('r')) {
        return start;
    }
    part.remove_prefix(1);
    const auto dot = part.rfind('.');
    if (dot == std::string_view::npos || part.substr(0, dot) != feed.epoch()) {
        return start;
    }
    const std::string_view num = part.substr(dot + 1);
    std::uint64_t seq = 0;
    const auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), seq);
    if (ec != std::errc() || ptr != num.data() + num.size() || num.empty()) {
        return start;
    }
    bool gap = false;
    (void)feed.since(seq, gap);
    if (!gap) {
        start = {seq, false};
    }
    return start;
}

}  // namespace

void start_event_stream(tcp::socket socket, http::request<http::string_body> raw,
                        plugin::HttpRequest request, const StreamEnv& env) {
    const unsigned version = raw.version();
    if (env.services.runs == nullptr || env.services.series == nullptr) {
        return send_plain_response(std::move(socket), storage_missing(), version);
    }
    // Default: metrics, logs and status of the runs named; without `runs=`, the run list
    // (where the store reports changes).
    const bool runs_named = !split_list(request.query_value("runs").value_or("")).empty();
    unsigned channels = kChanMetrics | kChanLogs | kChanStatus |
                        (!runs_named && env.runs_feed != nullptr ? kChanRuns : 0U);
    if (auto c = request.query_value("channels")) {
        channels = 0;
        for (const std::string& name : split_list(*c)) {
            if (name == "metrics") {
                channels |= kChanMetrics;
            } else if (name == "logs" || name == "log") {
                channels |= kChanLogs;
            } else if (name == "status") {
                channels |= kChanStatus;
            } else if (name == "runs") {
                if (env.runs_feed == nullptr) {
                    return send_plain_response(
                        std::move(socket),
                        error_response(503, "UNAVAILABLE",
                                       "Run-list change events are not available"),
                        version);
                }
                channels |= kChanRuns;
            } else {
                return send_plain_response(
                    std::move(socket),
                    validation_error({"query", "channels"},
                                     "Input should be metrics, logs, status or runs",
                                     "literal_error"),
                    version);
            }
        }
    }
    const std::vector<std::string> ids = split_list(request.query_value("runs").value_or(""));
    if (ids.size() > kMaxRuns) {
        return send_plain_response(
            std::move(socket),
            validation_error({"query", "runs"}, "at most 50 runs per stream", "value_error"),
            version);
    }
    // Last-Event-ID: "<metrics cursor>~<log offset>" per run, in the order of `runs`, then
    // ";r<epoch>.<seq>" for the runs channel.
    std::vector<std::string> resume;
    SseSession::RunsStart runs_start;
    if ((channels & kChanRuns) != 0) {
        runs_start.seq = env.runs_feed->last_seq();
    }
    if (auto last = request.header("last-event-id")) {
        std::string_view rest = *last;
        if (const auto semi = rest.rfind(';'); semi != std::string_view::npos) {
            const std::string_view runs_part = rest.substr(semi + 1);
            rest = rest.substr(0, semi);
            if ((channels & kChanRuns) != 0) {
                runs_start = runs_resume(runs_part, *env.runs_feed);
            }
        }
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            resume.emplace_back(rest.substr(0, comma));
            if (comma == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(comma + 1);
        }
    }
    std::vector<SseSession::Track> tracks;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        auto run = env.services.runs->find_run(ids[i], false);
        if (!run) {
            return send_plain_response(std::move(socket), run_not_found(), version);
        }
        SseSession::Track t;
        t.run = std::move(*run);
        t.status = status_fields(t.run);
        std::optional<std::uint64_t> log_since;
        if (i < resume.size() && resume.size() == ids.size()) {
            const auto tilde = resume[i].find('~');
            t.cursor = resume[i].substr(0, tilde);
            if (tilde != std::string::npos) {
                try {
                    log_since = std::stoull(resume[i].substr(tilde + 1));
                } catch (const std::exception&) {
                    log_since.reset();
                }
            }
            auto probe = env.services.series->read_records(t.run.location.dir, t.cursor, 1, false);
            if (!probe) {
                t.cursor.clear();  // not one of ours: start from the current end below
            }
        }
        if (t.cursor.empty()) {
            auto mk = env.services.series->metric_keys(t.run.location.run_id);
            if (mk) {
                t.cursor = std::string(mk->at("cursor").as_string());
            }
        }
        t.tailer.emplace(t.run.location.dir / "logs.txt");
        (void)t.tailer->start(log_since, 0, true);
        tracks.push_back(std::move(t));
    }
    std::make_shared<SseSession>(std::move(socket), env, std::move(tracks), channels, runs_start)
        ->run();
}

}  // namespace runicorn::http_plugin::live
