#pragma once

#include <filesystem>
#include <optional>
#include <string>
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

/// discover_runs(root, true, log) without looking for `.deleted` markers: every RunLocation says
/// `deleted == false`. For callers that read each run anyway (read_run_folder() sets the flag).
Result<std::vector<plugin::RunLocation>> discover_run_folders(const std::filesystem::path& root,
                                                              spdlog::logger* log);

/// The runs inside one directory of the store, for updating the catalog after a change there.
struct SubtreeRuns {
    /// The root-relative, '/'-separated folder whose runs `runs` lists completely: the directory
    /// asked about, or the run folder enclosing it.
    std::string scope;
    std::vector<plugin::RunLocation> runs;  ///< In discovery order, soft-deleted ones included.
};

/// Finds the runs at or below `dir` by the rules of discover_runs(): `dir` itself when it is a
/// run folder, the run folder that encloses `dir`, or the runs of the sub-tree of a path segment
/// (new layout) or of a legacy `<project>/<name>/runs/` directory. A `dir` that no longer exists
/// gives no runs. nullopt when `dir` is not one of those places (the storage root, `runs/`
/// itself, a legacy project or name directory, anything outside the root): only a full
/// discover_runs() can tell then.
std::optional<SubtreeRuns> discover_runs_under(const std::filesystem::path& root,
                                               const std::filesystem::path& dir,
                                               spdlog::logger* log);

}  // namespace runicorn::storage
