#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include <runicorn/status.hpp>

#include "dispatcher.hpp"
#include "http_config.hpp"
#include "live/stream_upgrader.hpp"

namespace runicorn::http_plugin {

/// The asynchronous Boost.Beast server (STYLE.md rules 27-31): one Listener, one HttpSession per
/// connection on its own strand, `config.threads` I/O threads. Per request (API.md §1.3): 10 s to
/// send the header and a 30 s idle timeout while reading the body (408 and close; a connection that
/// sent nothing is just closed), a request line of 8 KiB (414), a header block of 8 KiB and 100
/// fields (431), a 1 MiB body (413), keep-alive, one request in flight per connection. Connection
/// caps: `max_connections` in total and `max_connections_per_peer` per non-loopback peer; at the
/// total cap the oldest connection still waiting for its request header is closed to make room,
/// and a connection that still does not fit gets 503 {"detail": "Too many connections"}. Every
/// response carries the security headers of API.md §1.4. Requests go to the Dispatcher
/// (before_body() once the header is in, dispatch() once the body is).
///
/// Streamed bodies (HttpResponse::stream): the header goes out first (Content-Length when the
/// handler set content_length, else chunked; HEAD gets the header only and the producer never
/// runs). The producer then runs on a pool of up to 16 blocking threads (never an I/O thread) and
/// its pieces reach the socket through a queue of at most 4 MiB per response, so BodySink::write
/// blocks while the client is slow; it returns false once the socket failed, a write made no
/// progress for 30 s, or the server is stopping. A producer that fails, throws, or writes more
/// or fewer bytes than its Content-Length gets its connection closed without the terminating
/// chunk (a truncated transfer, never a valid-looking file); a complete stream keeps the
/// connection alive like any other response.
///
/// A server is started at most once. Thread safety: externally synchronized (start() and stop()
/// are called from one thread, never from an I/O thread); base_url() and port() may be called
/// from any thread between them.
class HttpServer {
public:
    HttpServer(HttpConfig config, std::shared_ptr<Dispatcher> dispatcher,
               std::shared_ptr<spdlog::logger> logger);
    /// Calls stop().
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;
    HttpServer(HttpServer&&) = delete;
    HttpServer& operator=(HttpServer&&) = delete;

    /// Raises the soft RLIMIT_NOFILE to the hard limit, binds, listens and starts the I/O threads;
    /// logs "listening on http://HOST:PORT" at info. UNAVAILABLE "cannot listen on HOST:PORT:
    /// <reason>" when the address cannot be bound; FAILED_PRECONDITION when already started.
    Status start();

    /// Closes the listening socket, lets each connection finish the response it is working on
    /// (idle keep-alive connections and connections still sending a header are closed at once;
    /// streamed bodies are cut short: their producers' write() returns false), waits up to 10 s
    /// for them, waits for the body producers to return, then stops and joins the I/O threads.
    /// Idempotent; logs instead of throwing.
    void stop() noexcept;

    /// Hands WebSocket upgrades and event-stream requests that `upgrader` wants to it once
    /// Dispatcher::before_body() admitted them (API.md §3); stop() stops it before the I/O
    /// threads end. Call before start().
    void set_stream_upgrader(std::shared_ptr<StreamUpgrader> upgrader) {
        upgrader_ = std::move(upgrader);
    }

    /// "http://127.0.0.1:23300" with the bound port while listening, "" otherwise.
    std::string base_url() const;
    /// The bound port while listening, 0 otherwise.
    std::uint16_t port() const noexcept { return port_.load(); }
    /// The most bytes one streamed response has had queued between its producer and the socket
    /// since start() (bounded by 4 MiB plus one 256 KiB piece); 0 when not started.
    std::size_t stream_queue_peak() const noexcept;

private:
    struct Runtime;  // io_context, listener and shared session state; defined in http_server.cpp

    HttpConfig config_;
    std::shared_ptr<Dispatcher> dispatcher_;
    std::shared_ptr<spdlog::logger> logger_;
    std::shared_ptr<StreamUpgrader> upgrader_;  // live streams; may be null
    std::unique_ptr<Runtime> runtime_;
    std::vector<std::thread> threads_;
    std::atomic<std::uint16_t> port_{0};
    bool started_ = false;
};

}  // namespace runicorn::http_plugin
