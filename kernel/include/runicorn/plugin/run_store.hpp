#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include <runicorn/export.hpp>
#include <runicorn/result.hpp>

namespace runicorn::plugin {

/// A run folder found under the storage root (FORMAT.md §2.2).
struct RunLocation {
    std::string run_id;  ///< The run folder's name.
    std::optional<std::string>
        path;                   ///< Segments between runs/ and the folder; nullopt at the top.
    std::filesystem::path dir;  ///< Absolute run folder.
    bool legacy = false;        ///< Found in the v0.2–v0.5 <project>/<name>/runs/ layout.
    bool deleted = false;       ///< Holds a `.deleted` marker (soft-deleted).
};

/// What the liveness check of FORMAT.md §7.2 concluded about a run whose status.json says
/// "running".
enum class RunLiveness {
    kNotChecked,  ///< The status is not "running", or the check is turned off.
    kAlive,       ///< A live writer holds the run (or another host's heartbeat is fresh).
    kUnknown,     ///< Another host, no heartbeat (a v0.6 writer): liveness cannot be told.
    kStale,       ///< Another host's heartbeat stopped: reported failed / heartbeat_lost.
    kDead,        ///< The writer is gone: status.json now says failed, with an exit_reason.
};

/// One run as readers present it: its folder plus what its files say (FORMAT.md §4). Fields of a
/// missing, empty or damaged file, and fields of the wrong JSON type, stay empty (G6).
struct RunInfo {
    RunLocation location;

    // meta.json (§4.1).
    boost::json::object meta;  ///< The whole object; empty when absent or damaged.
    std::optional<std::string> alias;
    std::vector<std::string> tags;  ///< Non-string entries are skipped.
    std::optional<double> created_at;
    std::optional<std::string> hostname;
    std::optional<std::int64_t> pid;
    std::optional<std::int64_t> format_version;  ///< nullopt: written by Runicorn v0.6.

    // status.json (§4.2), after the liveness check.
    std::string status = "finished";  ///< "finished" when the file or its `status` key is missing.
    std::optional<double> started_at;
    std::optional<double> ended_at;
    std::optional<std::string> exit_reason;
    RunLiveness liveness = RunLiveness::kNotChecked;

    // summary.json (§4.3).
    boost::json::object summary;  ///< The whole object; empty when absent or damaged.
    std::optional<std::string> best_metric_name;
    std::optional<double> best_metric_value;
    std::optional<std::int64_t> best_metric_step;
    std::optional<std::string> best_metric_mode;

    /// assets.json by the counting rule of §4.6 (0 when absent).
    std::int64_t assets_count = 0;

    /// The largest step of the run's metrics records (events.jsonl, FORMAT.md §4.4); nullopt when
    /// none has a step. Filled by listings (the catalog's run_metric_keys), not by read_run().
    std::optional<std::int64_t> last_step;

