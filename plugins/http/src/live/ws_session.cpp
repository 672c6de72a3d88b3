#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "../responses.hpp"
#include "stream_session.hpp"

namespace runicorn::http_plugin::live {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;

// ---- SessionSet ------------------------------------------------------------------------------

std::uint64_t SessionSet::add(std::weak_ptr<StreamSession> s) {
    const std::lock_guard lock(mu_);
    const std::uint64_t id = next_++;
    sessions_.emplace(id, std::move(s));
    return id;
}

void SessionSet::remove(std::uint64_t id) noexcept {
    {
        const std::lock_guard lock(mu_);
        sessions_.erase(id);
    }
    cv_.notify_all();
}

void SessionSet::close_all(std::chrono::milliseconds timeout) noexcept {
    std::vector<std::shared_ptr<StreamSession>> alive;
    {
        const std::lock_guard lock(mu_);
        for (auto& [id, weak] : sessions_) {
            if (auto s = weak.lock()) {
                alive.push_back(std::move(s));
            }
        }
    }
    for (auto& s : alive) {
        try {
            s->close();
        } catch (...) {  // NOLINT(bugprone-empty-catch): shutting down; nothing to do
        }
    }
    alive.clear();
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return sessions_.empty(); });
}

std::size_t SessionSet::size() const {
    const std::lock_guard lock(mu_);
    return sessions_.size();
}

// ---- helpers ---------------------------------------------------------------------------------

unsigned wake_bits_for(std::string_view name) {
    if (name.empty()) {
        return kWakeAll;
    }
    if (name == "events.jsonl" || name == "logs.txt") {
        return kWakeData;
    }
    if (name == "status.json" || name == ".heartbeat.json" || name == ".deleted") {
        return kWakeStatus;
    }
    return 0;
}

bool run_gone(const Result<plugin::RunInfo>& run) {
    if (!run) {
        return run.error().code() == StatusCode::kNotFound;
    }
    return run->location.deleted || run->deleted_at.has_value();
}

std::string liveness_name(const plugin::RunInfo& run) {
    switch (run.liveness) {
        case plugin::RunLiveness::kAlive:
            return "alive";
        case plugin::RunLiveness::kUnknown:
            return "unknown";
        case plugin::RunLiveness::kStale:
            return "stale";
        case plugin::RunLiveness::kDead:
            return "dead";
        case plugin::RunLiveness::kNotChecked:
            break;
    }
    return run.status == "running" ? "unknown" : "ended";
}

json::object status_fields(const plugin::RunInfo& run) {
    json::object o;
    o["status"] = run.status;
    o["liveness"] = liveness_name(run);
    o["ended_at"] = run.ended_at ? json::value(*run.ended_at) : json::value(nullptr);
    o["exit_reason"] = run.exit_reason ? json::value(*run.exit_reason) : json::value(nullptr);
    return o;
}

void send_plain_response(tcp::socket socket, plugin::HttpResponse response, unsigned version) {
    struct Holder {
        tcp::socket socket;
        std::string bytes;
    };
    http::response<http::string_body> res;
    res.version(version);
    res.result(response.status);
    for (const auto& [k, v] : response.headers) {
        res.set(k, v);
    }
    if (!response.content_type.empty()) {
        res.set(http::field::content_type, response.content_type);
    }
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    res.set("X-Frame-Options", "DENY");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(false);
    res.body() = std::move(response.body);
    res.prepare_payload();
    std::ostringstream text;
    text << res;
    auto holder = std::make_shared<Holder>(Holder{std::move(socket), text.str()});
    net::async_write(holder->socket, net::buffer(holder->bytes),
                     [holder](beast::error_code /*ec*/, std::size_t /*n*/) {
                         beast::error_code ignored;
                         holder->socket.shutdown(tcp::socket::shutdown_both, ignored);
                         holder->socket.close(ignored);
                     });
}

// ---- WsSession -------------------------------------------------------------------------------

WsSession::WsSession(tcp::socket&& socket, StreamEnv env)
    : env_(std::move(env)), timer_(socket.get_executor()), ws_(std::move(socket)) {}

WsSession::~WsSession() { cleanup(); }

void WsSession::cleanup() noexcept {
    if (watch_token_ && env_.watch != nullptr) {
        env_.watch->unwatch(*watch_token_);
    }
    watch_token_.reset();
    if (set_id_ != 0 && env_.sessions != nullptr) {
        env_.sessions->remove(set_id_);
        set_id_ = 0;
    }
}

void WsSession::run(http::request<http::string_body> raw) {
    set_id_ = env_.sessions->add(weak_from_this());
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(30);
    // Beast pings when the connection has been idle for half the idle timeout.
    t.idle_timeout = env_.options.ping_interval * 2;
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.read_message_max(env_.options.max_client_message);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
        res.set(http::field::server, "runicorn-cpp");
        res.set("X-Content-Type-Options", "nosniff");
    }));
    auto req = std::make_shared<http::request<http::string_body>>(std::move(raw));
    net::dispatch(ws_.get_executor(), [self = shared_from_this(), req] {
        self->ws_.async_accept(*req, beast::bind_front_handler(&WsSession::on_accept, self));
    });
}

