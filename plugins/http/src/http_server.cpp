#include "http_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/message_generator.hpp>

#include "guard/connection_limiter.hpp"
#include "guard/security_headers.hpp"
#include "responses.hpp"
#include <sys/resource.h>

namespace runicorn::http_plugin {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr auto kHeaderTimeout = std::chrono::seconds(10);
constexpr auto kBodyTimeout = std::chrono::seconds(30);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr auto kShutdownGrace = std::chrono::seconds(10);
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
// The request line and the header block are limited separately (8 KiB each, API.md §1.3);
// the parser's own limit covers both plus slack, and the split is checked after parsing.
constexpr std::size_t kRequestLineLimit = 8 * 1024;
constexpr std::size_t kHeaderBlockLimit = 8 * 1024;
constexpr std::uint32_t kHeaderLimit = kRequestLineLimit + kHeaderBlockLimit + 1024;
constexpr auto kRefusalLinger = std::chrono::seconds(2);
constexpr std::uint64_t kBodyLimit = std::uint64_t{1024} * 1024;
constexpr std::size_t kMaxHeaderCount = 100;
// Streamed bodies (HttpResponse::stream): a producer may run at most this far ahead of the
// socket; its writes are cut into pieces of at most kStreamPiece bytes.
constexpr std::size_t kStreamQueueLimit = std::size_t{4} * 1024 * 1024;
constexpr std::size_t kStreamPiece = std::size_t{256} * 1024;
// Producers run on their own threads, never on the I/O threads; more streams than this wait
// for a free thread.
constexpr unsigned kProducerThreads = 16;

class HttpSession;
class BlockingPool;

/// The sessions alive, so that stop() can reach them and wait for them.
/// Thread safety: safe for concurrent use.
class SessionRegistry {
public:
    /// Records a session; false when the server is stopping (the caller closes the connection).
    bool add(std::uint64_t id, std::weak_ptr<HttpSession> session) {
        const std::lock_guard lock(mutex_);
        if (stopping_) {
            return false;
        }
        sessions_.emplace(id, std::move(session));
        return true;
    }

    void remove(std::uint64_t id) noexcept {
        {
            const std::lock_guard lock(mutex_);
            sessions_.erase(id);
        }
        cv_.notify_all();
    }

    /// Refuses new sessions from now on; returns those alive.
    std::vector<std::shared_ptr<HttpSession>> begin_stop() {
        std::vector<std::shared_ptr<HttpSession>> out;
        const std::lock_guard lock(mutex_);
        stopping_ = true;
        for (const auto& [id, weak] : sessions_) {
            if (auto session = weak.lock()) {
                out.push_back(std::move(session));
            }
        }
        return out;
    }

    bool stopping() const {
        const std::lock_guard lock(mutex_);
        return stopping_;
    }

    /// Waits until no session is left or `timeout` passes; returns how many are left.
    std::size_t wait_empty(std::chrono::steady_clock::duration timeout) {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, timeout, [this] { return sessions_.empty(); });
        return sessions_.size();
    }

    std::uint64_t next_id() {
        const std::lock_guard lock(mutex_);
        return next_id_++;
    }

    /// The oldest session still waiting for (the rest of) a request header that has not been
    /// evicted yet, or null (API.md §1.3: at the total cap it is closed to make room).
    std::shared_ptr<HttpSession> oldest_awaiting_header();

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::map<std::uint64_t, std::weak_ptr<HttpSession>> sessions_;  // ordered: oldest first
    std::uint64_t next_id_ = 1;
};

/// What the listener and the sessions share. Thread safety: safe for concurrent use.
struct SharedState {
    SharedState(std::size_t max_connections, std::size_t max_per_peer)
        : limiter(max_connections, max_per_peer) {}

    std::shared_ptr<Dispatcher> dispatcher;
    std::shared_ptr<spdlog::logger> logger;
    SessionRegistry registry;
    ConnectionLimiter limiter;
    std::shared_ptr<StreamUpgrader> streams;  // live: WebSocket/SSE hand-over; may be null
    std::chrono::steady_clock::duration header_timeout = kHeaderTimeout;
    std::chrono::steady_clock::duration body_timeout = kBodyTimeout;
    std::filesystem::path spool_dir;                // large request bodies (HttpConfig)
    std::shared_ptr<BlockingPool> producers;        // runs the producers of streamed bodies
    std::atomic<std::size_t> stream_queue_peak{0};  // most bytes one stream had queued
};

/// Runs body producers (blocking work) off the I/O threads: up to `max_threads` threads, started
/// on demand; tasks beyond that wait in order. stop() lets the queued and running tasks finish
/// and joins the threads. Thread safety: safe for concurrent use.
class BlockingPool {
public:
    explicit BlockingPool(unsigned max_threads) : max_threads_(max_threads) {}
    ~BlockingPool() { stop(); }
    BlockingPool(const BlockingPool&) = delete;
    BlockingPool& operator=(const BlockingPool&) = delete;
    BlockingPool(BlockingPool&&) = delete;
    BlockingPool& operator=(BlockingPool&&) = delete;

    /// Queues `task`; false (and `task` dropped) once stop() was called or no thread can start.
    bool post(std::function<void()> task) {
        std::unique_lock lock(mutex_);
        if (stopping_) {
            return false;
        }
        tasks_.push_back(std::move(task));
        if (idle_ < tasks_.size() && threads_.size() < max_threads_) {
            try {
                threads_.emplace_back([this] { work(); });
            } catch (const std::system_error&) {
                if (threads_.empty()) {
                    tasks_.pop_back();
                    return false;
                }
            }
        }
        lock.unlock();
        cv_.notify_one();
        return true;
    }

