#pragma once

// Internals of the live streams (API.md §3) shared by the WebSocket and SSE sessions.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/object.hpp>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/plugin/run_store.hpp>

#include "file_watch.hpp"
#include "live_common.hpp"
#include "runs_feed.hpp"

namespace runicorn::http_plugin::live {

/// Tunables of the streams (API.md §3). Tests shorten the timeouts.
struct StreamOptions {
    std::chrono::seconds log_idle_timeout{3600};  ///< §3.1 item 5
    std::chrono::seconds ping_interval{30};       ///< WebSocket pings (§3.1 item 6)
    std::chrono::seconds sse_comment_interval{15};
    std::size_t max_client_message = 64 * 1024;              ///< close 1009 beyond (§1.3)
    std::size_t slow_consumer_bytes = std::size_t{4} << 20;  ///< reset beyond (§3.2)
    std::size_t read_chunk_bytes = 256 * 1024;               ///< bytes read from a file per step
    std::size_t high_water_bytes = 1024 * 1024;  ///< stop reading while this much is queued
};

/// Something the hub can close at shutdown. Thread safety: close() may be called from any
/// thread (it posts to the session's strand).
class StreamSession {
public:
    virtual ~StreamSession() = default;
    StreamSession(const StreamSession&) = delete;
    StreamSession& operator=(const StreamSession&) = delete;
    StreamSession(StreamSession&&) = delete;
    StreamSession& operator=(StreamSession&&) = delete;
    virtual void close() = 0;

protected:
    StreamSession() = default;
};

/// The streams alive, so that stop() can close them and wait. Thread safety: safe for
/// concurrent use.
class SessionSet {
public:
    std::uint64_t add(std::weak_ptr<StreamSession> s);
    void remove(std::uint64_t id) noexcept;
    /// Closes every session and waits up to `timeout` for them to go away.
    void close_all(std::chrono::milliseconds timeout) noexcept;
    std::size_t size() const;

private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::unordered_map<std::uint64_t, std::weak_ptr<StreamSession>> sessions_;
    std::uint64_t next_ = 1;
};

/// What every session gets from the hub. Thread safety: immutable after construction except
/// through the members' own synchronisation.
struct StreamEnv {
    LiveServices services;
    StreamOptions options;
    std::shared_ptr<FileWatchHub> watch;  ///< may be null (no inotify): streams then only replay
    std::shared_ptr<SessionSet> sessions;
    /// The `runs` channel's source; null when the run store cannot report changes.
    std::shared_ptr<RunsFeed> runs_feed;
};

/// Bits of StreamWake: what changed in a run folder.
inline constexpr unsigned kWakeData = 1;    ///< events.jsonl or logs.txt
inline constexpr unsigned kWakeStatus = 2;  ///< status.json, .heartbeat.json or .deleted
inline constexpr unsigned kWakeAll = 3;

/// The wake bits for a file name reported by FileWatchHub ("" = everything).
unsigned wake_bits_for(std::string_view name);

/// "alive", "unknown", "stale", "dead", or for an unchecked run "unknown" while running, else
/// "ended" (as the runs API reports liveness).
std::string liveness_name(const plugin::RunInfo& run);

/// {"status", "liveness", "ended_at", "exit_reason"} of a run (the §3.2 status frame fields).
boost::json::object status_fields(const plugin::RunInfo& run);

/// True when a stream's run was soft-deleted or removed since it opened: `run` (read_run() of
/// its location) failed with NOT_FOUND or carries a `.deleted` marker. Streams then send an
/// error ("run deleted") and end.
bool run_gone(const Result<plugin::RunInfo>& run);

/// Writes `response` as a complete HTTP/1.1 message with Connection: close and the security
/// headers, then closes the socket (a refusal before an upgrade is a plain HTTP error, §3).
void send_plain_response(boost::asio::ip::tcp::socket socket, plugin::HttpResponse response,
                         unsigned version);

/// Starts a log WebSocket (API.md §3.1). The request passed the admission checks.
void start_log_stream(boost::asio::ip::tcp::socket socket,
                      boost::beast::http::request<boost::beast::http::string_body> raw,
                      plugin::HttpRequest request, std::string run_id, const StreamEnv& env);

/// Starts a metric WebSocket (API.md §3.2).
void start_metric_stream(boost::asio::ip::tcp::socket socket,
                         boost::beast::http::request<boost::beast::http::string_body> raw,
                         plugin::HttpRequest request, std::string run_id, const StreamEnv& env);

/// Starts the SSE stream GET /api/events (API.md §3.3).
void start_event_stream(boost::asio::ip::tcp::socket socket,
                        boost::beast::http::request<boost::beast::http::string_body> raw,
                        plugin::HttpRequest request, const StreamEnv& env);

/// A WebSocket session: accepts the upgrade, queues text frames with one write in flight,
/// reads client messages (64 KiB limit, close 1009), pings, wakes on file notifications and
/// resets a slow consumer. Subclasses fill on_open(), on_wake() and on_text().
///
/// Thread safety: strand-bound (close() and the watch callback post to the strand).
class WsSession : public StreamSession, public std::enable_shared_from_this<WsSession> {
public:
    WsSession(boost::asio::ip::tcp::socket&& socket, StreamEnv env);
    ~WsSession() override;
    WsSession(const WsSession&) = delete;
    WsSession& operator=(const WsSession&) = delete;
    WsSession(WsSession&&) = delete;
    WsSession& operator=(WsSession&&) = delete;

    /// Accepts the upgrade `raw` on the strand.
    void run(boost::beast::http::request<boost::beast::http::string_body> raw);
    void close() override;

protected:
    /// After the handshake.
    virtual void on_open() = 0;
    /// A file of the watched folder changed (`bits`: kWake*).
    virtual void on_wake(unsigned bits) = 0;
    /// A text message from the client.
    virtual void on_text(std::string_view text) { (void)text; }
    /// The queue fell below the high-water mark after having been above it.
    virtual void on_drained() {}
    /// The frame sent instead of the queue when the client falls behind; "" sends none.
    virtual std::string slow_consumer_frame() const { return ""; }

    /// Queues one text frame.
    void send(std::string text);
    /// Sends what is queued, then closes with `code`.
    void finish(
        boost::beast::websocket::close_code code = boost::beast::websocket::close_code::normal);
    /// Watches `dir`; wakes on_wake() on the strand. False when watching is unavailable.
    bool watch_dir(const std::filesystem::path& dir);
    bool above_high_water() const { return queued_bytes_ >= env_.options.high_water_bytes; }
    bool finishing() const { return finishing_ || closed_; }

    const StreamEnv env_;
    boost::asio::steady_timer timer_;

private:
    void on_accept(boost::beast::error_code ec);
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void do_write();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    void do_close();
    void on_close(boost::beast::error_code ec);
    void cleanup() noexcept;
    void wake();

    boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
    boost::beast::flat_buffer read_buffer_;
    std::deque<std::shared_ptr<const std::string>> queue_;
    std::size_t queued_bytes_ = 0;
    bool writing_ = false;
    bool finishing_ = false;
    bool closing_ = false;
    bool closed_ = false;
    bool was_high_ = false;
    boost::beast::websocket::close_code close_code_ = boost::beast::websocket::close_code::normal;
    std::optional<std::uint64_t> watch_token_;
    std::uint64_t set_id_ = 0;
    std::atomic<unsigned> pending_{0};
};

}  // namespace runicorn::http_plugin::live
