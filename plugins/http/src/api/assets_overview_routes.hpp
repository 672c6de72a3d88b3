#pragma once

#include <memory>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

#include "api_state.hpp"

namespace runicorn::http_plugin::api {

/// GET /api/assets (API.md §4.12): every asset recorded in the runs' assets.json, grouped, with
/// the number of non-deleted runs using it, most recently used first; served from the run
/// store's catalog (RunStore::list_assets()), never from the run folders. Parameters: `type`
/// (comma list of code_snapshot, dataset, pretrained, output), `path` + `exact`, `archived`,
/// `q`, `limit` (1..1000, default 200), `cursor`. Answers {"assets": [...], "next_cursor"} with
/// X-Total-Count; 422 for a bad type, limit or boolean; 400 INVALID_CURSOR for a cursor of another
/// query; 503 without a run store, or when the store cannot list assets (UNIMPLEMENTED).
Status add_assets_overview_routes(plugin::HttpRoutes& routes,
                                  const std::shared_ptr<ApiState>& state);

}  // namespace runicorn::http_plugin::api
