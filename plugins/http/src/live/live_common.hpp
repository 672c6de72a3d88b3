#pragma once

// Shared pieces of the "live" routes (metrics, series, media, export, streams): the services they
// use and the mapping of service failures to HTTP answers.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/plugin/metric_series.hpp>
#include <runicorn/plugin/run_store.hpp>
#include <runicorn/status.hpp>

namespace runicorn::http_plugin::live {

/// What the live routes and streams use. Either service may be null (its plugin is not loaded):
/// the routes that need it answer 503. Thread safety: immutable after construction.
struct LiveServices {
    std::shared_ptr<plugin::RunStore> runs;
    std::shared_ptr<plugin::MetricSeries> series;
    std::shared_ptr<spdlog::logger> logger;  ///< never null
};

/// 503 {"detail": "storage plugin not loaded", "code": "PLUGIN_NOT_LOADED"}.
plugin::HttpResponse storage_missing();

/// 404 {"detail": "Run not found", "code": "RUN_NOT_FOUND"}.
plugin::HttpResponse run_not_found();

/// A service failure as a response: NOT_FOUND gives run_not_found(); INVALID_ARGUMENT whose
/// message is "<name>: <text>" gives 422 {"detail": [{"loc": [`where`, name], "msg": text,
/// "type": "value_error"}]}; other codes map as responses.hpp's error_response(Status), except
/// that a 500 hides its message (logged on `log` with `what`).
plugin::HttpResponse failure_response(const Status& status, std::string_view where,
                                      spdlog::logger& log, std::string_view what);

/// Reads the optional integer query parameter `name`. Returns the 422 list-form error for a
/// value that is not an integer, else nullopt (and sets `out` when present).
std::optional<plugin::HttpResponse> query_int(const plugin::HttpRequest& request,
                                              std::string_view name,
                                              std::optional<std::int64_t>& out);

/// Reads the optional number query parameter `name` (422 when not a finite number).
std::optional<plugin::HttpResponse> query_double(const plugin::HttpRequest& request,
                                                 std::string_view name, std::optional<double>& out);

/// The caching rule of API.md §1.1 for series endpoints: a 200 `response` gets
/// `Cache-Control: no-cache` and an ETag over the request target and the body; when the request's
/// If-None-Match names it, a 304 without body is returned instead.
plugin::HttpResponse with_etag(const plugin::HttpRequest& request, plugin::HttpResponse response);

/// FastAPI's bool parsing: true/1/yes/on and false/0/no/off (case-insensitive).
std::optional<bool> parse_bool_text(std::string_view text);

/// Splits a comma list, trimming spaces and dropping empty items.
std::vector<std::string> split_list(std::string_view text);

}  // namespace runicorn::http_plugin::live
