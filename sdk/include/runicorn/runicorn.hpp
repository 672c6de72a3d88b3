#pragma once

// The Runicorn C++ SDK (SDK.md §2): log metrics, text and images of a training run into run folders
// that the Runicorn viewer (ours or v0.6) reads.
//
// Besides the standard library this header includes only the project's header-only
// <runicorn/status.hpp> and <runicorn/result.hpp>; no JSON library or other Boost type appears
// here.
//
// Not in this version (SDK.md §2.3/§2.4): the InitOptions members capture_env, capture_output,
// tqdm_mode and write_runicorn_index; the Run method log_image_pixels. handle_signals is accepted
// and implemented (§5). Artifacts: <runicorn/artifact.hpp>.

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

#if defined(RUNICORN_SDK_STATIC)
#define RUNICORN_SDK_API
#else
/// Marks what the runicorn_sdk shared library exports (it is built with hidden visibility).
#define RUNICORN_SDK_API __attribute__((visibility("default")))
#endif

namespace runicorn {

namespace sdk {
class RunHandle;
struct RunAccess;
/// Integers other than bool (bool is a value of its own kind).
template <class T>
concept NonBoolIntegral = std::integral<T> && !std::same_as<T, bool>;
}  // namespace sdk

/// One scalar value of a metrics record: null, f64, i64, boolean or string (SDK.md §1.4).
/// Thread safety: a value; distinct objects are safe for concurrent use, one object is externally
/// synchronized.
class RUNICORN_SDK_API MetricValue {
public:
    enum class Kind : std::uint8_t { kNull, kF64, kI64, kBoolean, kString };

    // The constructors are implicit on purpose: `run.log({{"loss", 0.5}, {"ok", true}})`.
    // NOLINTBEGIN(google-explicit-constructor)
    MetricValue() noexcept = default;
    MetricValue(std::nullptr_t) noexcept {}
    MetricValue(bool b) noexcept : kind_(Kind::kBoolean), b_(b) {}
    /// Signed and unsigned integers become i64; an unsigned value above INT64_MAX becomes f64.
    template <sdk::NonBoolIntegral I>
    MetricValue(I v) noexcept : kind_(Kind::kI64), i_(static_cast<std::int64_t>(v)) {
        if constexpr (std::is_unsigned_v<I>) {
            if (static_cast<std::uint64_t>(v) >
                static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                kind_ = Kind::kF64;
                f_ = static_cast<double>(v);
            }
        }
    }
    /// Floating-point values become f64; NaN and infinities are kept.
    template <std::floating_point F>
    MetricValue(F v) noexcept : kind_(Kind::kF64), f_(static_cast<double>(v)) {}
    /// Strings are copied. A null `const char*` is a null value.
    MetricValue(std::string_view s) : kind_(Kind::kString), s_(s) {}
    MetricValue(const char* s)
        : kind_(s == nullptr ? Kind::kNull : Kind::kString), s_(s == nullptr ? "" : s) {}
    MetricValue(std::string s) noexcept : kind_(Kind::kString), s_(std::move(s)) {}
    // NOLINTEND(google-explicit-constructor)

    Kind kind() const noexcept { return kind_; }
    /// The number as a double (f64 as is, i64 converted, boolean 0/1); 0 for null and strings.
    double as_f64() const noexcept {
        switch (kind_) {
            case Kind::kF64:
                return f_;
            case Kind::kI64:
                return static_cast<double>(i_);
            case Kind::kBoolean:
                return b_ ? 1.0 : 0.0;
            default:
                return 0.0;
        }
    }
    /// The i64 value; 0 unless kind() is kI64.
    std::int64_t as_i64() const noexcept { return kind_ == Kind::kI64 ? i_ : 0; }
    /// The boolean; false unless kind() is kBoolean.
    bool as_bool() const noexcept { return kind_ == Kind::kBoolean && b_; }
    /// The string; empty unless kind() is kString.
    std::string_view as_string() const noexcept { return s_; }

private:
    Kind kind_ = Kind::kNull;
    union {
        double f_ = 0.0;
        std::int64_t i_;
        bool b_;
    };
    std::string s_;
};

struct JsonMember;

/// A small ordered JSON value: null, boolean, i64, f64, string, array or object. Object members
/// keep their insertion order; set() replaces a member in place. Used for summaries and configs.
///
///   Json::object({{"lr", 0.1}, {"opt", "sgd"}}), Json::array({1, 2}), Json::parse("{...}")
///
/// Thread safety: a value; distinct objects are safe for concurrent use, one object is externally
/// synchronized.
class RUNICORN_SDK_API Json {
public:
    enum class Kind : std::uint8_t { kNull, kBoolean, kI64, kF64, kString, kArray, kObject };

