#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include <runicorn/plugin/http_routes.hpp>

#include "guard/rate_limiter.hpp"
#include "guard/token_auth.hpp"
#include "route_table.hpp"

namespace runicorn::http_plugin {

/// The security settings of a Dispatcher beyond the Host check (API.md §1.4). Every member may be
/// left empty: no CORS origins, no token, no rate limit.
struct GuardOptions {
    std::vector<std::string> allowed_origins;   ///< Normalised (normalize_origin()).
    std::shared_ptr<TokenAuth> auth;            ///< Null: no token is ever required.
    std::shared_ptr<RateLimiter> rate_limiter;  ///< Null: nothing is rate limited.
    /// The clock for the rate limiter; defaults to steady_clock::now.
    std::function<std::chrono::steady_clock::time_point()> clock;
};

/// The request-level half of the server, free of sockets: the admission checks (Host, rate limit,
/// Origin, token), routing, the login link, the web UI fallback and the exception barrier around
/// handlers. HttpSession feeds it parsed requests.
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
               std::shared_ptr<spdlog::logger> logger, GuardOptions guard = {});
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;
    Dispatcher(Dispatcher&&) = delete;
    Dispatcher& operator=(Dispatcher&&) = delete;
    ~Dispatcher() = default;

    /// THE admission check, made once the header is in and before a body is read or a stream is
    /// upgraded, in this order: exactly one Host header naming an allowed host (400/403 "Host not
    /// allowed", DNS rebinding), a well-formed target (400), the rate limit on /api paths (429
    /// {"detail": "Rate limit exceeded", "retry_after"} with Retry-After), the Origin check on
    /// POST/PUT/PATCH/DELETE and streams (403 "Origin not allowed"), and the token on /api paths
    /// other than GET /api/auth/status and on /openapi.json (401 "Authentication required" with
    /// WWW-Authenticate: Bearer). Returns the refusal, or nullopt to go on. `request` has no body
    /// yet. When `response_headers` is given it receives the headers the eventual response must
    /// carry (X-RateLimit-*, CORS); a refusal carries them already. A refusal's `detail` is in
    /// the request's language (?lng=, Accept-Language; API.md §4.8) with `code` unchanged
    /// (HOST_NOT_ALLOWED, ORIGIN_NOT_ALLOWED, RATE_LIMITED, AUTH_REQUIRED).
    std::optional<plugin::HttpResponse> before_body(
        const plugin::HttpRequest& request, plugin::HeaderList* response_headers = nullptr) const;

    /// Answers a complete request that passed before_body(): fills `path`, `query` and
    /// `path_params`, then returns the handler's response, 204 for OPTIONS, the login-link
    /// redirect (303) for `?login=` / `?token=` outside /api, 404 {"detail": "Not Found"}, 405
    /// with `Allow`, or 500 {"detail": "Internal Server Error (request id <id>)"} when the handler
    /// throws (the exception is logged with the id). `extra_headers` (from before_body) are
    /// appended. Never throws except std::bad_alloc.
    plugin::HttpResponse dispatch(plugin::HttpRequest& request,
                                  const plugin::HeaderList& extra_headers = {});

    /// The body limit of the route `request` (header only) goes to: its RouteSpec::max_body_bytes,
    /// or 0 when it declares none or no route matches (the server's default applies).
    std::uint64_t route_body_limit(const plugin::HttpRequest& request) const;

    /// True when `host_header` (a Host header value, port optional) names an allowed host.
    bool host_allowed(std::string_view host_header) const;

    /// A new id for correlating a response with the log: 16 hex digits, unique per process run.
    std::string next_request_id();

    /// The token checker (null when none is configured).
    const std::shared_ptr<TokenAuth>& auth() const noexcept { return guard_.auth; }

private:
    std::optional<plugin::HttpResponse> admission(const plugin::HttpRequest& request,
                                                  plugin::HeaderList* response_headers) const;
    plugin::HttpResponse call_handler(plugin::RouteHandler& handler,
                                      const plugin::HttpRequest& request);
    plugin::HttpResponse route(plugin::HttpRequest& request);

    std::shared_ptr<RouteTable> routes_;
    std::vector<std::string> allowed_hosts_;
    std::shared_ptr<plugin::RouteHandler> ui_fallback_;
    std::shared_ptr<spdlog::logger> logger_;
    GuardOptions guard_;
    std::uint32_t request_id_salt_;
    std::atomic<std::uint32_t> request_counter_{0};
};

/// True for "/api" and paths below it.
bool is_api_path(std::string_view path);

/// True for a path whose requests need the token when one is required: /api paths except
/// `GET /api/auth/status`, and /openapi.json.
bool needs_token(std::string_view method, std::string_view path);

}  // namespace runicorn::http_plugin
