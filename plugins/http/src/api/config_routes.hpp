#pragma once

#include <memory>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

#include "api_state.hpp"

namespace runicorn::http_plugin::api {

/// Adds the config and UI-preference routes of API.md §2.5 (SSH connections excepted):
///   GET    /api/config                         {"user_root_dir", "storage", "config_file",
///                                               "config_dir", "storage_source",
///                                               "storage_writable"}
///   POST   /api/config/user_root_dir           expands, checks, creates and saves the root,
///                                               then asks the run store to switch to it
///                                               (RunStore::switch_root()) →
///                                               {"ok": true, "user_root_dir", "storage",
///                                               "restart_required", "message"}: "storage" is the
///                                               root served now; restart_required is true when
///                                               the store cannot switch (UNIMPLEMENTED or a
///                                               failure), and the new root is then served from
///                                               the next start
///   GET/POST/DELETE /api/config/column-widths, POST /api/config/column-widths/reset
///   GET  /api/config/dismissed-alerts, POST .../dismiss, .../undismiss, .../clear
/// The preferences live in <config_dir>/ui_preferences.json as v0.6 keeps them (FORMAT.md §1.3).
/// `storage_source` is inferred: "env" when RUNICORN_DIR names the served root, else "config"
/// when user_root_dir does, else "default" when ./.runicorn does, else "flag".
/// Returns the first add_route failure.
Status add_config_routes(plugin::HttpRoutes& routes, const std::shared_ptr<ApiState>& state);

}  // namespace runicorn::http_plugin::api