    // Implicit on purpose, so that Json::object({{"lr", 0.1}}) reads naturally.
    // NOLINTBEGIN(google-explicit-constructor)
    Json() noexcept = default;
    Json(std::nullptr_t) noexcept {}
    Json(bool b) noexcept : kind_(Kind::kBoolean), b_(b) {}
    template <sdk::NonBoolIntegral I>
    Json(I v) noexcept {
        const MetricValue m(v);
        if (m.kind() == MetricValue::Kind::kI64) {
            kind_ = Kind::kI64;
            i_ = m.as_i64();
        } else {
            kind_ = Kind::kF64;
            f_ = m.as_f64();
        }
    }
    template <std::floating_point F>
    Json(F v) noexcept : kind_(Kind::kF64), f_(static_cast<double>(v)) {}
    Json(std::string_view s) : kind_(Kind::kString), s_(s) {}
    Json(const char* s)
        : kind_(s == nullptr ? Kind::kNull : Kind::kString), s_(s == nullptr ? "" : s) {}
    Json(std::string s) noexcept : kind_(Kind::kString), s_(std::move(s)) {}
    // NOLINTEND(google-explicit-constructor)
    /// The JSON form of a metric value (null, number, boolean or string).
    explicit Json(const MetricValue& v);

    /// An array of the given items.
    static Json array(std::initializer_list<Json> items);
    static Json array(std::vector<Json> items = {});
    /// An object of the given members, in order; a repeated key keeps its first position and its
    /// last value.
    static Json object(std::initializer_list<JsonMember> members);
    static Json object();
    /// Parses JSON text (RFC 8259, plus the tokens NaN, Infinity and -Infinity outside strings,
    /// as Python's json module and Runicorn v0.6 write them). INVALID_ARGUMENT with line and
    /// column when it is not JSON. Integers that fit int64 become kI64, other numbers kF64.
    static Result<Json> parse(std::string_view text);

    Kind kind() const noexcept { return kind_; }
    bool is_null() const noexcept { return kind_ == Kind::kNull; }
    bool is_object() const noexcept { return kind_ == Kind::kObject; }
    bool is_array() const noexcept { return kind_ == Kind::kArray; }
    bool is_number() const noexcept { return kind_ == Kind::kI64 || kind_ == Kind::kF64; }
    bool is_string() const noexcept { return kind_ == Kind::kString; }
    bool as_bool() const noexcept { return kind_ == Kind::kBoolean && b_; }
    /// kI64 as is, kF64 truncated; 0 otherwise.
    std::int64_t as_i64() const noexcept;
    /// kF64 as is, kI64 converted; 0 otherwise.
    double as_f64() const noexcept;
    /// The string; empty unless kind() is kString.
    const std::string& as_string() const noexcept { return s_; }

    /// Number of array items or object members; 0 for scalars.
    std::size_t size() const noexcept { return items_.size(); }
    /// Array items, or object values in member order.
    const std::vector<Json>& items() const noexcept { return items_; }
    /// Object keys in member order (parallel to items()); empty for other kinds.
    const std::vector<std::string>& keys() const noexcept { return keys_; }
    /// The value of an object member, or nullptr (also for non-objects).
    const Json* find(std::string_view key) const noexcept;
    /// Sets an object member (replaced in place, else appended). A null value becomes an empty
    /// object first; on other kinds the call does nothing. Returns *this.
    Json& set(std::string_view key, Json value);
    /// Appends an array item. A null value becomes an empty array first; on other kinds the call
    /// does nothing. Returns *this.
    Json& push_back(Json value);

