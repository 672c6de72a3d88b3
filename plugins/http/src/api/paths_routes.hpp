#pragma once

#include <memory>

#include <boost/json/object.hpp>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

#include "api_state.hpp"

namespace runicorn::http_plugin::api {

/// The run-path tree of API.md §2.4: {"<seg>": {"<seg>": {}}} for every path in `paths`.
boost::json::object path_tree(const std::vector<std::string>& paths);

/// Adds the path and project routes of API.md §2.4 (non-deleted runs; root-path runs are in no
/// path list):
///   GET  /api/paths                 {"paths", "tree"} (+ "stats" with include_stats)
///   GET  /api/paths/tree            {"tree"}
///   GET  /api/paths/runs            [RunListItem] under `path` (prefix rule, `exact`)
///   POST /api/paths/soft-delete     {"path", "deleted_count", "errors", "message"}
///   GET  /api/paths/export          format=json only; zip and tar.gz answer 501 NOT_IMPLEMENTED
///   GET  /api/projects              {"projects"}
///   GET  /api/projects/:project/names              {"names"}
///   GET  /api/projects/:project/names/:name/runs   [{"run_id", "path", "alias", "status",
///                                                    "start_time"}]
/// Every route answers 503 without a run store. Returns the first add_route failure.
Status add_path_routes(plugin::HttpRoutes& routes, const std::shared_ptr<ApiState>& state);

}  // namespace runicorn::http_plugin::api
