#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

#include "api_state.hpp"

namespace runicorn::http_plugin::api {

using Handler = std::function<plugin::HttpResponse(const plugin::HttpRequest&)>;

/// Adds one route whose handler is `fn` (see plugin::HttpRoutes::add_route).
Status add_route(plugin::HttpRoutes& routes, plugin::RouteSpec spec, Handler fn);

/// Wraps `fn` so that it answers store_missing() while `state` has no run store; the handler
/// keeps `state` alive.
Handler with_store(const std::shared_ptr<ApiState>& state,
                   std::function<plugin::HttpResponse(ApiState&, const plugin::HttpRequest&)> fn);

/// 503 {"detail": "Storage plugin not loaded", "code": "PLUGIN_NOT_LOADED"}.
plugin::HttpResponse store_missing();

/// 404 {"detail": "Run not found", "code": "RUN_NOT_FOUND"} (API.md §1.1).
plugin::HttpResponse run_not_found();

/// 400 {"detail": "Invalid run_id format: <id>", "code": "INVALID_RUN_ID"} (API.md §1.1).
plugin::HttpResponse invalid_run_id(std::string_view run_id);

/// A failure of the run store as a response: NOT_FOUND gives run_not_found(), the others map as
/// in API.md §1.2; a 500 is logged on the state's logger with `what` and answers
/// {"detail": "Internal error", "code": "INTERNAL"} without the message.
plugin::HttpResponse store_failure(const ApiState& state, std::string_view what,
                                   const Status& status);

/// Reads a JSON request body that must be an object (parse_json_body() rules: 415, 413, 400);
/// a 422 list-form error when it is another JSON value. nullopt on success.
std::optional<plugin::HttpResponse> object_body(const plugin::HttpRequest& request,
                                                boost::json::object& out);

/// FastAPI's bool parsing: true/1/yes/on/t/y and false/0/no/off/f/n, case-insensitive.
std::optional<bool> parse_bool(std::string_view text);

/// Reads the optional boolean query parameter `name` into `value` (left alone when absent).
/// Returns a 422 list-form error for a value parse_bool() refuses, else nullopt.
std::optional<plugin::HttpResponse> query_bool(const plugin::HttpRequest& request,
                                               std::string_view name, bool& value);

/// A list response with the caching rules of API.md §1.1: `Cache-Control: no-cache`, an ETag
/// computed from the request target and the body (plus `extra` headers), and 304 with no body
/// when If-None-Match names it (or is "*").
plugin::HttpResponse cached_json(const plugin::HttpRequest& request, const boost::json::value& body,
                                 plugin::HeaderList extra = {});

/// The ETag cached_json() would send for this target, body text and headers ("W/" never used:
/// the tag covers the exact bytes).
std::string list_etag(std::string_view target, std::string_view body,
                      const plugin::HeaderList& extra);

}  // namespace runicorn::http_plugin::api
