#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include <runicorn/plugin/run_store.hpp>
#include <runicorn/runicorn.hpp>

#include "warnings.hpp"

namespace runicorn::sdk {

/// The record time source: Unix seconds. Tests replace it to get byte-exact lines.
using Clock = double (*)() noexcept;
/// system_clock as Unix seconds with sub-microsecond resolution.
double system_clock_seconds() noexcept;

/// A batch is written early once this much is pending, and no single write is larger (unless
/// one record is).
inline constexpr std::size_t kBatchBytes = std::size_t{1} << 20;
/// Back-off of retries after a failed write (SDK.md §5).
inline constexpr std::chrono::milliseconds kFirstBackoff{500};
inline constexpr std::chrono::milliseconds kMaxBackoff{10000};
/// The best metric is merged into summary.json at most this often while it changes.
inline constexpr std::chrono::seconds kBestMetricInterval{5};

/// What a run is called and where it lives; fixed at init.
struct RunIdentity {
    std::string id;
    std::string path;  ///< "" for a root-path run
    std::string alias;
    std::filesystem::path run_dir;
    std::filesystem::path storage_root;
    std::filesystem::path media_dir;
    std::filesystem::path workspace_root;
};

/// The settings of a run's queue and writer (InitOptions, checked).
struct RunSettings {
    Durability durability = Durability::kBuffered;
    std::chrono::milliseconds flush_interval{50};
    std::chrono::milliseconds sync_interval{5000};
    std::chrono::milliseconds max_block{0};
    std::chrono::milliseconds finish_timeout{30000};
    std::chrono::seconds heartbeat_interval{10};
    std::size_t queue_capacity = std::size_t{64} << 20;
    bool finish_on_destroy = true;
    bool handle_signals = false;
    WarningHandler on_warning;
    Clock clock = &system_clock_seconds;
};

/// The outcome of queueing one record.
enum class Enqueued : std::uint8_t {
    kQueued,
    kDropped,   ///< queue full or out of memory; counted
    kRejected,  ///< the run is finished (or inert after fork); nothing counted
};

/// One live run: the queue that log() fills in the caller's thread and the state that the
/// background writer drains into the run store's RunWriter (SDK.md §1.6).
///
/// Two locks: `mu_` guards the queue, the pending control updates and the counters and is held
/// only for short appends and swaps; `io_mu_` serialises every call into the RunWriter (the
/// writer thread's batches, log_image's media file) because RunWriter is externally
/// synchronized. Lock order: io_mu_ before mu_. No warning is delivered and no other SDK lock is
/// taken while mu_ is held.
///
/// Thread safety: safe for concurrent use.
class RunCore {
public:
    RunCore(std::shared_ptr<plugin::RunWriter> writer, RunIdentity identity, RunSettings settings);
    ~RunCore();
    RunCore(const RunCore&) = delete;
    RunCore& operator=(const RunCore&) = delete;
    RunCore(RunCore&&) = delete;
    RunCore& operator=(RunCore&&) = delete;

    /// Continues a resumed run: the step counter and the best metric (summary.json keys).
    void restore(std::int64_t last_step, const std::optional<boost::json::object>& summary);
    /// The run's meta.tags as created (add_tags rewrites the whole list).
    void set_tags(const std::vector<std::string>& tags);
    /// Writes the first heartbeat in the calling thread (init, before the writer sees the run).
    void start_heartbeat() noexcept;

    /// Formats and queues one metrics record (SDK.md §1.3).
    Enqueued log(std::span<const Field> fields, const std::optional<std::int64_t>& step,
                 const std::optional<std::string_view>& stage) noexcept;
    /// Queues one logs.txt line "HH:MM:SS | text".
    Enqueued log_text(std::string_view text) noexcept;
    /// Queues `text` into logs.txt verbatim (already prefixed by the caller: console capture,
    /// logging handler), with a '\n' appended unless it ends with one.
    Enqueued log_raw(std::string_view text) noexcept;
    /// Writes the media file in the calling thread, then queues its event. Returns
    /// "media/<file>". INVALID_ARGUMENT for a bad key or format, FAILED_PRECONDITION on a finished
    /// run, RESOURCE_EXHAUSTED when the event was dropped, or the store's error.
    Result<std::string> log_image(std::string_view key, std::span<const std::byte> bytes,
                                  const ImageOptions& options) noexcept;