    /// Compact JSON text; NaN and infinities as the tokens NaN, Infinity, -Infinity (FORMAT.md G3).
    std::string dump() const;

    friend bool operator==(const Json& a, const Json& b) noexcept;

private:
    Kind kind_ = Kind::kNull;
    bool b_ = false;
    std::int64_t i_ = 0;
    double f_ = 0.0;
    std::string s_;
    std::vector<Json> items_;        // array items or object values
    std::vector<std::string> keys_;  // object keys
};

/// One member of Json::object({...}).
struct JsonMember {
    std::string key;
    Json value;
};

/// One key/value of a metrics record. The key is used during the call only.
struct Field {
    std::string_view key;
    MetricValue value;
};

/// Per-call options of Run::log (SDK.md §1.3).
struct LogOptions {
    /// Sets the run's step counter and uses it; absent: the counter goes up by one.
    std::optional<std::int64_t> step{};
    /// Injected as the record's "stage"; absent: a "stage" key of the data, if any.
    std::optional<std::string_view> stage{};
};

/// Direction of the primary metric (SDK.md §1.5).
enum class Mode { kMax, kMin };
/// What init does when a run with the same id exists (SDK.md §1.9).
enum class Resume { kNever, kAllow, kMust };
/// When data is fsynced (SDK.md §1.6).
enum class Durability {
    kBuffered,  ///< every sync_interval, at flush() and finish()
    kFlush,     ///< after every batch
    kNone,      ///< only at finish()
};

/// A warning for the user (SDK.md §1.7). Warnings of one kind are rate-limited to one per 30 s;
/// `count` is how many occurrences this one stands for (1, or more after a quiet period).
struct Warning {
    StatusCode code = StatusCode::kOk;
    std::string kind;  ///< e.g. "dropped", "write_error", "invalid_key", "finished"
    std::string message;
    std::uint64_t count = 1;
};

/// How a code snapshot is stored (FORMAT.md §4.9).
enum class SnapshotFormat { kManifest, kZip };

/// Options of init() (SDK.md §2.3).
struct InitOptions {
    /// Run path; nullopt with no project/name → "default"; "" or "/" → the root.
    std::optional<std::string> path{};
    /// Alternative to `path`: the run path becomes "project/name" (either may be empty).
    std::string project{};
    std::string name{};
    /// Storage root; empty → RUNICORN_DIR, config.json user_root_dir, ./.runicorn (FORMAT.md §1.1).
    std::string storage{};
    /// Custom run id; empty → generated YYYYMMDD_HHMMSS_xxxxxx.
    std::string run_id{};
    std::optional<std::string> alias{};
    /// Initial meta.tags.
    std::vector<std::string> tags{};
    Resume resume = Resume::kNever;
    /// Empty → the nearest ancestor of the CWD holding .git, else the CWD.
    std::string workspace_root{};
    // ---- Code snapshot at init (sdk-docs; SDK.md §2.3, FORMAT.md §4.9) ----
    /// Take a code snapshot of the workspace root before init returns (as Run::snapshot_code
    /// with the two options below and the default ignore rules). Over the 500 MiB / 200,000-file
    /// limits without force_snapshot, init fails with INVALID_ARGUMENT "code snapshot too large:
    /// ..." and the run it created is finished as "failed"; any other snapshot failure (no dedup
    /// plugin, an I/O error) is a warning of kind "snapshot" and init succeeds without one.
    bool snapshot_code = false;
    SnapshotFormat snapshot_format = SnapshotFormat::kManifest;
    /// Ignore the snapshot size limits.
    bool force_snapshot = false;
    // ---- end code snapshot at init ----
    Durability durability = Durability::kBuffered;
    /// A record reaches the OS within this time (1 ms – 60 s).
    std::chrono::milliseconds flush_interval{50};
    /// fdatasync interval in kBuffered mode (≥ 1 ms).
    std::chrono::milliseconds sync_interval{5000};
    /// Per-run bound of queued, unwritten records in bytes (≥ 1).
    std::size_t queue_capacity = std::size_t{64} << 20;
    /// Longest wait of a log call on a full queue; 0 drops at once (the default).
    std::chrono::milliseconds max_block{0};
    /// How often .heartbeat.json is rewritten (≥ 1 s).
    std::chrono::seconds heartbeat_interval{10};
    /// Longest wait of finish() (and of the RAII/atexit finish) for the final writes.
    std::chrono::milliseconds finish_timeout{30000};
    /// Install SIGINT/SIGTERM handlers that finish the run as "interrupted" (SDK.md §5).
    bool handle_signals = false;
    /// Finish the run when the last Run handle is destroyed (SDK.md §2.5).
    bool finish_on_destroy = true;
    /// Receives every warning of this run; empty → one "runicorn: ..." line on stderr
    /// (silenced by RUNICORN_SILENT=1). Called from any thread, never with an SDK lock held; it
    /// must not throw (exceptions are swallowed).
    std::function<void(const Warning&)> on_warning{};
};

/// Options of Run::log_image.
struct ImageOptions {
    /// The event's "step" (the user's own number; null when absent). The step counter is unchanged.
    std::optional<std::int64_t> step{};
    std::optional<std::string> caption{};
    /// Used for the extension only when the bytes have no known signature (PNG, JPEG, GIF, WebP,
    /// BMP); lower-cased; must be 1–10 ASCII letters or digits.
    std::string format = "png";
};

/// Options of Run::log_config: each given member replaces assets.json config.<member>; absent
/// members are kept (FORMAT.md §4.6).
struct ConfigOptions {
    std::optional<Json> args{};   ///< must be an object
    std::optional<Json> extra{};  ///< must be an object
    std::optional<std::vector<std::filesystem::path>> config_files{};
};

// ---- Artifacts (sdk-artifacts; defined in <runicorn/artifact.hpp>, included at the end) ------
class Artifact;
class ArtifactVersion;

/// Counters of one run (SDK.md §2.4).
struct RunStats {
    std::uint64_t records_logged = 0;   ///< records offered to the queue (written or dropped)
    std::uint64_t records_written = 0;  ///< records the storage accepted
    std::uint64_t records_dropped = 0;  ///< records dropped: queue full, out of memory
    std::uint64_t bytes_written = 0;    ///< bytes of events.jsonl and logs.txt written
    std::uint64_t write_errors = 0;     ///< failed storage calls (each retry counts)
    std::uint64_t queue_bytes = 0;      ///< bytes queued now
    std::uint64_t queue_high_water = 0;
    Status last_error;  ///< the last storage failure; OK if none
};

// ---- Assets (sdk-assets: archive copies, code snapshots, outputs; SDK.md §2.4, FORMAT.md §4.6)

/// Options of Run::log_dataset (SDK.md §2.4).
struct DatasetOptions {
    std::string context = "train";
    /// Archive a copy of a local file or directory into the blob store (FORMAT.md §5).
    bool save = false;
    std::optional<std::string> description{};
    /// Archive even when over the limits below.
    bool force_save = false;
    std::uint64_t max_archive_bytes = std::uint64_t{5} << 30;
    std::uint64_t max_archive_files = 2'000'000;
};

/// Options of Run::log_pretrained (SDK.md §2.4).
struct PretrainedOptions {
    /// A local path (made absolute) or a URI (kept verbatim); required with `save`.
    std::optional<std::string> path_or_uri{};
    bool save = false;
    std::string source_type = "unknown";
    std::optional<std::string> description{};
    bool force_save = false;
    std::uint64_t max_archive_bytes = std::uint64_t{5} << 30;
    std::uint64_t max_archive_files = 2'000'000;
};

// SnapshotFormat is declared before InitOptions.

/// Options of Run::snapshot_code (FORMAT.md §4.9, SDK.md §4.10).
struct SnapshotOptions {
    /// Empty: the run's workspace_root.
    std::filesystem::path workspace_root{};
    SnapshotFormat format = SnapshotFormat::kManifest;
    /// Ignore the limits below.
    bool force = false;
    /// Read after .gitignore and .rnignore (the last matching rule decides).
    std::vector<std::string> extra_excludes{};
    std::string ignore_file = ".rnignore";
    std::uint64_t max_total_bytes = std::uint64_t{500} << 20;
    std::uint64_t max_files = 200'000;
};

/// Options of the outputs scanner (SDK.md §4.11).
struct OutputsOptions {
    /// Directories to scan; relative ones are taken from the current directory.
    std::vector<std::filesystem::path> output_dirs{};
    /// Globs tried against the '/'-separated path below each output directory; a trailing '/'
    /// selects directories; "**/x" also matches a top-level "x". Empty: the default list.
    std::vector<std::string> patterns{};
    /// Unchanged size and mtime_ns seen this many scans in a row before a file is archived.
    int stable_required = 2;
    /// A file must be at least this old (seconds since its mtime) to be archived.
    double min_age_sec = 1.0;
    /// "rolling" (a per-run copy), "overwrite_versions" (CAS, one entry per version) or another
    /// CAS mode (blobs/manifests, one entry per key).
    std::string mode = "rolling";
    /// Log-like files (.log .txt .jsonl .csv, "tfevents") are copied at most this often.
    double log_snapshot_interval_sec = 60.0;
    /// State items not seen for this long are dropped.
    double state_gc_after_sec = 604800.0;
};

/// What one scan did (SDK.md §4.11).
struct ScanResult {
    std::string run_id;
    std::uint64_t scanned = 0;   ///< matching files and directories seen
    std::uint64_t archived = 0;  ///< entries written to assets.json outputs
    std::uint64_t changed = 0;   ///< items new or with another size/mtime than the last scan
    /// The assets.json outputs entries written by this scan (FORMAT.md §4.6).
    std::vector<Json> archived_entries{};
};

/// A handle on one run. Copies are cheap and share the run; a default-constructed Run, and the run
/// init returns while the SDK is disabled, is a no-op run whose methods do nothing (id()
/// "disabled"). When the last handle of an unfinished run is destroyed (and finish_on_destroy),
/// the run is finished: "failed" with exit_reason "exception" during stack unwinding, else
/// "finished"; the destructor waits at most finish_timeout. No method throws.
///
/// Thread safety: safe for concurrent use (one Run object is externally synchronized for
/// assignment; the run behind it is safe for concurrent use from any number of handles).
class RUNICORN_SDK_API Run {
public:
    /// A no-op run.
    Run() noexcept;
    ~Run();
    Run(const Run& other) noexcept;
    Run& operator=(const Run& other) noexcept;
    Run(Run&& other) noexcept;
    Run& operator=(Run&& other) noexcept;