    /// Refuses new tasks, waits for the queued and running ones, joins the threads. Idempotent.
    void stop() noexcept {
        std::vector<std::thread> threads;
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
            threads.swap(threads_);
        }
        cv_.notify_all();
        for (std::thread& t : threads) {
            if (t.joinable()) {
                t.join();
            }
        }
    }

private:
    void work() noexcept {
        std::unique_lock lock(mutex_);
        while (true) {
            ++idle_;
            cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
            --idle_;
            if (tasks_.empty()) {
                return;  // stopping and nothing left
            }
            std::function<void()> task = std::move(tasks_.front());
            tasks_.pop_front();
            lock.unlock();
            try {
                task();
            } catch (...) {  // NOLINT(bugprone-empty-catch): tasks catch their own; last resort
            }
            task = nullptr;  // release what it holds before taking the lock again
            lock.lock();
        }
    }

    const unsigned max_threads_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    std::vector<std::thread> threads_;
    std::size_t idle_ = 0;
    bool stopping_ = false;
};

/// The pieces of one streamed body on their way from the producer thread to the connection's
/// strand: a bounded queue (kStreamQueueLimit) plus the end-of-stream state.
/// Thread safety: safe for concurrent use (every member is guarded by `mutex`).
struct StreamChannel {
    std::mutex mutex;
    std::condition_variable space;  // signalled when bytes leave the queue or it closes
    std::deque<std::string> pieces;
    std::size_t queued = 0;
    bool closed = false;       // the socket failed, timed out or the server stops: give up
    bool writer_idle = false;  // the strand waits for a piece or the end: wake it
    bool done = false;         // the producer returned
    Status result = Status::ok();

    /// Marks the channel closed and wakes a producer waiting for space.
    void close() {
        {
            const std::lock_guard lock(mutex);
            closed = true;
        }
        space.notify_all();
    }
};

std::string to_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool header_text_ok(std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Headers the server owns; a handler's copies are dropped.
bool server_owned_header(std::string_view lower_name) {
    return lower_name == "content-length" || lower_name == "transfer-encoding" ||
           lower_name == "connection";
}

/// Copies a handler's status and headers into `res`: security headers (API.md §1.4) unless the
/// handler set them, Cache-Control no-store by default, Connection per `keep_alive`. Headers the
/// server owns (Content-Length, Transfer-Encoding, Connection) are the caller's business.
template <class Body>
void fill_header(http::response<Body>& res, plugin::HttpResponse& response, unsigned version,
                 bool keep_alive, spdlog::logger& logger) {
    res.version(version);
    res.result(response.status);
    for (auto& [name, value] : response.headers) {
        if (name.empty() || !header_text_ok(name) || !header_text_ok(value)) {
            logger.warn("dropping the response header '{}': it holds CR, LF or NUL", name);
            continue;
        }
        if (server_owned_header(to_lower(name))) {
            continue;
        }
        res.insert(name, value);
    }
    if (!response.content_type.empty() && header_text_ok(response.content_type)) {
        res.set(http::field::content_type, response.content_type);
    }
    const auto set_default = [&res](std::string_view name, std::string_view value) {
        if (res.find(name) == res.end()) {
            res.set(name, value);
        }
    };
    for (const auto& [name, value] : security_headers(response.content_type)) {
        set_default(name, value);
    }
    set_default("Cache-Control", "no-store");
    res.keep_alive(keep_alive);
}

/// Turns a handler's response into the message written to the socket (fill_header()), and for
/// HEAD the Content-Length of the body that is not sent.
http::message_generator to_message(plugin::HttpResponse&& response, unsigned version,
                                   bool keep_alive, bool head_only, spdlog::logger& logger) {
    if (response.status < 100 || response.status > 599) {
        response = error_response(500, "Internal Server Error");
    }
    http::response<http::string_body> res;
    fill_header(res, response, version, keep_alive, logger);
    if (head_only) {
        res.content_length(response.body.size());
    } else {
        res.body() = std::move(response.body);
        res.prepare_payload();
    }
    return res;
}

/// The sink a producer writes a streamed body into: cuts the bytes into pieces, waits while the
/// channel is full, wakes the connection's strand when it waits for data. Counts the bytes so the
/// server can check them against the declared Content-Length.
/// Thread safety: used by the one producer thread (BodySink's contract).
class ChannelSink final : public plugin::BodySink {
public:
    ChannelSink(std::shared_ptr<StreamChannel> channel, std::optional<std::uint64_t> length,
                std::function<void()> wake, std::atomic<std::size_t>& peak)
        : channel_(std::move(channel)), length_(length), wake_(std::move(wake)), peak_(peak) {}

    bool write(std::string_view bytes) override {
        if (length_ && (written_ > *length_ || bytes.size() > *length_ - written_)) {
            overrun_ = true;
            channel_->close();
            return false;
        }
        while (!bytes.empty()) {
            const std::string_view piece = bytes.substr(0, kStreamPiece);
            bool wake = false;
            {
                std::unique_lock lock(channel_->mutex);
                channel_->space.wait(lock, [this] {
                    return channel_->closed || channel_->queued < kStreamQueueLimit;
                });
                if (channel_->closed) {
                    return false;
                }
                channel_->pieces.emplace_back(piece);
                channel_->queued += piece.size();
                std::size_t seen = peak_.load();
                while (channel_->queued > seen &&
                       !peak_.compare_exchange_weak(seen, channel_->queued)) {
                }
                wake = std::exchange(channel_->writer_idle, false);
            }
            if (wake) {
                wake_();
            }
            written_ += piece.size();
            bytes.remove_prefix(piece.size());
        }
        return true;
    }

    std::uint64_t written() const noexcept { return written_; }
    bool overrun() const noexcept { return overrun_; }

private:
    std::shared_ptr<StreamChannel> channel_;
    std::optional<std::uint64_t> length_;
    std::function<void()> wake_;
    std::atomic<std::size_t>& peak_;
    std::uint64_t written_ = 0;
    bool overrun_ = false;
};

/// One connection: reads a request, answers it, and reads the next while keep-alive holds.
/// Every step is a do_x()/on_x() pair running on the connection's strand.
/// Thread safety: strand-bound (shutdown() may be called from any thread).
class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    /// `peer` was counted by the connection limiter; the session uncounts it when destroyed.
    HttpSession(tcp::socket&& socket, std::shared_ptr<SharedState> state, std::string peer)
        : stream_(std::move(socket)),
          deadline_(stream_.get_executor()),
          state_(std::move(state)),
          peer_(std::move(peer)),
          id_(state_->registry.next_id()) {
        beast::error_code ec;
        stream_.socket().set_option(tcp::no_delay(true), ec);
    }
    ~HttpSession() {
        drop_spool();
        state_->limiter.release(peer_);
        state_->registry.remove(id_);
    }
    HttpSession(const HttpSession&) = delete;
    HttpSession& operator=(const HttpSession&) = delete;
    HttpSession(HttpSession&&) = delete;
    HttpSession& operator=(HttpSession&&) = delete;

    /// Starts reading on the session's strand.
    void run() {
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&HttpSession::on_run, shared_from_this()));
    }

    /// Asks the session to end: an idle connection (waiting for a request header) is closed now;
    /// a busy one closes after its current response.
    void shutdown() {
        net::post(stream_.get_executor(),
                  beast::bind_front_handler(&HttpSession::on_shutdown, shared_from_this()));
    }

    /// True while waiting for a request header and not yet evicted; the caller that gets true
    /// has claimed the session for eviction (evict()).
    bool claim_for_eviction() {
        bool expected = true;
        return awaiting_header_.compare_exchange_strong(expected, false) &&
               !evicted_.exchange(true);
    }

    /// Closes the connection if it is still waiting for its request header (the connection cap
    /// needs its slot).
    void evict() {
        net::post(stream_.get_executor(),
                  beast::bind_front_handler(&HttpSession::on_evict, shared_from_this()));
    }