    // .deleted (§4.10): set only for a soft-deleted run.
    std::optional<double> deleted_at;
    std::optional<std::string> deleted_reason;
    std::optional<std::string> original_status;
};

/// Sort keys of a run listing (API.md §4.1). Ties always break on the run key, so pages are
/// stable, and runs without a value come last in either order. New keys are only appended.
enum class RunSort {
    kDiscovery,
    kCreated,
    kPath,
    kStatus,
    kBestMetric,
    kId,
    kStarted,
    kEnded,
    kDuration,  ///< ended - started; none while either is missing.
    kAlias,
    kSummary,   ///< The summary.json number named by RunQuery::sort_field (others: no value).
    kLastStep,  ///< RunInfo::last_step.
    /// metric.<key>.<stat>: RunQuery::sort_field names the metric key, RunQuery::sort_metric the
    /// statistic (runs without the key, or with a NaN last value, have no value).
    kMetric,
};

/// The per-key metric statistic a listing sorts on (RunSort::kMetric).
enum class MetricStat { kLast, kMin, kMax };

/// Which soft-deleted runs a listing includes.
enum class DeletedFilter { kExclude, kOnly, kAny };

/// A run listing request (API.md §4.1, the CLI's `runicorn ls`). Every filter is optional.
struct RunQuery {
    /// Path filter: runs whose path equals it or lies under it ("cv" matches "cv" and "cv/yolo");
    /// with exact_path only equal paths. "" selects root-path runs.
    std::optional<std::string> path;
    bool exact_path = false;
    /// Any of these ("running", "finished", ...). The pseudo-status "crashed" selects failed runs
    /// whose exit_reason is a crash (FORMAT.md §4.2: process_not_found, heartbeat_lost,
    /// host_rebooted).
    std::vector<std::string> statuses;
    std::vector<std::string> tags;  ///< All of these.
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
    /// A filter expression (API.md §4.2), ANDed with the filters above; blank: none. A bad one
    /// fails the listing with INVALID_ARGUMENT "invalid filter (FILTER_SYNTAX at position N):
    /// ..." (FILTER_FIELD likewise); runicorn::filter::error_from_status() reads it back.
    std::string filter;
    /// For RunSort::kSummary: the top-level summary key, taken verbatim ("val/acc"); for
    /// RunSort::kMetric: the metric key.
    std::string sort_field;
    /// For RunSort::kMetric: which statistic.
    MetricStat sort_metric = MetricStat::kLast;
    /// The epoch time that NOW stands for in `filter`; nullopt: the time of the call.
    std::optional<double> now;
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

/// A change to a run's meta.json from the viewer or the CLI (FORMAT.md §4.1 PATCH rules: alias
/// trimmed, "" becomes null; tags trimmed, empty ones dropped).
struct RunUpdate {
    std::optional<std::optional<std::string>> alias;  ///< Outer nullopt: leave the alias alone.
    std::optional<std::vector<std::string>> tags;     ///< nullopt: leave the tags alone.
};

/// One finding of RunStore::fsck().
struct FsckProblem {
    std::string run_dir;  ///< Relative to the storage root.
    std::string file;     ///< The file concerned, e.g. "events.jsonl".
    std::string
        problem;  ///< What is wrong, e.g. "torn last line (37 bytes after the last newline)".
    bool repaired = false;
};

/// What RunStore::fsck() found.
struct FsckReport {
    std::size_t runs_checked = 0;
    std::vector<FsckProblem> problems;
};

/// Receives progress from RunStore::reindex(). Thread safety: called from the reindexing thread.
class RUNICORN_PLUGIN_API ReindexProgress {
public:
    virtual ~ReindexProgress() = default;
    ReindexProgress(const ReindexProgress&) = delete;
    ReindexProgress& operator=(const ReindexProgress&) = delete;
    ReindexProgress(ReindexProgress&&) = delete;
    ReindexProgress& operator=(ReindexProgress&&) = delete;

    virtual void on_progress(std::size_t done, std::size_t total) = 0;

protected:
    ReindexProgress() = default;
};

/// How an SDK session asks for a run (SDK.md §1.1, §1.2, §1.9).
struct RunCreateOptions {
    enum class Resume { kNever, kAllow, kMust };

    std::optional<std::string> path;  ///< Raw path; nullopt means "default" (FORMAT.md §3.3).
    std::string run_id;               ///< Empty: generate YYYYMMDD_HHMMSS_xxxxxx.
    std::optional<std::string> alias;
    std::vector<std::string> tags;
    std::string workspace_root;  ///< Empty: nearest ancestor of the CWD with .git, else the CWD.
    Resume resume = Resume::kNever;
    std::string writer;                         ///< meta.writer, e.g. "runicorn-cpp/0.1.0 cpp".
    std::optional<std::string> python_version;  ///< meta.python; nullopt writes null.
};

/// The JSON files of a run folder that a writer may merge into.
enum class RunJsonFile { kMeta, kStatus, kSummary, kAssets };

/// One live run opened for writing by one SDK session: it holds the run's `.writer.lock` until
/// close(). The SDK's background writer is its only caller, from one thread at a time.
///
/// Every method reports failure as a Status naming the file, the operation and the errno text:
/// RESOURCE_EXHAUSTED for ENOSPC/EDQUOT, PERMISSION_DENIED, UNAVAILABLE for EIO/ESTALE and lock
/// time-outs, DATA_LOSS for a failed fsync (FORMAT.md C7).
///
/// Thread safety: externally synchronized.
class RUNICORN_PLUGIN_API RunWriter {
public:
    virtual ~RunWriter() = default;
    RunWriter(const RunWriter&) = delete;
    RunWriter& operator=(const RunWriter&) = delete;
    RunWriter(RunWriter&&) = delete;
    RunWriter& operator=(RunWriter&&) = delete;