    /// Queues one metrics record (SDK.md §1.3, §1.4): keys in the given order, then global_step,
    /// time and stage. Invalid keys (empty, over 256 bytes, NUL, bad UTF-8) and the reserved keys
    /// global_step, step and time are left out. Never blocks unless max_block > 0; a full queue
    /// drops the record and counts it (stats().records_dropped).
    void log(std::initializer_list<Field> fields, const LogOptions& options = {}) noexcept;
    void log(std::span<const Field> fields, const LogOptions& options = {}) noexcept;
    /// Keys in map order.
    void log(const std::map<std::string, MetricValue, std::less<>>& values,
             std::optional<std::int64_t> step = {},
             std::optional<std::string_view> stage = {}) noexcept;
    /// Queues the logs.txt line "HH:MM:SS | <text>" (local time; one prefix even for several
    /// lines).
    void log_text(std::string_view text) noexcept;
    /// Writes media/<ms>_<hex6>_<key>.<ext> (FORMAT.md §4.8) in the calling thread, then queues
    /// its image event. Returns "media/<file>", or "" on failure (a warning says why).
    std::string log_image(std::string_view key, std::span<const std::byte> encoded,
                          const ImageOptions& options = {}) noexcept;
    /// As log_image, with the bytes read from `file`.
    std::string log_image_file(std::string_view key, const std::filesystem::path& file,
                               const ImageOptions& options = {}) noexcept;