void WsSession::close() {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
        self->close_code_ = websocket::close_code::going_away;
        self->finish(websocket::close_code::going_away);
    });
}

void WsSession::on_accept(beast::error_code ec) {
    if (ec) {
        closed_ = true;
        cleanup();
        return;
    }
    try {
        on_open();
    } catch (const std::exception& e) {
        env_.services.logger->error("a live stream failed to start: {}", e.what());
        finish(websocket::close_code::internal_error);
    }
    if (!closed_) {
        do_read();
    }
}

void WsSession::do_read() {
    ws_.async_read(read_buffer_,
                   beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
}

void WsSession::on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) {
        // Closed by the peer, timed out (no pong), too big (Beast sent close 1009), or our own
        // close: nothing more to read or write.
        if (ec != websocket::error::closed && ec != net::error::operation_aborted &&
            ec != beast::error::timeout) {
            env_.services.logger->debug("live stream read ended: {}", ec.message());
        }
        closed_ = true;
        timer_.cancel();
        cleanup();
        return;
    }
    if (!finishing_) {
        const std::string text = beast::buffers_to_string(read_buffer_.data());
        try {
            on_text(text);
        } catch (const std::exception& e) {
            env_.services.logger->error("a live stream message failed: {}", e.what());
        }
    }
    read_buffer_.consume(read_buffer_.size());
    do_read();
}

void WsSession::send(std::string text) {
    if (finishing_ || closed_) {
        return;
    }
    queued_bytes_ += text.size();
    queue_.push_back(std::make_shared<const std::string>(std::move(text)));
    if (queued_bytes_ > env_.options.slow_consumer_bytes) {
        // Keep the frame being written, drop the rest, tell the client to refetch.
        while (queue_.size() > (writing_ ? 1U : 0U)) {
            queued_bytes_ -= queue_.back()->size();
            queue_.pop_back();
        }
        if (std::string frame = slow_consumer_frame(); !frame.empty()) {
            queued_bytes_ += frame.size();
            queue_.push_back(std::make_shared<const std::string>(std::move(frame)));
        }
        finish(websocket::close_code::try_again_later);
        return;
    }
    if (queued_bytes_ >= env_.options.high_water_bytes) {
        was_high_ = true;
    }
    if (!writing_) {
        do_write();
    }
}

void WsSession::do_write() {
    if (queue_.empty()) {
        writing_ = false;
        if (finishing_) {
            do_close();
        }
        return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(*queue_.front()),
                    beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
}

void WsSession::on_write(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) {
        writing_ = false;
        closed_ = true;
        timer_.cancel();
        cleanup();
        return;
    }
    queued_bytes_ -= queue_.front()->size();
    queue_.pop_front();
    if (was_high_ && queued_bytes_ < env_.options.high_water_bytes / 2 && !finishing_) {
        was_high_ = false;
        try {
            on_drained();
        } catch (const std::exception& e) {
            env_.services.logger->error("a live stream failed: {}", e.what());
        }
    }
    do_write();
}

void WsSession::finish(websocket::close_code code) {
    if (finishing_ || closed_) {
        return;
    }
    finishing_ = true;
    close_code_ = code;
    timer_.cancel();
    if (!writing_) {
        do_close();
    }
}

void WsSession::do_close() {
    if (closing_ || closed_) {
        return;
    }
    closing_ = true;
    ws_.async_close(websocket::close_reason(close_code_),
                    beast::bind_front_handler(&WsSession::on_close, shared_from_this()));
}

void WsSession::on_close(beast::error_code /*ec*/) {
    closed_ = true;
    cleanup();
}

bool WsSession::watch_dir(const std::filesystem::path& dir) {
    if (env_.watch == nullptr) {
        return false;
    }
    std::weak_ptr<WsSession> weak = weak_from_this();
    auto token = env_.watch->watch(dir, [weak](std::string_view name) {
        const unsigned bits = wake_bits_for(name);
        if (bits == 0) {
            return;
        }
        auto self = weak.lock();
        if (self == nullptr) {
            return;
        }
        // Always post, even when a wake is already pending: the reference taken here must be
        // dropped on the strand, never on the watcher's thread (the session's destructor
        // unwatches, which needs the lock this callback runs under).
        self->pending_.fetch_or(bits);
        net::post(self->ws_.get_executor(), [self] { self->wake(); });
    });
    if (!token) {
        env_.services.logger->warn("live stream: {}", token.error().message());
        return false;
    }
    watch_token_ = *token;
    return true;
}

void WsSession::wake() {
    const unsigned bits = pending_.exchange(0);
    if (bits == 0 || finishing_ || closed_) {
        return;
    }
    try {
        on_wake(bits);
    } catch (const std::exception& e) {
        env_.services.logger->error("a live stream failed: {}", e.what());
        finish(websocket::close_code::internal_error);
    }
}

}  // namespace runicorn::http_plugin::live
