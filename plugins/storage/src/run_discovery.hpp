#pragma once

#include <filesystem>
#include <vector>

#include <spdlog/logger.h>

#include <runicorn/plugin/run_store.hpp>
#include <runicorn/result.hpp>

namespace runicorn::storage {

/// Finds every run folder under `root` in Runicorn v0.6's discovery order (FORMAT.md §2.2):
/// the new layout (runs/, depth-first, entries sorted by lower-cased name; a directory holding
/// meta.json or status.json is a run), then the legacy layout (<project>/<name>/runs/<run>, runs
/// newest first by mtime). Names starting with '.' are skipped, depth is capped at 64, symlinked
/// directories are followed only when they resolve inside `root`. Soft-deleted runs (a `.deleted`
/// file) are included only when `include_deleted`.
///
/// NOT_FOUND when `root` does not exist. Unreadable directories are skipped and logged on `log`
/// (which may be null).
Result<std::vector<plugin::RunLocation>> discover_runs(const std::filesystem::path& root,
                                                       bool include_deleted, spdlog::logger* log);

}  // namespace runicorn::storage
