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

namespace runicorn::http_plugin {

/// The asynchronous Boost.Beast server (STYLE.md rules 27-31): one Listener, one HttpSession per
/// connection on its own strand, `config.threads` I/O threads. Per request: 10 s to send the
/// header, 30 s per body read, an 8 KiB header block (431 beyond), a 1 MiB body (413 beyond),
/// keep-alive, one request in flight per connection. Requests go to the Dispatcher.
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
    /// (idle keep-alive connections and connections still sending a header are closed at once),
    /// waits up to 10 s for them, then stops and joins the I/O threads. Idempotent; logs instead
    /// of throwing.
    void stop() noexcept;

    /// "http://127.0.0.1:23300" with the bound port while listening, "" otherwise.
    std::string base_url() const;
    /// The bound port while listening, 0 otherwise.
    std::uint16_t port() const noexcept { return port_.load(); }

private:
    struct Runtime;  // io_context, listener and shared session state; defined in http_server.cpp

    HttpConfig config_;
    std::shared_ptr<Dispatcher> dispatcher_;
    std::shared_ptr<spdlog::logger> logger_;
    std::unique_ptr<Runtime> runtime_;
    std::vector<std::thread> threads_;
    std::atomic<std::uint16_t> port_{0};
    bool started_ = false;
};

}  // namespace runicorn::http_plugin
