#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include <runicorn/plugin/run_store.hpp>
#include <runicorn/result.hpp>

#include "catalog.hpp"
#include "liveness.hpp"
#include "metric_keys_reader.hpp"

namespace runicorn::storage {

/// The run store over plain run folders under one storage root, laid out as Runicorn v0.6 does
/// (FORMAT.md §2–§4): discovery, reading (with the liveness check of §7.2), writing through
/// FolderRunWriter, and the catalog of §7.4 (index/catalog.sqlite, or the user cache directory
/// when the root is read-only or on a network filesystem; choose_catalog_file()).
///
/// The catalog is opened on first use. Its first query in a process refreshes it from the run
/// folders; after that it changes only through refresh(), refresh_dirs() (the FolderWatcher
/// calls both), reindex() and the management methods. Every change is applied in one
/// `BEGIN IMMEDIATE` transaction of idempotent upserts, so several processes may index the same
/// root at once: the last writer wins and the next refresh corrects anything it missed.
///
/// Thread safety: safe for concurrent use (file-system state is guarded by the file locks of
/// FORMAT.md §4.11; the one SQLite connection by a mutex; refreshes run one at a time).
class FolderRunStore final : public plugin::RunStore {
public:
    struct Options {
        bool check_liveness = true;   ///< Plugin setting `check_liveness`.
        bool write_v06_index = true;  ///< Plugin setting `write_v06_index` (FORMAT.md §6).
        /// The catalog file; empty: choose_catalog_file(root). Tests use ":memory:".
        std::string catalog_file;
    };

    /// `log` receives warnings; null means none are logged.
    FolderRunStore(std::filesystem::path root, std::shared_ptr<spdlog::logger> log,
                   Options options);
    FolderRunStore(std::filesystem::path root, std::shared_ptr<spdlog::logger> log)
        : FolderRunStore(std::move(root), std::move(log), Options{}) {}

    std::filesystem::path root() const override { return root_; }
    Result<std::vector<plugin::RunLocation>> discover_runs(bool include_deleted) const override;
    Result<std::shared_ptr<plugin::RunWriter>> open_run(
        const plugin::RunCreateOptions& options) const override;
    Result<plugin::RunInfo> read_run(const plugin::RunLocation& location) const override;

    Result<plugin::RunPage> list_runs(const plugin::RunQuery& query) const override;
    /// GET /api/assets from the catalog's asset_uses (API.md §4.12).
    Result<plugin::AssetPage> list_assets(const plugin::AssetQuery& query) const override;
    Result<std::vector<plugin::PathStats>> path_stats() const override;
    Result<plugin::RunInfo> find_run(std::string_view run_id, bool include_deleted) const override;
    /// Stats the catalog files of every run (no reads for unchanged runs); runs whose stamps
    /// changed, new runs and every run catalogued as "running" (its liveness may have changed)
    /// are read again. Returns the number of rows added, changed or dropped.
    Result<std::size_t> refresh() const override;
    Result<std::size_t> reindex(plugin::ReindexProgress* progress) const override;

    /// refresh() limited to what lies at or under each of `dirs` (absolute; a run folder, the
    /// folder that changed inside one, a path segment or a legacy runs/ directory, existing or
    /// not). Falls back to refresh() for a directory it cannot scope (the root, runs/, ...).
    Result<std::size_t> refresh_dirs(const std::vector<std::filesystem::path>& dirs) const;

    Result<plugin::RunInfo> update_run(std::string_view run_id,
                                       const plugin::RunUpdate& update) const override;
    Status soft_delete(std::string_view run_id, std::string_view reason) const override;
    Status restore(std::string_view run_id) const override;
    Status purge(std::string_view run_id) const override;
    /// FsckProblem texts (exact): "missing", "missing directory", "the file is empty",
    /// "not valid JSON: line L, column C: <reason>", "the JSON value is not an object",
    /// "torn last line (N bytes after the last newline)", "leftover temp file older than 24 h",
    /// "integrity check failed: <SQLite's text>". A JSON file moved aside by the repair adds
    /// "; moved aside to <name>.corrupt-<YYYYMMDDTHHMMSSZ>". NOT_FOUND when the root is missing.
    Result<plugin::FsckReport> fsck(bool repair) const override;

    /// The catalog file in use (opening the catalog when needed).
    Result<std::filesystem::path> catalog_file() const;

    /// Listeners hear the changes applied by sync() (so refresh(), refresh_dirs() and the
    /// management methods) and purge(); the first build and reindex() report nothing.
    std::uint64_t subscribe_changes(plugin::RunChangeListener listener) const override;
    void unsubscribe_changes(std::uint64_t id) const noexcept override;

private:
    enum class Want { kLive, kDeleted };

    Result<plugin::RunInfo> read_for_catalog(const plugin::RunLocation& location,
                                             catalog::CatalogEntry* entry) const;
    Result<catalog::CatalogEntry> make_entry(const plugin::RunLocation& location) const;
    /// make_entry() of every run, on several threads; vanished runs are left out.
    Result<std::vector<catalog::CatalogEntry>> read_entries(
        const std::vector<plugin::RunLocation>& runs, plugin::ReindexProgress* progress) const;
    /// The catalog, opened on first use. The caller holds catalog_mu_ while using it.
    Result<catalog::Catalog*> catalog_locked() const;
    Status ensure_built() const;
    Result<std::size_t> refresh_locked() const;
    /// Brings the rows under `scope` ("" = all) in line with `found`.
    Result<std::size_t> sync(const std::vector<plugin::RunLocation>& found,
                             const std::string& scope) const;
    /// The first run with this id that is (not) soft-deleted, freshly read; nullopt when none.
    Result<std::optional<plugin::RunInfo>> lookup(std::string_view run_id, Want want) const;
    Status not_found_or(std::string_view run_id, Want other, Status if_other) const;
    /// Re-reads one run folder into the catalog (or drops it when it vanished).
    Status recatalog(const std::filesystem::path& run_dir) const;
    std::string rel_dir_of(const std::filesystem::path& dir) const;
    /// Calls every listener with `changes` (none when empty), one notification at a time.
    void notify(const std::vector<plugin::RunChange>& changes) const;
    bool has_listeners() const noexcept { return listener_count_.load() != 0; }

    std::filesystem::path root_;
    std::shared_ptr<spdlog::logger> log_;
    Options options_;
    LocalHost local_;
    mutable HeartbeatTracker tracker_;
    mutable catalog::MetricKeysReader metric_reader_;  // run_metric_keys (incremental)

    mutable std::mutex catalog_mu_;  // guards catalog_, catalog_path_ (one SQLite connection)
    mutable std::unique_ptr<catalog::Catalog> catalog_;
    mutable std::filesystem::path catalog_path_;
    mutable std::mutex refresh_mu_;  // one refresh or reindex at a time in this process
    mutable std::atomic<bool> built_{false};

    // Change listeners; listeners_mu_ is held while they run, so unsubscribe waits for them.
    mutable std::mutex listeners_mu_;
    mutable std::map<std::uint64_t, plugin::RunChangeListener> listeners_;  // guarded
    mutable std::uint64_t next_listener_ = 1;                               // guarded
    mutable std::atomic<std::size_t> listener_count_{0};
};

}  // namespace runicorn::storage
