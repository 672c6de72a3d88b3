#pragma once

#include <functional>
#include <memory>

#include <boost/json/object.hpp>
#include <spdlog/logger.h>

#include <runicorn/plugin/context.hpp>
#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

#include "api_state.hpp"

namespace runicorn::http_plugin::api {

/// Adds fields to the GET /api/health body (see add_health_fields()).
using HealthHook = std::function<void(const plugin::HttpRequest&, boost::json::object&)>;

/// Registers every route of the run API (API.md §2.1 status/stats/version/environment, §2.2
/// runs and recycle bin, §2.4 paths and projects, §2.5 config except SSH) on `routes`. The
/// handlers share `state`. Returns the first add_route failure.
Status add_api_routes(plugin::HttpRoutes& routes, const std::shared_ptr<ApiState>& state);

/// The http plugin's one call during init(): builds the API state from `ctx` (the run store
/// runicorn.run_store/1, which may be missing: its routes then answer 503 and a warning is
/// logged; the storage root; the config directory; the kernel's version), registers the routes
/// and returns the hook the built-in /api/health route calls. Only the handlers own the state.
Result<HealthHook> register_api(plugin::HttpRoutes& routes, const plugin::PluginContext& ctx,
                                std::shared_ptr<spdlog::logger> logger);

}  // namespace runicorn::http_plugin::api