    virtual const std::string& run_id() const = 0;
    /// The normalised path; nullopt for a root-path run (meta.path "").
    virtual const std::optional<std::string>& path() const = 0;
    virtual const std::filesystem::path& run_dir() const = 0;
    virtual const std::filesystem::path& workspace_root() const = 0;
    /// True when an existing run was reopened (resume).
    virtual bool resumed() const = 0;
    /// The global_step of the last metrics record of a reopened run; 0 for a new one.
    virtual std::int64_t last_step() const = 0;
    /// The best metric found in summary.json of a reopened run (name, value, step, mode), if any.
    virtual std::optional<boost::json::object> resumed_summary() const = 0;

    /// Appends whole `\n`-terminated records to events.jsonl (logs.txt) with one write() under
    /// the file's lock (FORMAT.md C2). On failure the file is truncated back to its size before
    /// the call and the error returned; the caller keeps the batch and retries later.
    virtual Status append_events(std::string_view lines) = 0;
    virtual Status append_logs(std::string_view lines) = 0;
    /// Shallow-merges `patch` into a JSON file (top-level keys replaced, other keys and their
    /// order kept) by a locked, atomic read-modify-write (FORMAT.md C1). For kStatus a null value
    /// removes the key (resume drops ended_at / exit_reason).
    virtual Status merge_json(RunJsonFile file, const boost::json::object& patch) = 0;
    /// Writes media/<file_name> whole (temp + rename) before any event names it. INVALID_ARGUMENT
    /// for a name with a separator or a leading dot.
    virtual Status write_media(std::string_view file_name, std::span<const std::byte> bytes) = 0;
    /// Rewrites .heartbeat.json (FORMAT.md §7.2; no fsync).
    virtual Status heartbeat(std::chrono::seconds interval) = 0;
    /// fdatasync of the append files that have unsynced data.
    virtual Status sync() = 0;
    /// Syncs and releases .writer.lock. Idempotent; later calls of other methods fail with
    /// FAILED_PRECONDITION.
    virtual Status close() = 0;

protected:
    RunWriter() = default;
};

/// One change of the run list, as RunStore::subscribe_changes() reports it.
struct RunChange {
    enum class Kind {
        kUpserted,  ///< A new run, or one whose catalogued files changed (status, alias, tags,
                    ///< summary, soft delete and restore: see run.location.deleted).
        kRemoved,   ///< The run folder is gone (purge, or removed outside the store).
    };
    Kind kind = Kind::kUpserted;
    /// The run as catalogued now; for kRemoved as it was last catalogued (at least its location).
    RunInfo run;
};

/// Hears run-list changes. Called on the thread that changed the catalog (a watcher thread or a
/// request thread), after the change is visible to list_runs(); must be quick and must not throw.
using RunChangeListener = std::function<void(const std::vector<RunChange>&)>;

/// A `GET /api/assets` request (API.md §4.12): assets of the runs' assets.json files, grouped.
struct AssetQuery {
    /// Any of code_snapshot, dataset, pretrained, output; empty: all four.
    std::vector<std::string> types;
    /// Only uses by runs under this path (prefix rule; exact_path: equal); "" = root-path runs.
    std::optional<std::string> path;
    bool exact_path = false;
    std::optional<bool> archived;  ///< The entry's `saved`.
    std::string text;              ///< Case-insensitive substring of name, source or fingerprint.
    std::size_t limit = 200;       ///< 1..1000.
    std::string cursor;            ///< From AssetPage::next_cursor of the same query.
};

/// One asset across runs (API.md §4.12 item).
struct AssetGroup {
    std::string asset_type;
    std::optional<std::string> fingerprint_kind;
    std::optional<std::string> fingerprint;
    std::optional<std::string> archive_path;  ///< Rebased (FORMAT.md §5.5).
    std::optional<std::string> name;
    std::optional<std::string> source;
    bool archived = false;
    std::optional<std::int64_t> size_bytes;
    std::optional<std::int64_t> file_count;
    std::uint64_t run_count = 0;
    std::optional<double> last_used_at;
    std::string last_run_id;
};

/// One page of AssetGroup, most recently used first.
struct AssetPage {
    std::vector<AssetGroup> assets;
    std::uint64_t total = 0;  ///< Groups matching the query, all pages.
    std::string next_cursor;  ///< Empty on the last page.
};

/// The run store: run folders under the storage root, as Runicorn v0.6 lays them out.
/// Thread safety: safe for concurrent use.
class RUNICORN_PLUGIN_API RunStore {
public:
    static constexpr std::string_view kServiceId = "runicorn.run_store/1";