private:
    void on_run() {
        if (!state_->registry.add(id_, weak_from_this())) {
            return do_close();
        }
        do_read_header();
    }

    void on_evict() {
        if (reading_header_) {
            state_->logger->debug("connection {} from {}: closed to make room (connection cap)",
                                  id_, peer_);
            stopping_ = true;
            deadline_.cancel();
            stream_.close();
        }
    }

    void on_shutdown() {
        stopping_ = true;
        if (stream_channel_ != nullptr) {
            // A streamed body cannot complete now: cut it (the producer's write() returns false)
            // rather than wait for a slow client.
            return abort_stream("the server is stopping");
        }
        if (reading_header_) {
            deadline_.cancel();
            // Closing, not cancel(): a cancel that lands between two reads of the composed
            // async_read_header would be lost, and the next read would wait for its timeout.
            // On a closed socket the pending read ends with operation_aborted and any new one
            // fails at once.
            stream_.close();
        }
    }

    void do_read_header() {
        if (stopping_) {
            return do_close();
        }
        drop_spool();
        parser_.emplace();
        parser_->header_limit(kHeaderLimit);
        // The body limit depends on the route (RouteSpec::max_body_bytes): none while the header
        // is parsed, then set (and a declared Content-Length checked) in on_read_header.
        parser_->body_limit(boost::none);
        request_ = plugin::HttpRequest{};
        admission_headers_.clear();
        reading_header_ = true;
        awaiting_header_ = !evicted_.load();
        arm_deadline(state_->header_timeout);
        http::async_read_header(
            stream_, buffer_, *parser_,
            beast::bind_front_handler(&HttpSession::on_read_header, shared_from_this()));
    }

    // Deadlines (API.md §1.3): when one passes, the receive side is shut down, so the read in
    // progress (or the next one of a composed read) ends at once, and the send side is still
    // there for the 408. Unlike cancel(), this cannot fall between two reads and be lost.
    void arm_deadline(std::chrono::steady_clock::duration timeout) {
        deadline_passed_ = false;
        stream_.expires_never();
        deadline_.expires_after(timeout);
        deadline_.async_wait(
            beast::bind_front_handler(&HttpSession::on_deadline, shared_from_this()));
    }

    void on_deadline(beast::error_code ec) {
        if (ec == net::error::operation_aborted ||
            deadline_.expiry() > std::chrono::steady_clock::now()) {
            return;  // cancelled or re-armed
        }
        deadline_passed_ = true;
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_receive, ignored);
    }

    void on_read_header(beast::error_code ec, std::size_t /*bytes*/) {
        reading_header_ = false;
        awaiting_header_ = false;
        deadline_.cancel();
        if (ec) {
            if (ec == http::error::header_limit && !deadline_passed_) {
                // Over the parser's limit: a request line without its end in the first 8 KiB
                // is a long URI, anything else a large header block.
                const std::string_view seen(static_cast<const char*>(buffer_.data().data()),
                                            buffer_.size());
                const std::size_t eol = seen.find("\r\n");
                if (eol == std::string_view::npos || eol > kRequestLineLimit) {
                    return do_write(error_response(414, "Request line too long"), false);
                }
            }
            return on_read_error(ec);
        }
        if (deadline_passed_) {
            return on_read_error(beast::error::timeout);
        }
        const auto& req = parser_->get();
        request_.method = std::string(req.method_string());
        request_.target = std::string(req.target());
        request_.peer_address = peer_;
        std::size_t header_bytes = 0;
        for (const auto& field : req) {
            request_.headers.emplace_back(to_lower(field.name_string()),
                                          std::string(field.value()));
            header_bytes += field.name_string().size() + field.value().size() + 4;
        }
        keep_alive_ = req.keep_alive();
        if (request_.method.size() + request_.target.size() + 11 > kRequestLineLimit) {
            return do_write(error_response(414, "Request line too long"), false);
        }
        if (request_.headers.size() > kMaxHeaderCount || header_bytes > kHeaderBlockLimit) {
            return do_write(error_response(431, "Request header fields too large"), false);
        }
        std::optional<plugin::HttpResponse> refusal;
        try {
            refusal = state_->dispatcher->before_body(request_, &admission_headers_);
        } catch (const std::exception& e) {
            state_->logger->error("checking a request header failed: {}", e.what());
            refusal = error_response(500, "Internal Server Error");
        }
        if (refusal) {
            // Keeping the connection would mean reading a body nobody wants; close instead.
            return do_write(std::move(*refusal), keep_alive_ && parser_->is_done());
        }
        if (state_->streams != nullptr && state_->streams->wants(request_)) {
            return hand_over_stream();
        }
        if (parser_->is_done()) {
            return handle_request();
        }
        version_ = req.version();
        const bool wants_continue = [&req] {
            const auto expect = req.find(http::field::expect);
            return expect != req.end() && beast::iequals(expect->value(), "100-continue");
        }();
        std::uint64_t route_limit = 0;
        try {
            route_limit = state_->dispatcher->route_body_limit(request_);
        } catch (const std::exception& e) {
            state_->logger->error("looking up a route's body limit failed: {}", e.what());
        }
        if (route_limit > kBodyLimit) {
            if (auto refusal = start_spool(route_limit)) {
                return do_write(std::move(*refusal), false);
            }
        } else {
            // API.md §1.3: a declared length over the limit is refused before the body is read.
            if (const auto length = parser_->content_length(); length && *length > kBodyLimit) {
                return do_write(error_response(413, "Request body too large"), false);
            }
            parser_->body_limit(kBodyLimit);
        }
        if (wants_continue) {
            return do_continue();
        }
        do_read_body();
    }

    // A body above the in-memory limit goes to a file in the spool directory (RouteSpec::
    // max_body_bytes): the string parser hands its state over to a file_body parser. Returns the
    // refusal when the declared length is over the route's limit or no file can be made.
    std::optional<plugin::HttpResponse> start_spool(std::uint64_t limit) {
        if (const auto length = parser_->content_length(); length && *length > limit) {
            return error_response(413, "Request body too large");
        }
        std::error_code fs_ec;
        std::filesystem::path dir = state_->spool_dir;
        if (dir.empty()) {
            dir = std::filesystem::temp_directory_path(fs_ec);
        }
        std::filesystem::create_directories(dir, fs_ec);
        const auto path = dir / ("upload-" + std::to_string(::getpid()) + "-" +
                                 std::to_string(id_) + "-" + std::to_string(++spool_counter_));
        file_parser_.emplace(std::move(*parser_));
        parser_.reset();
        file_parser_->body_limit(limit);
        beast::error_code ec;
        file_parser_->get().body().open(path.c_str(), beast::file_mode::write_new, ec);
        if (ec) {
            state_->logger->error("cannot create the upload spool file '{}': {}", path.string(),
                                  ec.message());
            file_parser_.reset();
            return error_response(500, "Internal Server Error");
        }
        spool_path_ = path;
        return std::nullopt;
    }

    // Closes and removes the spool file of the last request, if any.
    void drop_spool() {
        if (file_parser_) {
            file_parser_->get().body().close();
            file_parser_.reset();
        }
        if (!spool_path_.empty()) {
            std::error_code ec;
            std::filesystem::remove(spool_path_, ec);
            spool_path_.clear();
        }
    }

    bool body_done() const { return file_parser_ ? file_parser_->is_done() : parser_->is_done(); }
    bool got_some() const {
        return file_parser_ ? file_parser_->got_some() : parser_ && parser_->got_some();
    }

    void do_continue() {
        http::response<http::empty_body> res{http::status::continue_, version_};
        stream_.expires_after(kWriteTimeout);
        beast::async_write(
            stream_, http::message_generator(std::move(res)),
            beast::bind_front_handler(&HttpSession::on_continue, shared_from_this()));
    }

    void on_continue(beast::error_code ec, std::size_t /*bytes*/) {
        if (ec) {
            return on_write_error(ec);
        }
        do_read_body();
    }

    // The body is read piece by piece so that the 30 s deadline is an idle timeout: it restarts
    // whenever bytes arrive.
    void do_read_body() {
        arm_deadline(state_->body_timeout);
        if (file_parser_) {
            http::async_read_some(
                stream_, buffer_, *file_parser_,
                beast::bind_front_handler(&HttpSession::on_read_body, shared_from_this()));
            return;
        }
        http::async_read_some(
            stream_, buffer_, *parser_,
            beast::bind_front_handler(&HttpSession::on_read_body, shared_from_this()));
    }

    void on_read_body(beast::error_code ec, std::size_t /*bytes*/) {
        deadline_.cancel();
        if (deadline_passed_) {
            return on_read_error(beast::error::timeout);
        }
        if (ec) {
            return on_read_error(ec);
        }
        if (!body_done()) {
            return do_read_body();
        }
        handle_request();
    }

    void on_read_error(beast::error_code ec) {
        if (stopping_) {
            return do_close();
        }
        if (deadline_passed_ || ec == beast::error::timeout) {
            // A connection that has sent nothing of a request (an idle keep-alive one) is just
            // closed; one that started a request gets 408 (API.md §1.3).
            if (buffer_.size() == 0 && !got_some()) {
                return do_close();
            }
            state_->logger->debug("connection {} from {}: request not received before its deadline",
                                  id_, peer_);
            return do_write(error_response(408, "Request timeout"), false);
        }
        if (ec == http::error::end_of_stream || ec == net::error::operation_aborted) {
            // A normal close by the peer, or our own shutdown: nothing to report.
            return do_close();
        }
        if (ec == http::error::header_limit) {
            return do_write(error_response(431, "Request header fields too large"), false);
        }
        if (ec == http::error::body_limit) {
            return do_write(error_response(413, "Request body too large"), false);
        }
        if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
            ec != http::error::partial_message) {
            state_->logger->debug("connection {} from {}: bad request: {}", id_, peer_,
                                  ec.message());
            return do_write(error_response(400, "Bad Request"), false);
        }
        state_->logger->debug("connection {} from {}: read failed: {}", id_, peer_, ec.message());
        do_close();
    }

    // live: an admitted WebSocket upgrade or event stream leaves the HTTP session here; the
    // upgrader owns the socket (still on this strand's executor) from now on.
    void hand_over_stream() {
        deadline_.cancel();
        stream_.expires_never();
        auto raw = parser_->release();
        parser_.reset();
        state_->streams->take(stream_.release_socket(), std::move(raw), std::move(request_));
    }

    void handle_request() {
        if (file_parser_) {
            file_parser_->get().body().close();  // complete on disk before the handler reads it
            request_.body_file = spool_path_;
        } else {
            request_.body = std::move(parser_->get().body());
        }
        plugin::HttpResponse response;
        try {
            response = state_->dispatcher->dispatch(request_, admission_headers_);
        } catch (const std::exception& e) {
            state_->logger->error("dispatching {} {} failed: {}", request_.method, request_.target,
                                  e.what());
            response = error_response(500, "Internal Server Error");
        }
        state_->logger->debug("{} {} {} -> {}", peer_, request_.method, request_.target,
                              response.status);
        do_write(std::move(response), keep_alive_);
    }

    void do_write(plugin::HttpResponse response, bool keep_alive) {
        keep_alive = keep_alive && !stopping_;
        const unsigned version = parser_ ? parser_->get().version() : version_;
        if (response.stream && response.status >= 100 && response.status <= 599) {
            return do_write_stream_header(std::move(response), version, keep_alive);
        }
        try {
            http::message_generator message =
                to_message(std::move(response), version, keep_alive, request_.method == "HEAD",
                           *state_->logger);
            stream_.expires_after(kWriteTimeout);
            beast::async_write(
                stream_, std::move(message),
                beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), keep_alive));
        } catch (const std::exception& e) {
            state_->logger->error("connection {}: cannot send a response: {}", id_, e.what());
            do_close();
        }
    }

    // Streamed bodies (HttpResponse::stream). The header goes out first (Content-Length when the
    // handler gave one, else chunked; a HEAD request gets only the header). Then the producer runs
    // on the blocking pool and hands pieces over through a StreamChannel; this strand writes them
    // one at a time (on_stream_ready / on_stream_write). A complete body ends with the last chunk
    // and the connection goes on (keep-alive); a producer error, a short or long body, a write
    // failure or timeout, or the server stopping ends it with abort_stream(): the connection is
    // closed without the last chunk, so the client sees a truncated transfer.
    void do_write_stream_header(plugin::HttpResponse response, unsigned version, bool keep_alive) {
        const bool head_only = request_.method == "HEAD";
        try {
            auto header = std::make_unique<http::response<http::empty_body>>();
            fill_header(*header, response, version, keep_alive, *state_->logger);
            if (response.content_length) {
                header->content_length(*response.content_length);
            } else {
                header->chunked(true);
            }
            stream_chunked_ = !response.content_length.has_value();
            stream_length_ = response.content_length;
            stream_producer_ = head_only ? plugin::BodyProducer() : std::move(response.stream);
            stream_header_ = std::move(header);
            stream_serializer_ =
                std::make_unique<http::response_serializer<http::empty_body>>(*stream_header_);
            stream_.expires_after(kWriteTimeout);
            http::async_write_header(stream_, *stream_serializer_,
                                     beast::bind_front_handler(&HttpSession::on_stream_header,
                                                               shared_from_this(), keep_alive));
        } catch (const std::exception& e) {
            state_->logger->error("connection {}: cannot send a response: {}", id_, e.what());
            stream_producer_ = nullptr;
            do_close();
        }
    }

    void on_stream_header(bool keep_alive, beast::error_code ec, std::size_t /*bytes*/) {
        stream_serializer_.reset();
        stream_header_.reset();
        if (ec) {
            stream_producer_ = nullptr;
            return on_write_error(ec);
        }
        if (!stream_producer_) {
            return on_write(keep_alive, ec, 0);  // HEAD: the header is the whole response
        }
        stream_keep_alive_ = keep_alive;
        auto channel = std::make_shared<StreamChannel>();
        channel->closed = stopping_;
        stream_channel_ = channel;
        auto self = shared_from_this();
        const auto strand = stream_.get_executor();
        std::function<void()> wake = [self, strand] {
            net::post(strand, beast::bind_front_handler(&HttpSession::on_stream_ready, self));
        };
        auto task = [self, channel, wake, producer = std::move(stream_producer_),
                     length = stream_length_]() mutable {
            ChannelSink sink(channel, length, wake, self->state_->stream_queue_peak);
            Status result = Status::ok();
            try {
                result = producer(sink);
            } catch (const std::exception& e) {
                result = Status::internal(std::string("the body producer threw: ") + e.what());
            } catch (...) {
                result = Status::internal("the body producer threw a non-standard exception");
            }
            producer = nullptr;  // drop what it holds on this thread, before the strand goes on
            if (result.is_ok() && sink.overrun()) {
                result = Status::internal("the body producer wrote more than its Content-Length");
            } else if (result.is_ok() && length && sink.written() != *length) {
                result =
                    Status::internal("the body producer wrote " + std::to_string(sink.written()) +
                                     " of " + std::to_string(*length) + " bytes");
            }
            bool wake_now = false;
            {
                const std::lock_guard lock(channel->mutex);
                channel->done = true;
                channel->result = std::move(result);
                wake_now = std::exchange(channel->writer_idle, false);
            }
            if (wake_now) {
                wake();
            }
        };
        stream_producer_ = nullptr;
        if (state_->producers == nullptr || !state_->producers->post(std::move(task))) {
            return abort_stream("the server is stopping");
        }
        on_stream_ready();
    }

    // Writes the next piece, or ends the stream once the producer is done and the queue empty.
    void on_stream_ready() {
        const std::shared_ptr<StreamChannel> channel = stream_channel_;
        if (channel == nullptr || stream_writing_) {
            return;
        }
        std::unique_lock lock(channel->mutex);
        if (channel->closed) {
            lock.unlock();
            return abort_stream(stopping_ ? "the server is stopping" : "the stream was closed");
        }
        if (channel->pieces.empty()) {
            if (!channel->done) {
                channel->writer_idle = true;
                return;
            }
            const Status result = channel->result;
            lock.unlock();
            if (!result.is_ok()) {
                return abort_stream(result.message());
            }
            return finish_stream();
        }
        stream_piece_ = std::move(channel->pieces.front());
        channel->pieces.pop_front();
        lock.unlock();
        stream_writing_ = true;
        stream_.expires_after(kWriteTimeout);
        if (stream_chunked_) {
            net::async_write(
                stream_, http::make_chunk(net::buffer(stream_piece_)),
                beast::bind_front_handler(&HttpSession::on_stream_write, shared_from_this()));
        } else {
            net::async_write(
                stream_, net::buffer(stream_piece_),
                beast::bind_front_handler(&HttpSession::on_stream_write, shared_from_this()));
        }
    }

    void on_stream_write(beast::error_code ec, std::size_t /*bytes*/) {
        stream_writing_ = false;
        const std::shared_ptr<StreamChannel> channel = stream_channel_;
        if (channel == nullptr) {
            return;
        }
        {
            const std::lock_guard lock(channel->mutex);
            channel->queued -= stream_piece_.size();
        }
        channel->space.notify_all();
        stream_piece_.clear();
        if (ec) {
            return abort_stream(ec == beast::error::timeout ? "write timeout" : ec.message());
        }
        on_stream_ready();
    }

    void finish_stream() {
        stream_channel_.reset();
        if (!stream_chunked_) {
            return on_write(stream_keep_alive_, {}, 0);
        }
        stream_.expires_after(kWriteTimeout);
        net::async_write(stream_, http::make_chunk_last(),
                         beast::bind_front_handler(&HttpSession::on_write, shared_from_this(),
                                                   stream_keep_alive_));
    }

    // Ends a stream that cannot complete: the producer is told (write() returns false) and the
    // connection is closed without the terminating chunk, so the body reads as truncated.
    void abort_stream(const std::string& why) {
        if (stream_channel_ != nullptr) {
            stream_channel_->close();
            stream_channel_.reset();
        }
        state_->logger->debug("connection {} from {}: streamed response to {} {} aborted: {}", id_,
                              peer_, request_.method, request_.target, why);
        stopping_ = true;
        deadline_.cancel();
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.socket().close(ec);
    }

    void on_write(bool keep_alive, beast::error_code ec, std::size_t /*bytes*/) {
        if (ec) {
            return on_write_error(ec);
        }
        if (!keep_alive || stopping_) {
            return do_close();
        }
        do_read_header();
    }

    void on_write_error(beast::error_code ec) {
        if (ec != net::error::operation_aborted) {
            state_->logger->debug("connection {} from {}: write failed: {}", id_, peer_,
                                  ec.message());
        }
    }

    void do_close() {
        // Send FIN; the socket itself closes when the last handler lets go of the session.
        deadline_.cancel();
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }

    beast::tcp_stream stream_;
    net::steady_timer deadline_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    // A body spooled to disk (start_spool): replaces parser_ until the next request.
    std::optional<http::request_parser<http::file_body>> file_parser_;
    std::filesystem::path spool_path_;
    std::uint64_t spool_counter_ = 0;
    unsigned version_ = 11;  // the request's HTTP version, once its header is in
    std::shared_ptr<SharedState> state_;
    plugin::HttpRequest request_;
    plugin::HeaderList admission_headers_;  // from before_body, for the response
    std::string peer_;
    std::uint64_t id_;
    bool keep_alive_ = false;
    bool reading_header_ = false;
    bool stopping_ = false;
    bool deadline_passed_ = false;
    std::atomic<bool> awaiting_header_{false};  // read by the listener for eviction
    std::atomic<bool> evicted_{false};
    // A streamed response in progress (do_write_stream_header and after).
    std::unique_ptr<http::response<http::empty_body>> stream_header_;
    std::unique_ptr<http::response_serializer<http::empty_body>> stream_serializer_;
    plugin::BodyProducer stream_producer_;
    std::optional<std::uint64_t> stream_length_;
    std::shared_ptr<StreamChannel> stream_channel_;  // null when no stream is running
    std::string stream_piece_;                       // the piece being written
    bool stream_chunked_ = false;
    bool stream_keep_alive_ = false;
    bool stream_writing_ = false;
};

