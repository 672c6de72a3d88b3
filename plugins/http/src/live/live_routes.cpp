#include "live_routes.hpp"

#include <utility>

#include "media_routes.hpp"
#include "series_routes.hpp"

namespace runicorn::http_plugin::live {

Result<std::shared_ptr<StreamHub>> register_live(plugin::HttpRoutes& routes,
                                                 const LiveServices& services,
                                                 const StreamOptions& options) {
    RUNICORN_RETURN_IF_ERROR(add_series_routes(routes, services));
    RUNICORN_RETURN_IF_ERROR(add_media_routes(routes, services));
    RUNICORN_RETURN_IF_ERROR(add_stream_routes(routes));
    return std::make_shared<StreamHub>(services, options);
}

Result<std::shared_ptr<StreamHub>> register_live(plugin::HttpRoutes& routes,
                                                 const plugin::PluginContext& ctx,
                                                 std::shared_ptr<spdlog::logger> logger) {
    LiveServices services;
    services.runs = ctx.find<plugin::RunStore>();
    services.series = ctx.find<plugin::MetricSeries>();
    services.logger = std::move(logger);
    if (services.series == nullptr) {
        services.logger->warn("service '{}' is missing; metric and series routes will answer 503",
                              plugin::MetricSeries::kServiceId);
    }
    return register_live(routes, services, StreamOptions{});
}

}  // namespace runicorn::http_plugin::live
