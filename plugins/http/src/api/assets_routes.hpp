#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

#include "api_state.hpp"

namespace runicorn::http_plugin::api {

/// Adds the run asset routes:
///   GET /api/runs/:run_id/assets/download?path=&filename=   (API.md §2.2 "Download", COMPAT
///       (fix)): the file (streamed, Range/206/416, ETag, Last-Modified, Content-Disposition:
///       attachment), a manifest under archive/manifests/ as a streamed zip of its blobs, or a
///       directory as a streamed zip of its regular files (symlinks not followed). `path` is
///       confined to what the run owns (download_base()); 403 {"detail": "Unsafe path"},
///       404 "File not found", 400 "Unsupported target" (neither file nor directory), 400 for a
///       manifest with an unsafe entry name or a blob id that is not 64 lowercase hex digits,
///       422 without `path`, 404 "Run not found".
///   GET /api/runs/:run_id/assets/refs   (§2.2, COMPAT (fix), deleted runs included):
///       {"run_id", "orphaned_assets", "shared_assets", "orphaned_count", "shared_count"}
///       (compute_asset_refs()); 400 for a malformed run id.
///   GET /api/runs/:run_id/artifacts     (§4.5, NEW): the run's artifacts.json, with "logged"
///       and "used" always present ([] when the file is absent, damaged, or lacks them).
/// Every route answers 503 without a run store. Returns the first add_route failure.
Status add_asset_routes(plugin::HttpRoutes& routes, const std::shared_ptr<ApiState>& state);

/// Where a download request's `path` may be opened (API.md §2.2): the directory to open it
/// beneath and the path relative to it ("" names the directory itself).
struct DownloadBase {
    std::filesystem::path dir;
    std::string relative;
    bool archive = false;  ///< `dir` is <root>/archive (so a manifests/**.json is a manifest).
};

/// Maps `requested` (the percent-decoded `path` query value) for the run at `run_dir` with id
/// `run_id` under the storage root `root`, whose recorded archive paths (archive_path and
/// manifest_path of its assets.json, FORMAT.md §4.6) are `recorded`:
///  - a relative path, or an absolute one inside the run folder: beneath the run folder;
///  - an absolute path equal to a recorded path, or to its rebased form (FORMAT.md §5.5):
///    beneath <root>/archive;
///  - an absolute path that is, or rebases to, a path inside
///    <root>/archive/outputs/rolling/<run_id>/: beneath that folder.
/// PERMISSION_DENIED "Unsafe path" for anything else, and for NUL, control characters, a
/// backslash, a drive letter or a ".." segment anywhere in `requested`. Purely lexical: the
/// caller opens the result with open_beneath(), which keeps symlinks from leaving `dir`.
Result<DownloadBase> download_base(std::string_view requested, const std::filesystem::path& root,
                                   const std::filesystem::path& run_dir, std::string_view run_id,
                                   const std::vector<std::string>& recorded);

/// The rebasing rule of FORMAT.md §5.5 for a recorded absolute path: the path itself when it
/// lies inside `root`, else the part from the last "/archive/blobs/", "/archive/manifests/" or
/// "/archive/outputs/rolling/" (either separator) mapped onto <root>/archive/...; nullopt when it
/// cannot be mapped inside the root.
std::optional<std::filesystem::path> rebase_archive_path(std::string_view recorded,
                                                         const std::filesystem::path& root);

}  // namespace runicorn::http_plugin::api