std::shared_ptr<HttpSession> SessionRegistry::oldest_awaiting_header() {
    const std::lock_guard lock(mutex_);
    for (const auto& [id, weak] : sessions_) {
        if (auto session = weak.lock(); session && session->claim_for_eviction()) {
            return session;
        }
    }
    return nullptr;
}

/// Answers a connection refused at the connection cap with 503 {"detail": "Too many
/// connections"} and closes it, reading (and dropping) what the client sends for a moment so
/// that the close does not become a reset that destroys the response.
/// Thread safety: strand-bound.
class RefusedConnection : public std::enable_shared_from_this<RefusedConnection> {
public:
    explicit RefusedConnection(tcp::socket&& socket) : stream_(std::move(socket)) {}

    void run() {
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&RefusedConnection::do_write, shared_from_this()));
    }

private:
    void do_write() {
        http::response<http::string_body> res{http::status::service_unavailable, 11};
        const plugin::HttpResponse body = error_response(503, "Too many connections");
        res.set(http::field::content_type, body.content_type);
        for (const auto& [name, value] : security_headers(body.content_type)) {
            res.set(name, value);
        }
        res.set(http::field::cache_control, "no-store");
        res.keep_alive(false);
        res.body() = body.body;
        res.prepare_payload();
        stream_.expires_after(kWriteTimeout);
        beast::async_write(
            stream_, http::message_generator(std::move(res)),
            beast::bind_front_handler(&RefusedConnection::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t /*bytes*/) {
        if (ec) {
            return;
        }
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.expires_after(kRefusalLinger);
        do_drain();
    }

    void do_drain() {
        stream_.async_read_some(
            net::buffer(scratch_),
            beast::bind_front_handler(&RefusedConnection::on_drain, shared_from_this()));
    }

    void on_drain(beast::error_code ec, std::size_t /*bytes*/) {
        if (!ec) {
            do_drain();
        }
    }

    beast::tcp_stream stream_;
    std::array<char, 4096> scratch_{};
};

/// Accepts connections and hands each to a new HttpSession on its own strand.
/// Thread safety: strand-bound (stop() may be called from any thread).
class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(net::io_context& ioc, std::shared_ptr<SharedState> state)
        : ioc_(ioc),
          acceptor_(net::make_strand(ioc)),
          backoff_(acceptor_.get_executor()),
          state_(std::move(state)) {}
    ~Listener() = default;
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    Listener(Listener&&) = delete;
    Listener& operator=(Listener&&) = delete;

    /// Opens, binds and listens; returns the error of the first step that fails. Call before the
    /// I/O threads run.
    beast::error_code listen(const tcp::endpoint& endpoint) {
        beast::error_code ec;
        acceptor_.open(endpoint.protocol(), ec);
        if (!ec) {
            acceptor_.set_option(net::socket_base::reuse_address(true), ec);
        }
        if (!ec) {
            acceptor_.bind(endpoint, ec);
        }
        if (!ec) {
            acceptor_.listen(net::socket_base::max_listen_connections, ec);
        }
        return ec;
    }

    std::uint16_t local_port() const {
        beast::error_code ec;
        const tcp::endpoint local = acceptor_.local_endpoint(ec);
        return ec ? 0 : local.port();
    }

    void run() {
        net::dispatch(acceptor_.get_executor(),
                      beast::bind_front_handler(&Listener::do_accept, shared_from_this()));
    }

    /// Closes the acceptor on its strand; the pending accept ends with operation_aborted.
    void stop() {
        net::post(acceptor_.get_executor(),
                  beast::bind_front_handler(&Listener::on_stop, shared_from_this()));
    }

private:
    void do_accept() {
        acceptor_.async_accept(net::make_strand(ioc_),
                               beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
            return;
        }
        if (ec) {
            // Typically EMFILE: back off briefly instead of spinning on the same error.
            state_->logger->warn("accepting a connection failed: {}", ec.message());
            backoff_.expires_after(kAcceptBackoff);
            backoff_.async_wait(
                beast::bind_front_handler(&Listener::on_backoff, shared_from_this()));
            return;
        }
        try {
            admit(std::move(socket));
        } catch (const std::exception& e) {
            state_->logger->error("starting a session failed: {}", e.what());
        }
        do_accept();
    }

    // The connection caps of API.md §1.3: at the total cap the oldest connection still waiting
    // for its request header makes room; a connection that still does not fit gets 503.
    void admit(tcp::socket socket) {
        beast::error_code ec;
        const tcp::endpoint peer = socket.remote_endpoint(ec);
        std::string address = ec ? std::string() : peer.address().to_string();
        ConnectionLimiter::Verdict verdict = state_->limiter.acquire(address);
        if (verdict == ConnectionLimiter::Verdict::kTotalFull) {
            if (auto victim = state_->registry.oldest_awaiting_header()) {
                victim->evict();
                verdict = state_->limiter.acquire(address, /*force=*/true);
            }
        }
        if (verdict != ConnectionLimiter::Verdict::kAdmit) {
            state_->logger->warn("refusing a connection from {}: {}", address,
                                 verdict == ConnectionLimiter::Verdict::kPeerFull
                                     ? "too many connections from this address"
                                     : "too many connections");
            std::make_shared<RefusedConnection>(std::move(socket))->run();
            return;
        }
        std::make_shared<HttpSession>(std::move(socket), state_, std::move(address))->run();
    }

    void on_backoff(beast::error_code ec) {
        if (ec || !acceptor_.is_open()) {
            return;
        }
        do_accept();
    }

    void on_stop() {
        beast::error_code ec;
        acceptor_.close(ec);
        backoff_.cancel();
    }

    net::io_context& ioc_;
    tcp::acceptor acceptor_;
    net::steady_timer backoff_;
    std::shared_ptr<SharedState> state_;
};

