#pragma once

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

#include "live_common.hpp"

namespace runicorn::http_plugin::live {

/// Adds the metric routes (API.md §2.1 cache stats, §2.3 metrics_step/metrics, §4.3 metric-keys,
/// series, series query and metrics export). Each answers 503 while `services.series` (or, for
/// export, `services.runs`) is null. Fails like HttpRoutes::add_route.
Status add_series_routes(plugin::HttpRoutes& routes, const LiveServices& services);

}  // namespace runicorn::http_plugin::live
