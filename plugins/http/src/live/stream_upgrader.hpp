#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <runicorn/plugin/http_routes.hpp>

namespace runicorn::http_plugin {

/// The HTTP server's hook for the live streams (API.md §3): after Dispatcher::before_body()
/// admitted a request header, the server asks wants(); when it says yes, the connection is
/// handed over with take() and the HttpSession ends. The implementation (live::StreamHub) owns
/// the connection from then on, on the socket's own strand.
///
/// Thread safety: safe for concurrent use.
class StreamUpgrader {
public:
    virtual ~StreamUpgrader() = default;
    StreamUpgrader(const StreamUpgrader&) = delete;
    StreamUpgrader& operator=(const StreamUpgrader&) = delete;
    StreamUpgrader(StreamUpgrader&&) = delete;
    StreamUpgrader& operator=(StreamUpgrader&&) = delete;

    /// True when `request` (header only; lower-case header names) is a stream request this
    /// upgrader serves: a WebSocket upgrade of a stream path, or GET /api/events.
    virtual bool wants(const plugin::HttpRequest& request) const = 0;

    /// Takes the connection over. `raw` is the parsed header (no body), `request` its
    /// HttpRequest form. Never throws; failures close the socket.
    virtual void take(boost::asio::ip::tcp::socket socket,
                      boost::beast::http::request<boost::beast::http::string_body> raw,
                      plugin::HttpRequest request) noexcept = 0;

    /// Closes every stream (WebSocket close 1001, end of the SSE body) and stops delivering file
    /// notifications; waits up to 2 s for the streams to end. Called by HttpServer::stop()
    /// before the I/O threads stop. Idempotent.
    virtual void stop() noexcept = 0;

protected:
    StreamUpgrader() = default;
};

}  // namespace runicorn::http_plugin
