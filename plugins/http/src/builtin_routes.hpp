#pragma once

#include <filesystem>
#include <functional>
#include <memory>

#include <boost/json/object.hpp>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/plugin/kernel_info.hpp>
#include <runicorn/status.hpp>

#include "route_table.hpp"

namespace runicorn::http_plugin {

/// The facts the built-in routes report. `kernel` may be null (then the version reads "unknown"
/// and /api/plugins answers 503).
struct BuiltinContext {
    std::shared_ptr<plugin::KernelInfo> kernel;
    std::filesystem::path storage_root;
    /// Adds the run API's fields to the /api/health body (api/system_routes.hpp); may be empty.
    std::function<void(const plugin::HttpRequest&, boost::json::object&)> health_extension = {};
};

/// Adds the routes the http plugin serves itself:
///   GET /api/health       {"status": "ok", "storage", "version", "compat_version": "0.6.0",
///                          "implementation": "runicorn-cpp", "nonce" (echo of ?nonce=, if any)}
///   GET /api/plugins      {"plugins": [...], "kernel": {"version", "abi_version"}} (API.md §4.7)
///   GET /api/plugins/:id  one entry, or 404 {"detail": "Plugin '<id>' not found"}
/// Returns the first failure of RouteTable::add_route.
Status add_builtin_routes(RouteTable& routes, const BuiltinContext& context);

/// The page served at / and at every other path outside /api while the web UI is not built: a
/// self-contained HTML page (inline CSS, no external resources) with the version, the storage
/// root, the plugins, and how to build the UI or point RUNICORN_FRONTEND_DIST at one.
std::shared_ptr<plugin::RouteHandler> make_ui_placeholder(BuiltinContext context);

}  // namespace runicorn::http_plugin
