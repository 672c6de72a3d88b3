#include "http_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
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

class HttpSession;

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

/// Turns a handler's response into the message written to the socket: security headers
/// (API.md §1.4) unless the handler set them, Connection per `keep_alive`, and for HEAD the
/// Content-Length of the body that is not sent.
http::message_generator to_message(plugin::HttpResponse&& response, unsigned version,
                                   bool keep_alive, bool head_only, spdlog::logger& logger) {
    if (response.status < 100 || response.status > 599) {
        response = error_response(500, "Internal Server Error");
    }
    http::response<http::string_body> res;
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
    if (head_only) {
        res.content_length(response.body.size());
    } else {
        res.body() = std::move(response.body);
        res.prepare_payload();
    }
    return res;
}

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
        parser_.emplace();
        parser_->header_limit(kHeaderLimit);
        parser_->body_limit(kBodyLimit);
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
        const auto expect = req.find(http::field::expect);
        if (expect != req.end() && beast::iequals(expect->value(), "100-continue")) {
            return do_continue();
        }
        do_read_body();
    }

    void do_continue() {
        http::response<http::empty_body> res{http::status::continue_, parser_->get().version()};
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
        if (!parser_->is_done()) {
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
            if (buffer_.size() == 0 && !parser_->got_some()) {
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
        request_.body = std::move(parser_->get().body());
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
        const unsigned version = parser_ ? parser_->get().version() : 11;
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
    runtime->state->dispatcher = dispatcher_;
    runtime->state->logger = logger_;
    runtime->state->streams = upgrader_;
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