    Status set_primary_metric(std::string_view name, Mode mode) noexcept;
    Status summary(const Json& object) noexcept;
    Status log_config(const ConfigOptions& options) noexcept;
    Status add_tags(std::span<const std::string> tags) noexcept;
    Status flush(std::chrono::milliseconds timeout) noexcept;
    /// Finishes the run (SDK.md §1.1). `exit_reason` empty: none written; `signal` > 0: written.
    /// `warn_if_finished`: a second call warns once (explicit calls); RAII and atexit pass false.
    Status finish(std::string_view status, std::string_view exit_reason, int signal,
                  bool warn_if_finished) noexcept;

    bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }
    bool closed() const noexcept;
    RunStats stats() const noexcept;
    const RunIdentity& identity() const noexcept { return identity_; }
    const RunSettings& settings() const noexcept { return settings_; }

    /// Called in a fork child: the run becomes a no-op that never writes, flushes or finishes.
    void make_inert() noexcept { inert_.store(true, std::memory_order_release); }
    bool inert() const noexcept { return inert_.load(std::memory_order_acquire); }
    /// The queue lock, taken around fork() so the child sees a consistent queue.
    std::mutex& queue_mutex() noexcept { return mu_; }

    /// The background writer's entry point: writes what is due at `now` (batches every
    /// flush_interval, heartbeats, syncs, control updates, requested flushes and the finish).
    void service_if_due(std::chrono::steady_clock::time_point now) noexcept;

    // ---- Asset hooks (sdk-assets: assets.cpp, outputs_scanner.cpp) ----
    /// The run's extension object named `name`, made by `make` on the first call (one per name;
    /// e.g. the run's asset state). Never null unless `make` returns null. `make` runs under an
    /// internal lock and must not call back into this object.
    std::shared_ptr<void> extension(std::string_view name,
                                    const std::function<std::shared_ptr<void>()>& make);
    /// Runs `hook` once when finish() starts (after the winning call, before the final writes),
    /// outside every lock of this class; e.g. stopping an outputs watcher. Hooks added after that
    /// are dropped.
    void add_finish_hook(std::function<void()> hook);
    /// Shallow-merges `patch` into assets.json (top-level keys replaced) through the writer and
    /// waits until it is written: what a set-up call needs before it returns (SDK.md §1.10).
    /// Accepted until finish() closes the queue (a finish hook may still publish).
    /// FAILED_PRECONDITION once closed, DEADLINE_EXCEEDED on timeout, else the writer's status.
    Status publish_assets(boost::json::object patch, std::chrono::milliseconds timeout) noexcept;

private:
    struct Stream {
        std::string pending;  // guarded by mu_
        std::uint64_t pending_records = 0;
        std::string inflight;  // guarded by io_mu_: taken from pending, not yet written
        std::size_t inflight_off = 0;
        std::uint64_t inflight_records = 0;
    };
    struct Primary {
        std::string name;
        Mode mode = Mode::kMax;
        bool has_best = false;
        double best = 0.0;
        std::int64_t best_step = 0;
        bool dirty = false;  // changed since the last summary merge
    };
    enum class StreamId : std::uint8_t { kEvents, kLogs };

