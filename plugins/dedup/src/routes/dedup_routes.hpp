#pragma once

#include <memory>

#include <runicorn/plugin/artifact_store.hpp>
#include <runicorn/plugin/blob_store.hpp>
#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

#include "job_registry.hpp"

namespace runicorn::dedup {

/// Adds the dedup plugin's HTTP routes to `routes`: the artifacts of API.md §4.5 (list, one
/// artifact, versions, one version, files, one file, zip download, lineage, alias set/remove,
/// version delete) and §4.6 (GET /api/blobs/stats, POST /api/maintenance/gc and /verify, GET
/// /api/jobs/:job_id). Errors are {"detail": "...", "code": "..."}. Returns the first
/// registration failure (the routes added before it stay).
Status register_dedup_routes(plugin::HttpRoutes& routes, std::shared_ptr<plugin::BlobStore> blobs,
                             std::shared_ptr<plugin::ArtifactStore> artifacts,
                             std::shared_ptr<JobRegistry> jobs);

}  // namespace runicorn::dedup
