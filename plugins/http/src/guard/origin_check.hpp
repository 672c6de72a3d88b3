#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <runicorn/plugin/http_routes.hpp>

namespace runicorn::http_plugin {

/// True for POST, PUT, PATCH and DELETE, and for WebSocket upgrades and SSE requests
/// (`Upgrade: websocket`, `Accept: text/event-stream`, and any request for /api/events): the
/// requests the Origin check covers.
bool needs_origin_check(const plugin::HttpRequest& request);

/// The CSRF / cross-site WebSocket check of API.md §1.4 for a request that needs_origin_check():
/// an `Origin` must be the request's own origin (http or https + its Host header) or one of
/// `allowed_origins` (normalised, see normalize_origin()); `Origin: null` is refused; without an
/// Origin, `Sec-Fetch-Site: cross-site` or `same-site` is refused. Returns true when it passes.
bool origin_allowed(const plugin::HttpRequest& request,
                    const std::vector<std::string>& allowed_origins);

/// The CORS headers for a response (API.md §1.4): when the request's Origin is one of
/// `allowed_origins`, `Access-Control-Allow-Origin: <that origin>` and `Vary: Origin`, and for a
/// preflight (OPTIONS with Access-Control-Request-Method) also the allowed methods and headers.
/// Empty otherwise; `*` is never produced.
plugin::HeaderList cors_headers(const plugin::HttpRequest& request,
                                const std::vector<std::string>& allowed_origins);

}  // namespace runicorn::http_plugin