    Enqueued enqueue(StreamId which, std::string_view line, std::span<const Field> fields,
                     std::int64_t step) noexcept;
    /// Waits for room when max_block > 0; called with mu_ held (through `lock`).
    bool has_room(std::unique_lock<std::mutex>& lock, std::size_t n);
    void update_best(std::span<const Field> fields, std::int64_t step);
    void put_best_into_summary();
    void report_bad_keys(const std::vector<std::string>& keys) noexcept;
    void count_oom_drop() noexcept;
    void warn(StatusCode code, std::string_view kind, const std::string& message) noexcept;
    void warn_finished(std::string_view what) noexcept;
    /// Asks the writer for an attempt that covers everything queued so far and waits for it.
    /// Returns nullopt on timeout, else the attempt's status.
    std::optional<Status> request_and_wait(std::chrono::milliseconds timeout);
    /// One attempt: writes the batches and control updates, heartbeats, syncs, closes.
    void do_service(std::chrono::steady_clock::time_point now, bool requested) noexcept;
    Status write_stream(Stream& s, StreamId which);
    void merge_back(plugin::RunJsonFile file, boost::json::object patch);
    void note_error(const Status& s, std::string_view what) noexcept;
    /// Runs and drops the finish hooks (sdk-assets).
    void run_finish_hooks() noexcept;

    const std::shared_ptr<plugin::RunWriter> writer_;
    const RunIdentity identity_;
    const RunSettings settings_;

    std::atomic<std::int64_t> step_{0};
    std::atomic<bool> finished_{false};
    std::atomic<bool> inert_{false};
    std::atomic<bool> has_primary_{false};
    WarningGate gate_;

    mutable std::mutex mu_;
    std::condition_variable space_cv_;  // room in the queue, or the run stopped accepting
    std::condition_variable done_cv_;   // an attempt completed
    bool accepting_ = true;
    bool shedding_ = false;
    bool closing_ = false;
    bool closed_ = false;
    int space_waiters_ = 0;
    Stream events_;
    Stream logs_;
    std::uint64_t queue_bytes_ = 0;
    std::uint64_t queue_high_water_ = 0;
    std::uint64_t enqueue_gen_ = 0;    // bumped by every record and control update
    std::uint64_t flush_req_ = 0;      // bumped by every flush/finish request
    std::uint64_t attempt_req_ = 0;    // the flush_req_ the last completed attempt covered
    std::uint64_t completed_gen_ = 0;  // everything up to this generation is written
    Status attempt_status_;
    boost::json::object summary_patch_;
    boost::json::object assets_patch_;
    boost::json::object meta_patch_;
    boost::json::object status_patch_;
    boost::json::object config_;  // assets.json "config" as this session knows it
    std::vector<std::string> tags_;
    std::optional<Primary> primary_;
    std::set<std::string, std::less<>> warned_keys_;
    std::uint64_t logged_ = 0;
    std::uint64_t written_ = 0;
    std::uint64_t dropped_ = 0;
    std::uint64_t dropped_noted_ = 0;   // dropped count last noted in logs.txt
    std::uint64_t dropped_warned_ = 0;  // dropped count last reported by a warning
    std::string drop_reason_;
    std::uint64_t bytes_written_ = 0;
    std::uint64_t write_errors_ = 0;
    Status last_error_;
    bool failing_ = false;  // the last attempt failed
    std::chrono::steady_clock::time_point last_drop_warning_{};

    // Guarded by io_mu_ (the writer side).
    std::mutex io_mu_;
    std::chrono::steady_clock::time_point retry_at_{};
    std::chrono::milliseconds backoff_ = kFirstBackoff;
    std::chrono::steady_clock::time_point last_heartbeat_{};
    bool heartbeat_done_ = false;
    std::chrono::steady_clock::time_point last_sync_{};
    bool unsynced_ = false;
    std::chrono::steady_clock::time_point last_best_merge_{};

    // Asset hooks (sdk-assets); guarded by ext_mu_, held while an extension's `make` runs and
    // never while a finish hook runs.
    std::mutex ext_mu_;
    std::map<std::string, std::shared_ptr<void>, std::less<>> extensions_;
    std::vector<std::function<void()>> finish_hooks_;
    bool finish_hooks_ran_ = false;
};

}  // namespace runicorn::sdk
