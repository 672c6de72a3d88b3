// The http plugin's entry point: reads the config, provides runicorn.http_routes/1 and runs the
// server between start() and stop().

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <spdlog/logger.h>

#include <runicorn/plugin/context.hpp>
#include <runicorn/plugin/kernel_info.hpp>
#include <runicorn/plugin/plugin.hpp>
#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

#include "api/api_routes.hpp"
#include "builtin_routes.hpp"
#include "dispatcher.hpp"
#include "guard/viewer_guard.hpp"
#include "http_config.hpp"
#include "http_server.hpp"
#include "live/live_routes.hpp"
#include "openapi/openapi_routes.hpp"
#include "route_table.hpp"
#include "static/static_files.hpp"
#include "telemetry/telemetry_routes.hpp"

namespace runicorn::http_plugin {
namespace {

/// The web UI (API.md §5): the built files from <plugin dir>/web or RUNICORN_FRONTEND_DIST, with
/// the built-in page while none is built.
std::shared_ptr<plugin::RouteHandler> make_static_ui(const plugin::PluginContext& ctx,
                                                     const BuiltinContext& builtin) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): init() runs before any thread of ours.
    const char* dist = std::getenv("RUNICORN_FRONTEND_DIST");
    return std::make_shared<StaticFiles>(
        web_root(ctx.plugin_dir(),
                 dist != nullptr ? std::optional<std::string>(dist) : std::nullopt),
        make_ui_placeholder(builtin));
}

/// The http plugin. Thread safety: externally synchronized (driven by the kernel's lifecycle).
class HttpPlugin final : public plugin::Plugin {
public:
    HttpPlugin() = default;
    ~HttpPlugin() override { stop(); }
    HttpPlugin(const HttpPlugin&) = delete;
    HttpPlugin& operator=(const HttpPlugin&) = delete;
    HttpPlugin(HttpPlugin&&) = delete;
    HttpPlugin& operator=(HttpPlugin&&) = delete;

    Status init(plugin::PluginContext& ctx) override {
        logger_ = ctx.logger();
        RUNICORN_ASSIGN_OR_RETURN(config_, parse_http_config(ctx.config()));
        // Uploads (POST /api/import/archive) spool on the store's filesystem, so the importer's
        // staging copy is a rename away and never fills a small /tmp.
        config_.spool_dir = ctx.storage_root() / "index" / "staging" / "uploads";
        for (const std::string& key : config_.ignored_keys) {
            logger_->warn("ignoring the unknown setting '/{}' of plugin 'http'", key);
        }
        BuiltinContext builtin{ctx.find<plugin::KernelInfo>(), ctx.storage_root()};
        if (builtin.kernel == nullptr) {
            logger_->warn("service '{}' is missing; /api/plugins will answer 503",
                          plugin::KernelInfo::kServiceId);
        }
        routes_ = std::make_shared<RouteTable>();
        RUNICORN_ASSIGN_OR_RETURN(builtin.health_extension,
                                  api::register_api(*routes_, ctx, logger_));
        RUNICORN_RETURN_IF_ERROR(add_builtin_routes(*routes_, builtin));
        // live: metrics, series, media, export and the streams (API.md §2.3, §3, §4.3, §4.4).
        RUNICORN_ASSIGN_OR_RETURN(live_streams_, live::register_live(*routes_, ctx, logger_));
        // guard: token, rate limits, CORS and the auth routes (API.md §1.4).
        // NOLINTNEXTLINE(concurrency-mt-unsafe): init() runs before any thread of ours.
        const char* env_token = std::getenv("RUNICORN_TOKEN");
        RUNICORN_ASSIGN_OR_RETURN(
            guard_, ViewerGuard::create(config_, ctx.config_dir(), logger_,
                                        env_token != nullptr ? std::optional<std::string>(env_token)
                                                             : std::nullopt));
        RUNICORN_RETURN_IF_ERROR(guard_->add_routes(*routes_));
        telemetry_ = std::make_shared<TelemetrySampler>(ctx.storage_root());
        RUNICORN_RETURN_IF_ERROR(add_telemetry_routes(*routes_, telemetry_));
        RUNICORN_RETURN_IF_ERROR(add_openapi_routes(
            routes_, builtin.kernel != nullptr ? builtin.kernel->version() : "unknown"));
        dispatcher_ =
            std::make_shared<Dispatcher>(routes_, config_.host, config_.allowed_hosts,
                                         make_static_ui(ctx, builtin), logger_, guard_->options());
        return ctx.provide<plugin::HttpRoutes>(routes_);
    }

    Status start() override {
        server_ = std::make_unique<HttpServer>(config_, dispatcher_, logger_);
        server_->set_stream_upgrader(live_streams_);
        RUNICORN_RETURN_IF_ERROR(server_->start());
        routes_->set_base_url(server_->base_url());
        guard_->on_listening(server_->base_url(), server_->port());
        telemetry_->start();
        return Status::ok();
    }

    void stop() noexcept override {
        if (server_ == nullptr) {
            return;
        }
        server_->stop();
        server_.reset();
        guard_->on_stopped();
        telemetry_->stop();
        routes_->set_base_url("");
        // Let go of other plugins' handlers so that their libraries can be unloaded.
        routes_->clear();
        live_streams_.reset();  // it holds other plugins' services
    }

private:
    HttpConfig config_;
    std::shared_ptr<spdlog::logger> logger_;
    std::shared_ptr<RouteTable> routes_;
    std::shared_ptr<Dispatcher> dispatcher_;
    std::unique_ptr<HttpServer> server_;
    std::shared_ptr<live::StreamHub> live_streams_;
    std::unique_ptr<ViewerGuard> guard_;
    std::shared_ptr<TelemetrySampler> telemetry_;
};

}  // namespace
}  // namespace runicorn::http_plugin

RUNICORN_DECLARE_PLUGIN(runicorn::http_plugin::HttpPlugin)
