#pragma once

#include <memory>

#include <spdlog/logger.h>

#include <runicorn/plugin/context.hpp>
#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/result.hpp>

#include "stream_hub.hpp"

namespace runicorn::http_plugin::live {

/// Looks up runicorn.run_store/1 and runicorn.metric_series/1 (either may be missing: its routes
/// answer 503), adds the metric, series, media, export and stream routes, and returns the stream
/// hub that HttpServer::set_stream_upgrader() takes. Fails like HttpRoutes::add_route.
Result<std::shared_ptr<StreamHub>> register_live(plugin::HttpRoutes& routes,
                                                 const plugin::PluginContext& ctx,
                                                 std::shared_ptr<spdlog::logger> logger);

/// The same from services already at hand (tests).
Result<std::shared_ptr<StreamHub>> register_live(plugin::HttpRoutes& routes,
                                                 const LiveServices& services,
                                                 const StreamOptions& options);

}  // namespace runicorn::http_plugin::live