    /// Tracks the best value of `name` (SDK.md §1.5) and resets it. INVALID_ARGUMENT for an
    /// invalid key; FAILED_PRECONDITION on a finished run.
    Status set_primary_metric(std::string_view name, Mode mode = Mode::kMax) noexcept;
    /// Shallow-merges an object into summary.json (written by the background writer).
    /// INVALID_ARGUMENT when `object` is not an object.
    Status summary(const Json& object) noexcept;
    /// Sets assets.json config.args / .extra / .config_files (each replaced when given).
    Status log_config(const ConfigOptions& options) noexcept;
    /// Adds tags to meta.tags (trimmed; empty and duplicate tags ignored).
    Status add_tags(std::span<const std::string> tags) noexcept;
    // ---- Assets (sdk-assets). They work in the calling thread (SDK.md §1.10) and return once
    // the archive objects and assets.json are written. Without the dedup plugin an archive copy
    // is not made: a warning, the entry is recorded unsaved and the call returns OK.
    /// Records a dataset in assets.json datasets[] (an entry with the same name and context is
    /// replaced). With options.save a local file becomes a blob, a directory a manifest in the
    /// "datasets" category. INVALID_ARGUMENT for an empty name, or when the data exceeds
    /// max_archive_bytes / max_archive_files without force_save (then nothing is recorded).
    Status log_dataset(std::string_view name, std::string_view root_or_uri,
                       const DatasetOptions& options = {}) noexcept;
    /// Records pretrained weights in assets.json pretrained[] (same name replaced); archived as
    /// for datasets ("pretrained" category). INVALID_ARGUMENT for save without path_or_uri.
    Status log_pretrained(std::string_view name, const PretrainedOptions& options = {}) noexcept;
    /// Takes a code snapshot (FORMAT.md §4.9) and records it as assets.json code.snapshot;
    /// returns that entry. INVALID_ARGUMENT "code snapshot too large: ..." over the limits
    /// without options.force; UNAVAILABLE without the dedup plugin.
    Result<Json> snapshot_code(const SnapshotOptions& options = {}) noexcept;
    /// One scan of the output directories (SDK.md §4.11). INVALID_ARGUMENT for bad options.
    Result<ScanResult> scan_outputs_once(const OutputsOptions& options) noexcept;
    /// Scans every `interval` on a thread of its own until stop_outputs_watch() or finish().
    /// ALREADY_EXISTS when this run already has a watcher.
    Status watch_outputs(const OutputsOptions& options,
                         std::chrono::milliseconds interval = std::chrono::seconds(10)) noexcept;
    /// Stops the watcher (waits for a scan in progress to end its current file).
    void stop_outputs_watch() noexcept;
    // ---- Artifacts (sdk-artifacts; FORMAT.md §7.6). They work in the calling thread
    // (SDK.md §1.10).
    /// Stores the artifact's files as blobs and publishes the next version (or reuses the latest
    /// one when the content is identical: deduplicated()), points `aliases` at it, records
    /// produced_by and the run's artifacts.json "logged" entry. INVALID_ARGUMENT for bad names,
    /// aliases, no files, two files at one path, or a type other than the artifact's; NOT_FOUND
    /// for a source that vanished; FAILED_PRECONDITION on a finished or no-op run; UNAVAILABLE
    /// without the dedup plugin; otherwise the storage error.
    Result<ArtifactVersion> log_artifact(const Artifact& artifact,
                                         std::span<const std::string> aliases = {}) noexcept;
    /// Resolves `ref` ("name", "name:latest", "name:v3", "name:<alias>") and records the use in
    /// the run's artifacts.json "used" list. A no-op run resolves read-only in the default
    /// storage root (runicorn::artifact). INVALID_ARGUMENT for a malformed reference; NOT_FOUND
    /// for an unknown artifact, version or alias; FAILED_PRECONDITION on a finished run;
    /// UNAVAILABLE without the dedup plugin.
    Result<ArtifactVersion> use_artifact(std::string_view ref) noexcept;
    /// Waits until everything queued before the call is written, and synced unless
    /// Durability::kNone. DEADLINE_EXCEEDED on timeout; the storage error when the writer's attempt
    /// failed (the data stays queued and is retried).
    Status flush(std::chrono::milliseconds timeout = std::chrono::seconds(5)) noexcept;
    /// Drains the queue, merges the best metric into summary.json, status and ended_at (and
    /// dropped_records when > 0) into status.json, syncs and releases the run (SDK.md §1.1).
    /// A second call returns FAILED_PRECONDITION and warns once. DEADLINE_EXCEEDED after
    /// finish_timeout; otherwise the first storage error of the final writes.
    Status finish(std::string_view status = "finished") noexcept;

