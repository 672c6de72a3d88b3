#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

#include "series_types.hpp"

namespace runicorn::storage::series {

/// `<root>/index/series/<run_key[0:2]>/<run_key>` (FORMAT.md §7.5): where a run's metric cache
/// lives. `run_key` is the catalog's 32-hex run key.
std::filesystem::path series_cache_dir(const std::filesystem::path& root, std::string_view run_key);

/// The metric series of one run: an incremental reader of its `events.jsonl` (FORMAT.md §4.4, C3)
/// feeding a column cache (§7.5) that answers the COMPAT `metrics_step` rows (API.md §2.3) and the
/// NEW series queries (API.md §4.3) without re-parsing the file.
///
/// refresh() brings the cache up to date: it parses only the bytes after the saved offset, up to
/// the last '\n' (a torn last line is left for a later refresh). The saved state is checked on
/// every refresh against the file's device, inode, size and checksums of its first 4 KiB and of
/// the 4 KiB before the offset; any mismatch (rewrite, rotation, truncation) means a full rebuild.
/// With a cache directory, save() persists the columns there (data files appended first, then
/// header.json replaced by rename: the commit point) and the first refresh() of a new object
/// starts from that copy when it still matches the file. Nothing in the cache directory is
/// authoritative: deleting it only costs a rebuild.
///
/// Queries answer from the state of the last successful refresh(); before the first one the run
/// looks empty.
///
/// Thread safety: safe for concurrent use. Queries share a reader lock; refresh() and save()
/// serialize on a builder mutex (plus, for save(), a lock file in the cache directory), parse a
/// rebuild without holding the reader lock and hold it exclusively only to publish, or, for an
/// incremental append, while appending.
class RunSeries {
public:
    /// `events_path`: the run's events.jsonl (it need not exist yet). `cache_dir`: empty for a
    /// memory-only cache. `log` (may be null) receives the bad-line and cache warnings.
    RunSeries(std::filesystem::path events_path, std::filesystem::path cache_dir,
              std::shared_ptr<spdlog::logger> log);
    ~RunSeries();
    RunSeries(const RunSeries&) = delete;
    RunSeries& operator=(const RunSeries&) = delete;
    RunSeries(RunSeries&&) = delete;
    RunSeries& operator=(RunSeries&&) = delete;

    /// Reads what was appended since the last refresh (or rebuilds, see the class comment). A
    /// missing events.jsonl is an empty run. Returns what was done; an I/O error returns
    /// UNAVAILABLE/INTERNAL naming the file, and the cache keeps what it had consumed before it.
    Result<RefreshInfo> refresh();

    /// Persists the cache under the cache directory (no-op without one). Appends only what is new
    /// since the last save unless the cache was rebuilt. UNAVAILABLE when another process holds
    /// the directory's lock file; INTERNAL on I/O errors (the previous header stays valid or is
    /// gone, never wrong).
    Status save();

    /// Offset, line and record counters, bad lines, file identity.
    ReadStats read_stats() const;

    /// One summary per key (first-appearance order), `global_step`/`step` excluded.
    std::vector<KeySummary> key_summaries() const;

    /// Distinct stages in order of first appearance.
    std::vector<std::string> stages() const;

    /// `GET /api/runs/{id}/metrics_step` (API.md §2.3). INVALID_ARGUMENT when downsample is outside
    /// 100..50,000 ("downsample: Input should be greater than or equal to 100", "... less than or
    /// equal to 50000"); the route answers it with 422 and loc ["query", "downsample"].
    Result<CompatTable> compat_rows(std::optional<std::int64_t> downsample) const;

    /// `GET /api/runs/{id}/series` (API.md §4.3). INVALID_ARGUMENT when points is outside
    /// 10..50,000 or x_min > x_max. Unknown keys come back with found = false and no points.
    Result<SeriesResult> series(const SeriesQuery& query) const;

    /// The events.jsonl this object reads.
    const std::filesystem::path& events_path() const { return events_path_; }

private:
    struct State;

    Result<RefreshInfo> refresh_locked();

    const std::filesystem::path events_path_;
    const std::filesystem::path cache_dir_;
    const std::shared_ptr<spdlog::logger> log_;

    std::mutex builder_mu_;         // one builder at a time; taken before mu_
    mutable std::shared_mutex mu_;  // guards state_
    std::unique_ptr<State> state_;  // replaced whole on rebuild
    bool tried_disk_ = false;       // guarded by builder_mu_
};

}  // namespace runicorn::storage::series