    virtual ~RunStore() = default;
    RunStore(const RunStore&) = delete;
    RunStore& operator=(const RunStore&) = delete;
    RunStore(RunStore&&) = delete;
    RunStore& operator=(RunStore&&) = delete;

    /// The storage root this store serves.
    virtual std::filesystem::path root() const = 0;
    /// Every run folder in v0.6 discovery order (new layout depth-first, then legacy projects).
    /// Soft-deleted runs are included only when `include_deleted`. Fails with NOT_FOUND when the
    /// root does not exist; unreadable sub-directories are skipped with a warning.
    virtual Result<std::vector<RunLocation>> discover_runs(bool include_deleted) const = 0;

    /// Creates (or, with resume, reopens) a run and writes meta.json, status.json ("running"),
    /// assets.json and media/ before returning (SDK.md §1.1). INVALID_ARGUMENT for a bad path or
    /// id, ALREADY_EXISTS for a taken custom id with Resume::kNever, NOT_FOUND for kMust on a
    /// missing run, UNAVAILABLE when another live writer holds the run, PERMISSION_DENIED when
    /// the root is not writable. On failure nothing is left behind for a new run.
    virtual Result<std::shared_ptr<RunWriter>> open_run(const RunCreateOptions& options) const = 0;

    /// Reads one run's meta.json, status.json, summary.json, assets.json and .deleted. A missing
    /// file counts as absent; an empty or damaged one too, with one warning naming it on the
    /// plugin's logger, and the reader never rewrites it (FORMAT.md G6). When the status is
    /// "running" and liveness checking is on (plugin setting `check_liveness`, default true), the
    /// check of FORMAT.md §7.2 runs: a dead run's status.json gets `failed`, `ended_at` and
    /// `exit_reason` by a locked atomic merge before this returns; a stale one is reported failed
    /// (`heartbeat_lost`) without writing. NOT_FOUND when the run folder does not exist.
    virtual Result<RunInfo> read_run(const RunLocation& location) const = 0;

    // The catalog (FORMAT.md §7.4): a rebuildable SQLite cache of every run's metadata. The store
    // keeps it current by itself (file notifications plus a periodic scan); refresh() forces it.

    /// Runs matching `query`, sorted and paged from the catalog. INVALID_ARGUMENT for a cursor
    /// of another query.
    virtual Result<RunPage> list_runs(const RunQuery& query) const = 0;
    /// Per-path run counts: every run path and each ancestor, sorted by path.
    virtual Result<std::vector<PathStats>> path_stats() const = 0;
    /// The run with this id, first in discovery order. NOT_FOUND ("run '<id>' not found") when
    /// there is none (soft-deleted runs count only when `include_deleted`).
    virtual Result<RunInfo> find_run(std::string_view run_id, bool include_deleted) const = 0;
    /// Brings the catalog up to date with the run folders: re-reads the runs whose files changed
    /// since they were catalogued, adds new ones, drops vanished ones. Returns how many changed.
    virtual Result<std::size_t> refresh() const = 0;
    /// Deletes and rebuilds the catalog from the run folders (`runicorn reindex`); `progress`,
    /// when not null, hears (runs done, runs found) as it goes. Returns the number of runs.
    virtual Result<std::size_t> reindex(ReindexProgress* progress) const = 0;

