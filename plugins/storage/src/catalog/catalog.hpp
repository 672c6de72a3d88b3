#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include <runicorn/plugin/run_store.hpp>
#include <runicorn/result.hpp>

#include "asset_uses.hpp"
#include "sqlite_db.hpp"

namespace runicorn::storage::catalog {

/// One metric key of a run (FORMAT.md §7.4 run_metric_keys; the series engine's KeySummary).
struct MetricKeyStats {
    std::string key;
    std::int64_t count = 0;            ///< Every value, numeric or not.
    std::int64_t numeric_count = 0;    ///< Numbers and booleans.
    std::int64_t nonfinite_count = 0;  ///< NaN/±Inf among numeric_count.
    std::optional<std::int64_t> first_step;
    std::optional<std::int64_t> last_step;
    std::optional<double> last;  ///< Last numeric value; NaN is stored as "no value".
    std::optional<double> min;   ///< Finite minimum.
    std::optional<double> max;   ///< Finite maximum.
};

/// One run as the catalog stores it: what the run reader found plus where the run lives.
struct CatalogEntry {
    plugin::RunInfo info;
    std::string rel_dir;        ///< Run folder relative to the storage root, '/'-separated.
    std::string discovery_key;  ///< Sorts like v0.6 discovery order (discovery_key()).
    std::string signature;      ///< The stamps of the files read (RunFileStamps::signature()).
    /// assets.json's `config` object (args, extra, config_files), for config.* filters (API.md
    /// §4.2); empty when absent.
    boost::json::object config;
    /// The per-key summaries of events.jsonl (run_metric_keys); the run's last_step is the
    /// largest of their last_step.
    std::vector<MetricKeyStats> metric_keys;
    /// The entries of assets.json (asset_uses_of()).
    std::vector<AssetUse> assets;
};

/// What the catalog remembers of a run for change detection.
struct StoredRun {
    std::string rel_dir;
    std::string signature;
    std::string status;  ///< As catalogued ("running" runs are re-read by every refresh).
};

/// The SHA-256 of `data` as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);

/// sha256 of `rel_dir`, first 32 hex digits (FORMAT.md §7.4).
std::string run_key(std::string_view rel_dir);

/// A text key that sorts runs in v0.6 discovery order (FORMAT.md §2.2): new layout first, by the
/// lower-cased path segments and folder name; then legacy runs by project, name, newest first.
std::string discovery_key(const plugin::RunLocation& location, std::string_view rel_dir,
                          std::int64_t legacy_mtime_ns);

/// The rebuildable run catalog, `index/catalog.sqlite` (FORMAT.md §7.4): runs, tags, per-path
/// counts, per-key metric summaries (run_metric_keys) and asset uses (asset_uses), answering
/// listings with keyset pagination and filter expressions (API.md §4.2) over each run's columns,
/// tags and its summary, meta and config kept as JSON text. It is a cache of the run folders:
/// replace_all() from a fresh scan gives the same answers as incremental upserts.
///
/// Thread safety: externally synchronized (one connection; the caller serialises access).
class Catalog {
public:
    static constexpr int kSchemaVersion = 6;

    /// Opens or creates the catalog at `file` (":memory:" for tests). A file written with another
    /// schema version is emptied and recreated (a reindex fills it again).
    /// Run folders are reported as `root / rel_dir`.
    static Result<std::unique_ptr<Catalog>> open(const std::string& file,
                                                 std::filesystem::path root);

    /// Replaces the whole content in one transaction (reindex) and records `built_at`. The
    /// entries' rel_dirs must be distinct (INTERNAL otherwise, and nothing changes).
    Status replace_all(const std::vector<CatalogEntry>& entries);
    /// Inserts or updates one run (by run key), keeping the path counts in step.
    Status upsert(const CatalogEntry& entry);
    /// Removes one run by its folder; a missing run is not an error.
    Status remove(std::string_view rel_dir);
    /// upsert() of every entry and remove() of every folder in `removed`, in one transaction:
    /// readers see all of it or none. Idempotent, so two indexers may apply the same change.
    Status apply(const std::vector<CatalogEntry>& upserts, const std::vector<std::string>& removed);
    /// Every stored run folder (rel_dir), for detecting removed runs.
    Result<std::vector<std::string>> rel_dirs() const;
    /// The stored runs whose folder is `scope` or lies under `scope + "/"` (every run when
    /// `scope` is empty), sorted by rel_dir.
    Result<std::vector<StoredRun>> stored_runs(std::string_view scope = {}) const;
    /// Every run with this id, soft-deleted ones included, in discovery order.
    Result<std::vector<plugin::RunInfo>> find_all(std::string_view run_id) const;
    /// `PRAGMA integrity_check`: "ok", or the problems SQLite lists, one per line.
    Result<std::string> integrity_check() const;
    /// A value of the `meta` table (schema_version, built_at, last_full_scan); nullopt if unset.
    Result<std::optional<std::string>> meta_value(std::string_view key) const;
    Status set_meta_value(std::string_view key, std::string_view value);

    /// Runs matching `query`, sorted and paged. INVALID_ARGUMENT for a cursor that does not belong
    /// to this query, for a RunSort::kSummary without a key, and for a bad filter expression
    /// (filter::Error::to_status(): filter::error_from_status() reads code and position back).
    Result<plugin::RunPage> query(const plugin::RunQuery& query) const;
    /// Per-path counts, every run path and its ancestors, sorted by path.
    Result<std::vector<plugin::PathStats>> path_stats() const;
    /// The first run in discovery order with this id; nullopt when none.
    Result<std::optional<plugin::RunInfo>> find(std::string_view run_id,
                                                bool include_deleted) const;
    /// Assets across the non-deleted runs, grouped (API.md §4.12), most recently used first.
    /// INVALID_ARGUMENT for a cursor of another query.
    Result<plugin::AssetPage> assets(const plugin::AssetQuery& query) const;
    /// The run_metric_keys rows of the run in `rel_dir`, by key (for tests and tools).
    Result<std::vector<MetricKeyStats>> metric_keys(std::string_view rel_dir) const;
    /// Number of runs stored (deleted included).
    Result<std::uint64_t> size() const;

private:
    Catalog(std::unique_ptr<Database> db, std::filesystem::path root)
        : db_(std::move(db)), root_(std::move(root)) {}
    struct Writer;

    plugin::RunInfo row_to_info(const Statement& row) const;
    Result<std::vector<plugin::RunInfo>> collect(Statement& stmt, std::size_t limit) const;
    /// The number of matches from the kept counters (paths, totals) when they can tell.
    Result<std::optional<std::uint64_t>> kept_count(const plugin::RunQuery& q) const;

    std::unique_ptr<Database> db_;
    std::filesystem::path root_;
};

}  // namespace runicorn::storage::catalog
