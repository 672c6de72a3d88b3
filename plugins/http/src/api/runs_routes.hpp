#pragma once

#include <memory>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

#include "api_state.hpp"

namespace runicorn::http_plugin::api {

/// Adds the run routes of API.md §2.2 (with the §4.1 query parameters on GET /api/runs):
///   GET    /api/runs                      [RunListItem] (+ X-Total-Count, X-Next-Cursor, Link,
///                                         ETag/304, Cache-Control: no-cache)
///   GET    /api/runs/:run_id              run detail; 404 {"detail": "Run not found"}
///   PATCH  /api/runs/:run_id              {"ok": true, "alias", "tags"}
///   GET    /api/runs/:run_id/assets       {"run_id", "assets", "assets_count"}
///   GET    /api/runs/:run_id/progress     {"available": false, "status": "unknown"} (COMPAT stub)
///   POST   /api/runs/soft-delete          {"deleted_count", "results", "message"}
///   GET    /api/recycle-bin               {"deleted_runs": [...]}
///   POST   /api/recycle-bin/restore       {"restored_count", "results", "message"}
///   POST   /api/recycle-bin/empty         {"permanently_deleted", "message", "blobs_deleted",
///                                          "bytes_freed", "errors"}
///   DELETE /api/runs/:run_id/permanent    single permanent-delete result
///   POST   /api/runs/permanent-delete     batch permanent-delete result
/// Permanent deletion goes through RunStore::purge(): the run folder and its rolling outputs
/// go; blobs are left to the dedup plugin's garbage collection, so `blobs_deleted` and
/// `manifests_deleted` are 0 and `orphaned_assets`/`kept_assets` are empty. `bytes_freed` counts
/// the run folder and the rolling outputs actually removed. A run that is not soft-deleted is
/// soft-deleted first (reason "permanent_delete"), and restored again if the purge fails.
/// Every route answers 503 without a run store. Returns the first add_route failure.
Status add_run_routes(plugin::HttpRoutes& routes, const std::shared_ptr<ApiState>& state);

}  // namespace runicorn::http_plugin::api