// With 1,024 descriptors (the usual soft limit) the connection cap and the open files of the
// store cannot both fit; the hard limit is what the administrator actually allows.
void raise_open_file_limit(spdlog::logger& logger) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) {
        return;
    }
    const rlim_t old_soft = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        logger.warn("cannot raise the open-file limit from {} to {}: {}", old_soft, limit.rlim_max,
                    std::error_code(errno, std::generic_category()).message());
        return;
    }
    logger.debug("raised the open-file limit from {} to {}", old_soft, limit.rlim_max);
}

void run_io(net::io_context& ioc, spdlog::logger& logger) noexcept {
    while (true) {
        try {
            ioc.run();
            return;
        } catch (const std::exception& e) {
            logger.error("an I/O handler threw: {}", e.what());
        } catch (...) {
            logger.error("an I/O handler threw a non-standard exception");
        }
    }
}

}  // namespace

struct HttpServer::Runtime {
    explicit Runtime(unsigned threads)
        : ioc(static_cast<int>(threads)), work(net::make_work_guard(ioc)) {}

    net::io_context ioc;
    // Keeps run() going when no operation is pending (e.g. between closing the acceptor and the
    // sessions' shutdown handlers); stop() decides when the threads end.
    net::executor_work_guard<net::io_context::executor_type> work;
    std::shared_ptr<SharedState> state;
    std::shared_ptr<Listener> listener;
};