    /// "disabled" for a no-op run.
    const std::string& id() const noexcept;
    /// The normalised run path; "" for a root-path run and a no-op run.
    const std::string& path() const noexcept;
    const std::string& alias() const noexcept;
    /// Empty for a no-op run.
    const std::filesystem::path& run_dir() const noexcept;
    const std::filesystem::path& storage_root() const noexcept;
    const std::filesystem::path& media_dir() const noexcept;
    const std::filesystem::path& workspace_root() const noexcept;
    /// False for a no-op run.
    bool enabled() const noexcept;
    bool finished() const noexcept;
    RunStats stats() const noexcept;

private:
    friend struct sdk::RunAccess;
    explicit Run(std::shared_ptr<sdk::RunHandle> handle) noexcept;

    std::shared_ptr<sdk::RunHandle> handle_;
    int uncaught_ = 0;  // std::uncaught_exceptions() when this handle was made
};

/// Creates (or resumes) a run: loads the storage plugin, creates the run folder and starts the
/// background writer (SDK.md §1.1). Disabled (SDK.md §1.8) → a no-op run. INVALID_ARGUMENT for bad
/// options, path or id; ALREADY_EXISTS, NOT_FOUND, UNAVAILABLE for resume conflicts (§1.9);
/// PERMISSION_DENIED for an unwritable root; UNAVAILABLE when no storage plugin can be loaded.
RUNICORN_SDK_API Result<Run> init(InitOptions options = {}) noexcept;
/// As init, but a failure gives a no-op run and a warning.
RUNICORN_SDK_API Run init_or_noop(InitOptions options = {}) noexcept;

/// The set_enabled override if any, else RUNICORN_ON (1,true,yes,y,on / 0,false,no,n,off; other
/// values and unset → enabled), then RUNICORN_MODE=disabled.
RUNICORN_SDK_API bool is_enabled() noexcept;
RUNICORN_SDK_API void set_enabled(bool enabled) noexcept;
RUNICORN_SDK_API void reset_enabled() noexcept;
/// The process's active run: the last run init created, until it is finished. The registry owns
/// nothing: nullopt once every handle is gone.
RUNICORN_SDK_API std::optional<Run> active_run() noexcept;

/// Our version ("0.1.0").
RUNICORN_SDK_API std::string_view version() noexcept;
/// The Runicorn release whose files and API this SDK matches: "0.6.0".
RUNICORN_SDK_API std::string_view compat_version() noexcept;

}  // namespace runicorn

// Artifact, ArtifactVersion, runicorn::artifact() (sdk-artifacts).
#include <runicorn/artifact.hpp>  // IWYU pragma: export
