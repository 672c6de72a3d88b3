// The http plugin's entry point: reads the config, provides runicorn.http_routes/1 and runs the
// server between start() and stop().

#include <memory>
#include <string>
#include <utility>

#include <spdlog/logger.h>

#include <runicorn/plugin/context.hpp>
#include <runicorn/plugin/kernel_info.hpp>
#include <runicorn/plugin/plugin.hpp>
#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

#include "builtin_routes.hpp"
#include "dispatcher.hpp"
#include "http_config.hpp"
#include "http_server.hpp"
#include "route_table.hpp"

namespace runicorn::http_plugin {
namespace {

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
        for (const std::string& key : config_.ignored_keys) {
            logger_->warn("ignoring the unknown setting '/{}' of plugin 'http'", key);
        }
        BuiltinContext builtin{ctx.find<plugin::KernelInfo>(), ctx.storage_root()};
        if (builtin.kernel == nullptr) {
            logger_->warn("service '{}' is missing; /api/plugins will answer 503",
                          plugin::KernelInfo::kServiceId);
        }
        routes_ = std::make_shared<RouteTable>();
        RUNICORN_RETURN_IF_ERROR(add_builtin_routes(*routes_, builtin));
        dispatcher_ = std::make_shared<Dispatcher>(routes_, config_.host, config_.allowed_hosts,
                                                   make_ui_placeholder(builtin), logger_);
        return ctx.provide<plugin::HttpRoutes>(routes_);
    }

    Status start() override {
        server_ = std::make_unique<HttpServer>(config_, dispatcher_, logger_);
        RUNICORN_RETURN_IF_ERROR(server_->start());
        routes_->set_base_url(server_->base_url());
        return Status::ok();
    }

    void stop() noexcept override {
        if (server_ == nullptr) {
            return;
        }
        server_->stop();
        server_.reset();
        routes_->set_base_url("");
        // Let go of other plugins' handlers so that their libraries can be unloaded.
        routes_->clear();
    }

private:
    HttpConfig config_;
    std::shared_ptr<spdlog::logger> logger_;
    std::shared_ptr<RouteTable> routes_;
    std::shared_ptr<Dispatcher> dispatcher_;
    std::unique_ptr<HttpServer> server_;
};

}  // namespace
}  // namespace runicorn::http_plugin

RUNICORN_DECLARE_PLUGIN(runicorn::http_plugin::HttpPlugin)
