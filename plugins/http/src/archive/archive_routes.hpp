#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <spdlog/logger.h>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/plugin/run_store.hpp>
#include <runicorn/status.hpp>

#include "archive_import.hpp"

namespace runicorn::http_plugin::archive {

/// What the export and import routes are built from.
struct ArchiveRouteOptions {
    std::shared_ptr<plugin::RunStore> store;  ///< May be null: the routes then answer 503.
    std::filesystem::path root;               ///< The storage root.
    std::string version;                      ///< Our product version, for created_by.
    ImportLimits limits;
    std::shared_ptr<spdlog::logger> logger;  ///< May be null.
};

/// The import limits from the http plugin's config object, key "import": {"max_upload_bytes",
/// "max_total_bytes", "max_entries", "max_ratio"} (positive integers; others keep the defaults
/// of API.md §1.3).
ImportLimits import_limits_from_config(const boost::json::object& plugin_config);

/// Adds `GET /api/runs/:run_id/export`, `POST /api/export` and `POST /api/import/archive`
/// (API.md §2.6, §4.10). The handlers keep `options` alive.
Status add_archive_routes(plugin::HttpRoutes& routes,
                          std::shared_ptr<const ArchiveRouteOptions> options);

/// The zip or tar.gz answer of `GET /api/paths/export` (API.md §2.4): `format` "zip" gives the
/// v0.6-compatible zip (index.json {"path", "total_runs", "runs": items} + run folders at their
/// root-relative places), "tar.gz" the export archive of FORMAT.md §7.8 with archive objects.
/// 404 "No runs found for this path" when `runs` is empty. The body is streamed.
plugin::HttpResponse path_export_archive(const std::filesystem::path& root,
                                         const std::string& version,
                                         const std::vector<plugin::RunInfo>& runs,
                                         boost::json::array items, const std::string& path,
                                         const std::string& format);

/// `attachment; filename="<name>"` with characters outside [A-Za-z0-9._-] replaced by '_'.
std::string attachment(const std::string& name);

}  // namespace runicorn::http_plugin::archive