HttpServer::HttpServer(HttpConfig config, std::shared_ptr<Dispatcher> dispatcher,
                       std::shared_ptr<spdlog::logger> logger)
    : config_(std::move(config)), dispatcher_(std::move(dispatcher)), logger_(std::move(logger)) {}

HttpServer::~HttpServer() { stop(); }

std::size_t HttpServer::stream_queue_peak() const noexcept {
    return runtime_ ? runtime_->state->stream_queue_peak.load() : 0;
}

std::string HttpServer::base_url() const {
    const std::uint16_t port = port_.load();
    if (port == 0) {
        return "";
    }
    return "http://" + url_host(config_.host) + ":" + std::to_string(port);
}

Status HttpServer::start() {
    if (started_) {
        return Status::failed_precondition("the HTTP server has already been started");
    }
    started_ = true;
    const std::string where = url_host(config_.host) + ":" + std::to_string(config_.port);
    beast::error_code ec;
    const net::ip::address address = config_.host == "localhost"
                                         ? net::ip::address(net::ip::address_v4::loopback())
                                         : net::ip::make_address(config_.host, ec);
    if (ec) {
        return Status::invalid_argument("cannot listen on " + where + ": " + ec.message());
    }
    raise_open_file_limit(*logger_);

    auto runtime = std::make_unique<Runtime>(config_.threads);
    runtime->state =
        std::make_shared<SharedState>(config_.max_connections, config_.max_connections_per_peer);
    if (config_.header_timeout.count() > 0) {
        runtime->state->header_timeout = config_.header_timeout;
    }
    if (config_.body_timeout.count() > 0) {
        runtime->state->body_timeout = config_.body_timeout;
    }
    runtime->state->spool_dir = config_.spool_dir;
    runtime->state->dispatcher = dispatcher_;
    runtime->state->logger = logger_;
    runtime->state->streams = upgrader_;
    runtime->state->producers = std::make_shared<BlockingPool>(kProducerThreads);
    runtime->listener = std::make_shared<Listener>(runtime->ioc, runtime->state);
    ec = runtime->listener->listen(tcp::endpoint(address, config_.port));
    if (ec) {
        return Status::unavailable("cannot listen on " + where + ": " + ec.message());
    }
    runtime->listener->run();
    runtime_ = std::move(runtime);
    try {
        threads_.reserve(config_.threads);
        for (unsigned i = 0; i < config_.threads; ++i) {
            threads_.emplace_back([this] { run_io(runtime_->ioc, *logger_); });
        }
    } catch (const std::system_error& e) {
        stop();
        return Status::resource_exhausted(std::string("cannot start the HTTP I/O threads: ") +
                                          e.what());
    }
    port_ = runtime_->listener->local_port();
    logger_->info("listening on {}", base_url());
    return Status::ok();
}

