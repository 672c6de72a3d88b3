#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include <runicorn/plugin/http_routes.hpp>

#include "route_table.hpp"

namespace runicorn::http_plugin {

/// The request-level half of the server, free of sockets: the Host check, routing, the web UI
/// fallback and the exception barrier around handlers. HttpSession feeds it parsed requests.
///
/// Thread safety: safe for concurrent use.
class Dispatcher {
public:
    /// `bind_host` is the configured listen host; `allowed_hosts` are extra lower-case Host names.
    /// `ui_fallback` (may be null) answers GET and HEAD for paths outside /api that no route
    /// matches.
    Dispatcher(std::shared_ptr<RouteTable> routes, std::string_view bind_host,
               const std::vector<std::string>& allowed_hosts,
               std::shared_ptr<plugin::RouteHandler> ui_fallback,
               std::shared_ptr<spdlog::logger> logger);
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;
    Dispatcher(Dispatcher&&) = delete;
    Dispatcher& operator=(Dispatcher&&) = delete;
    ~Dispatcher() = default;

    /// Checks made once the header is in and before the body is read: exactly one Host header
    /// naming an allowed host (DNS rebinding, API.md §1.4) and a well-formed target. Returns the
    /// refusal (400 or 403), or nullopt to go on. `request` has no body yet.
    std::optional<plugin::HttpResponse> before_body(const plugin::HttpRequest& request) const;

    /// Answers a complete request that passed before_body(): fills `path`, `query` and
    /// `path_params`, then returns the handler's response, 404 {"detail": "Not Found"}, 405 with
    /// `Allow`, or 500 {"detail": "Internal Server Error (request id <id>)"} when the handler
    /// throws (the exception is logged with the id). Never throws except std::bad_alloc.
    plugin::HttpResponse dispatch(plugin::HttpRequest& request);

    /// True when `host_header` (a Host header value, port optional) names an allowed host.
    bool host_allowed(std::string_view host_header) const;

    /// A new id for correlating a response with the log: 16 hex digits, unique per process run.
    std::string next_request_id();

private:
    plugin::HttpResponse call_handler(plugin::RouteHandler& handler,
                                      const plugin::HttpRequest& request);

    std::shared_ptr<RouteTable> routes_;
    std::vector<std::string> allowed_hosts_;
    std::shared_ptr<plugin::RouteHandler> ui_fallback_;
    std::shared_ptr<spdlog::logger> logger_;
    std::uint32_t request_id_salt_;
    std::atomic<std::uint32_t> request_counter_{0};
};

/// True for "/api" and paths below it.
bool is_api_path(std::string_view path);

}  // namespace runicorn::http_plugin
