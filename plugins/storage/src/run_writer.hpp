#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <spdlog/logger.h>

#include <runicorn/plugin/run_store.hpp>
#include <runicorn/result.hpp>

#include "file_io.hpp"

namespace runicorn::storage {

/// How long opening an existing run waits for its `.writer.lock` (FORMAT.md §7.2: a liveness
/// checker may hold it for an instant).
inline constexpr std::chrono::milliseconds kWriterLockWait{2'000};
/// How many generated ids are tried before giving up (FORMAT.md §3.1).
inline constexpr int kRunIdAttempts = 16;

/// A run folder opened for writing by one SDK session (FORMAT.md §4, §7.2, §7.3): holds
/// `.writer.lock` from open() until close() or destruction, appends events.jsonl and logs.txt
/// by rule C2 (one write() per batch under the file's lock, truncated back on error), replaces
/// JSON files by rule C1 and rewrites `.heartbeat.json`.
///
/// Thread safety: externally synchronized.
class FolderRunWriter final : public plugin::RunWriter {
public:
    /// Creates (or, with resume, reopens) a run under `root` as RunStore::open_run documents.
    /// A new run gets runs/<path>/<id>/ (a root-path run runs/<id>/), created with an exclusive
    /// mkdir and fsynced with its parent, with meta.json (every field of FORMAT.md §4.1),
    /// status.json `{"status": "running", "started_at": …}`, the empty v0.6 assets.json and
    /// media/; the store marker is written on first use. A reopened run (SDK.md §1.9) gets its
    /// torn tails ended, status.json set back to running (ended_at, exit_reason, error and signal
    /// removed, resume_count + 1, resumed_at) and meta.json's pid, hostname, boot_id and
    /// process_start updated. Errors: INVALID_ARGUMENT (path, id), ALREADY_EXISTS, NOT_FOUND,
    /// UNAVAILABLE "run '<id>' is in use by another writer", PERMISSION_DENIED naming the
    /// directory that could not be created, FAILED_PRECONDITION for a folder that is not a run
    /// or a store that requires an unknown feature. On failure nothing is left behind for a new
    /// run (directories this call created are removed). `log` may be null.
    ///
    /// With `write_v06_index`, the run's row in Runicorn v0.6's index/runicorn.db is upserted
    /// (status 'running') and merge_json() of a status follows it there (FORMAT.md §6). That is
    /// best effort: a failure is logged once per writer and never fails the call.
    static Result<std::shared_ptr<FolderRunWriter>> open(const std::filesystem::path& root,
                                                         const plugin::RunCreateOptions& options,
                                                         const std::shared_ptr<spdlog::logger>& log,
                                                         bool write_v06_index = true);

    /// Closes the run if close() was not called, logging any error.
    ~FolderRunWriter() override;
    FolderRunWriter(const FolderRunWriter&) = delete;
    FolderRunWriter& operator=(const FolderRunWriter&) = delete;
    FolderRunWriter(FolderRunWriter&&) = delete;
    FolderRunWriter& operator=(FolderRunWriter&&) = delete;

    const std::string& run_id() const override { return run_id_; }
    const std::optional<std::string>& path() const override { return path_; }
    const std::filesystem::path& run_dir() const override { return run_dir_; }
    const std::filesystem::path& workspace_root() const override { return workspace_root_; }
    bool resumed() const override { return resumed_; }
    std::int64_t last_step() const override { return last_step_; }
    std::optional<boost::json::object> resumed_summary() const override { return resumed_summary_; }

    Status append_events(std::string_view lines) override;
    Status append_logs(std::string_view lines) override;
    Status merge_json(plugin::RunJsonFile file, const boost::json::object& patch) override;
    Status write_media(std::string_view file_name, std::span<const std::byte> bytes) override;
    Status heartbeat(std::chrono::seconds interval) override;
    Status sync() override;
    Status close() override;

private:
    struct Identity;  // defined in the .cpp: hostname, boot id, pid, start time, writer

    FolderRunWriter(std::string run_id, std::optional<std::string> path,
                    std::filesystem::path run_dir, std::filesystem::path workspace_root,
                    std::string writer, FileLock writer_lock, std::shared_ptr<spdlog::logger> log);

    Status check_open(std::string_view what) const;
    /// Upserts the v0.6 index row (FORMAT.md §6) when enabled; logs a failure once.
    void index_v06_run(const std::optional<std::string>& alias, double created_at);
    /// Mirrors a status.json patch into the v0.6 index when enabled; logs a failure once.
    void index_v06_status(const boost::json::object& patch);
    void note_v06_failure(const Status& status);
    Status merge_json_file(plugin::RunJsonFile file, const boost::json::object& patch,
                           bool null_removes);

    std::string run_id_;
    std::optional<std::string> path_;
    std::filesystem::path run_dir_;
    std::filesystem::path workspace_root_;
    std::string writer_;
    FileLock writer_lock_;
    std::shared_ptr<spdlog::logger> log_;
    AppendFile events_;
    AppendFile logs_;
    bool resumed_ = false;
    std::int64_t last_step_ = 0;
    std::optional<boost::json::object> resumed_summary_;
    std::string session_;
    std::int64_t heartbeat_seq_ = 0;
    bool closed_ = false;
    std::filesystem::path root_;  ///< The storage root (for index/runicorn.db).
    bool write_v06_index_ = false;
    bool v06_failure_logged_ = false;
};

/// The global_step of the last metrics record in events.jsonl at `events` (`data.global_step`,
/// else `data.step`, as an integer; an integral float is accepted), scanning backwards from the
/// end over `\n`-terminated lines only; damaged lines and lines over 16 MiB are skipped. 0 when
/// there is none or the file does not exist.
std::int64_t find_last_step(const std::filesystem::path& events);

}  // namespace runicorn::storage
