#include "api_routes.hpp"

#include <utility>

#include <runicorn/plugin/kernel_info.hpp>
#include <runicorn/plugin/metric_series.hpp>
#include <runicorn/plugin/run_store.hpp>

#include "../archive/archive_routes.hpp"
#include "assets_overview_routes.hpp"
#include "assets_routes.hpp"
#include "config_routes.hpp"
#include "paths_routes.hpp"
#include "runs_routes.hpp"
#include "ssh_config_routes.hpp"
#include "system_routes.hpp"

namespace runicorn::http_plugin::api {

Status add_api_routes(plugin::HttpRoutes& routes, const std::shared_ptr<ApiState>& state) {
    RUNICORN_RETURN_IF_ERROR(add_run_routes(routes, state));
    RUNICORN_RETURN_IF_ERROR(add_asset_routes(routes, state));
    RUNICORN_RETURN_IF_ERROR(add_assets_overview_routes(routes, state));
    RUNICORN_RETURN_IF_ERROR(add_path_routes(routes, state));
    RUNICORN_RETURN_IF_ERROR(add_system_routes(routes, state));
    RUNICORN_RETURN_IF_ERROR(add_config_routes(routes, state));
    RUNICORN_RETURN_IF_ERROR(add_ssh_config_routes(routes, state));
    return Status::ok();
}

Result<HealthHook> register_api(plugin::HttpRoutes& routes, const plugin::PluginContext& ctx,
                                std::shared_ptr<spdlog::logger> logger) {
    ApiOptions options;
    options.store = ctx.find<plugin::RunStore>();
    if (options.store == nullptr && logger != nullptr) {
        logger->warn("service '{}' is missing; the run API will answer 503",
                     plugin::RunStore::kServiceId);
    }
    options.series = ctx.find<plugin::MetricSeries>();
    options.storage_root = ctx.storage_root();
    options.config_dir = ctx.config_dir();
    const std::shared_ptr<plugin::KernelInfo> kernel = ctx.find<plugin::KernelInfo>();
    options.version = kernel != nullptr ? kernel->version() : std::string("unknown");
    options.logger = std::move(logger);
    auto state = std::make_shared<ApiState>(std::move(options));
    RUNICORN_RETURN_IF_ERROR(add_api_routes(routes, state));
    auto archive_options = std::make_shared<archive::ArchiveRouteOptions>();
    archive_options->store = state->store();
    archive_options->root = state->storage_root();
    archive_options->version = state->version();
    archive_options->limits = archive::import_limits_from_config(ctx.config());
    archive_options->logger = state->logger();
    RUNICORN_RETURN_IF_ERROR(archive::add_archive_routes(routes, std::move(archive_options)));
    return health_extension(state);
}

}  // namespace runicorn::http_plugin::api