void HttpServer::stop() noexcept {
    if (!runtime_) {
        return;
    }
    try {
        port_ = 0;
        {
            auto sessions = runtime_->state->registry.begin_stop();
            runtime_->listener->stop();
            for (const auto& session : sessions) {
                session->shutdown();
            }
        }  // Our references go here, so that finished sessions can be destroyed.
        if (upgrader_ != nullptr) {
            upgrader_->stop();  // live streams: closed while the I/O threads still run
        }
        const std::size_t left = runtime_->state->registry.wait_empty(kShutdownGrace);
        if (left != 0) {
            logger_->warn("{} connection(s) still open after 10 s; closing them", left);
        }
        // Streamed bodies: every producer was told to stop (its write() returns false); wait for
        // them while the I/O threads still run, since they hand their end over to a strand.
        runtime_->state->producers->stop();
        runtime_->work.reset();
        runtime_->ioc.stop();
        for (std::thread& t : threads_) {
            if (t.joinable()) {
                t.join();
            }
        }
        threads_.clear();
        runtime_->listener.reset();
        // Destroying the io_context destroys the handlers still queued, and with them the
        // sessions they hold.
        runtime_.reset();
        logger_->debug("the HTTP server has stopped");
    } catch (const std::exception& e) {
        logger_->error("stopping the HTTP server: {}", e.what());
    }
}

}  // namespace runicorn::http_plugin