    // Run management. Each finds the run by id like find_run() and updates the catalog.

    /// Rewrites meta.json's alias and/or tags (locked atomic merge; every other key kept) and
    /// returns the run as it now reads. Soft-deleted runs are not found. INVALID_ARGUMENT
    /// "too many tags: N (at most 100)" or "tag '<first 32 chars>...' is longer than 128
    /// characters" (API.md §2.2 limits).
    virtual Result<RunInfo> update_run(std::string_view run_id, const RunUpdate& update) const = 0;
    /// Soft delete: writes `.deleted` {deleted_at, reason, original_status} atomically (FORMAT.md
    /// §4.10); an empty `reason` writes "user_deleted". FAILED_PRECONDITION "run '<id>' is
    /// already deleted" when the run is already deleted.
    virtual Status soft_delete(std::string_view run_id, std::string_view reason) const = 0;
    /// Removes `.deleted`. FAILED_PRECONDITION "run '<id>' is not deleted" when the run is not
    /// deleted.
    virtual Status restore(std::string_view run_id) const = 0;
    /// Permanently removes a soft-deleted run: its folder, its rolling outputs
    /// (archive/outputs/rolling/<run_id>) and its catalog row. Blobs are never deleted here: the
    /// dedup service's garbage collection removes the ones nothing references any more.
    /// FAILED_PRECONDITION "run '<id>' is not deleted; only soft-deleted runs can be purged"
    /// unless the run is soft-deleted first. The rolling outputs stay while another run folder
    /// has the same id.
    virtual Status purge(std::string_view run_id) const = 0;
    /// Checks every run folder (FORMAT.md §7.7 "Fsck"): JSON files parse, append files have at
    /// most a torn tail, leftovers; with `repair`, fixes what §7.7 allows and nothing more.
    /// runs_checked counts soft-deleted runs too. NOT_FOUND when the root does not exist.
    virtual Result<FsckReport> fsck(bool repair) const = 0;

    /// Assets across runs from the catalog (API.md §4.12; FORMAT.md §7.4 asset_uses), never from
    /// the run folders. INVALID_ARGUMENT for a cursor of another query. Default: UNIMPLEMENTED.
    virtual Result<AssetPage> list_assets(const AssetQuery& query) const {
        (void)query;
        return Status::unimplemented("this run store does not list assets");
    }
    /// Switches this store to another storage root at once: the catalog and the watcher follow
    /// (API.md §2.5 POST /api/config/user_root_dir). `root` is absolute and exists. Default:
    /// UNIMPLEMENTED (the switch then happens at the next start).
    virtual Status switch_root(const std::filesystem::path& root) const {
        (void)root;
        return Status::unimplemented("this run store cannot switch roots while running");
    }

    /// Registers `listener` for every later change of the catalog made in this process: new runs,
    /// catalogued-file changes (status, alias, tags, summary, soft delete, restore) and removed
    /// runs, however they were noticed (file notifications, refresh(), the management methods).
    /// A full rebuild (the first build, reindex()) reports nothing. Returns an id for
    /// unsubscribe_changes(); 0 when this store cannot report changes (the default).
    virtual std::uint64_t subscribe_changes(RunChangeListener listener) const {
        (void)listener;
        return 0;
    }
    /// Stops the listener `id`; when this returns, the listener is not running and will not be
    /// called again. Unknown ids are ignored. Must not be called from inside the listener.
    virtual void unsubscribe_changes(std::uint64_t id) const noexcept { (void)id; }

protected:
    RunStore() = default;
};

}  // namespace runicorn::plugin
