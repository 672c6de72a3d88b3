#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <runicorn/plugin/run_store.hpp>

namespace runicorn::plugin {

/// Sort keys of a run listing. Ties always break on the run key, so pages are stable.
enum class RunSort { kDiscovery, kCreated, kPath, kStatus, kBestMetric, kId };

/// Which soft-deleted runs a listing includes.
enum class DeletedFilter { kExclude, kOnly, kAny };

/// A run listing request (API.md §4.1, the CLI's `runicorn ls`). Every filter is optional.
struct RunQuery {
    /// Path filter: runs whose path equals it or lies under it ("cv" matches "cv" and "cv/yolo");
    /// with exact_path only equal paths. "" selects root-path runs.
    std::optional<std::string> path;
    bool exact_path = false;
    std::vector<std::string> statuses;  ///< Any of these ("running", "finished", ...).
    std::vector<std::string> tags;      ///< All of these.
    std::string text;  ///< Case-insensitive substring of the run id, alias, path or a tag.
    std::optional<double> created_from;  ///< created_at >= this (epoch seconds).
    std::optional<double> created_to;    ///< created_at < this.
    DeletedFilter deleted = DeletedFilter::kExclude;
    RunSort sort = RunSort::kDiscovery;
    /// Default: descending for times and numbers, ascending for text and discovery order.
    std::optional<bool> descending;
    std::size_t limit = 0;  ///< 0 returns every match.
    bool count = true;      ///< Fill RunPage::total (costs a second pass over the matches).
    std::string cursor;     ///< From RunPage::next_cursor of the same query.
};

/// One page of runs.
struct RunPage {
    std::vector<RunInfo> runs;
    std::uint64_t total = 0;  ///< Matches of the whole query, all pages.
    std::string next_cursor;  ///< Empty when this is the last page.
};

/// Run counts of a path and everything under it (API.md §2.4): each non-deleted run counts once in
/// its own path and in every ancestor; `interrupted` and other statuses count only in total.
struct PathStats {
    std::string path;
    std::uint64_t total = 0;
    std::uint64_t running = 0;
    std::uint64_t finished = 0;
    std::uint64_t failed = 0;
};

}  // namespace runicorn::plugin
