#pragma once

#include <functional>
#include <memory>

#include <boost/json/object.hpp>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

#include "api_state.hpp"

namespace runicorn::http_plugin::api {

/// The fields the run API adds to GET /api/health (API.md §2.1): "cache" (the metric series
/// cache: {"enabled": true, "type": "incremental", "hit_rate": "<hits/(hits+misses), %.1f>%",
/// "hits", "misses", "incremental_updates", "size", "max_size"}; absent without the metric series
/// service), "store_id" (from runicorn-store.json, null for a v0.6 store), "read_only" (the root
/// is not writable) and "catalog": {"runs" (non-deleted runs, null without a store), "lag_ms"
/// (null: the store does not report it)}.
void add_health_fields(const ApiState& state, boost::json::object& body);

/// A hook for the built-in /api/health route that calls add_health_fields() while `state` is
/// alive (it holds only a weak reference, so it never keeps the statistics thread running).
/// The fields that read the disk or count the catalog ("store_id", "read_only", "catalog") are
/// kept for one second: health is polled, and a count per request made it the slowest "trivial"
/// endpoint (BENCHMARKS B6). Thread safety: the hook is safe for concurrent use.
std::function<void(const plugin::HttpRequest&, boost::json::object&)> health_extension(
    std::weak_ptr<ApiState> state);

/// The body of GET /api/version (API.md §4.11).
boost::json::object version_body(const ApiState& state);

/// Adds:
///   POST /api/status/check            {"checked", "updated", "message"}: re-reads every
///                                     catalogued "running" run through the liveness check
///   GET  /api/storage/stats           the figures of compute_storage_stats(), at most 60 s old
///   GET  /api/version                 version_body()
///   GET  /api/environment/:run_id     {"available": false} or {"available": true,
///                                     "environment": {...}}; 404 for an unknown run
/// Returns the first add_route failure.
Status add_system_routes(plugin::HttpRoutes& routes, const std::shared_ptr<ApiState>& state);

}  // namespace runicorn::http_plugin::api
