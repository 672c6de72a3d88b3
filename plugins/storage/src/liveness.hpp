#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/json/object.hpp>
#include <spdlog/logger.h>

#include <runicorn/plugin/run_store.hpp>
#include <runicorn/result.hpp>

namespace runicorn::storage {

/// The host a liveness check runs on: what a run's hostname and boot id are compared with.
struct LocalHost {
    std::string hostname;
    std::string boot_id;  ///< "" when unknown.

    /// This machine (local_hostname(), local_boot_id()).
    static LocalHost current();
};

/// Remembers the last heartbeat `seq` seen per run folder and since when (monotonic clock), so a
/// long-lived reader judges another host's heartbeat without trusting either wall clock
/// (FORMAT.md §7.2).
/// Thread safety: safe for concurrent use.
class HeartbeatTracker {
public:
    /// Records `seq` for `run_dir` at `now`. Returns how long the seq has been unchanged, or
    /// nullopt for the first observation of this folder.
    std::optional<std::chrono::steady_clock::duration> observe(
        const std::filesystem::path& run_dir, std::int64_t seq,
        std::chrono::steady_clock::time_point now);

private:
    struct Seen {
        std::int64_t seq;
        std::chrono::steady_clock::time_point since;
    };
    std::mutex mu_;
    std::unordered_map<std::string, Seen> seen_;
};

/// The verdict for a run whose status is "running".
struct LivenessVerdict {
    plugin::RunLiveness liveness = plugin::RunLiveness::kUnknown;
    std::string exit_reason;  ///< For kDead and kStale: process_not_found, host_rebooted, …
    bool persist = false;     ///< Write the failure into status.json (always for kDead).
};

/// How long another host's heartbeat may stay unchanged before a stale run's failure is written
/// (FORMAT.md §7.2 `stale_persist_after`).
inline constexpr std::chrono::seconds kStalePersistAfter{3600};

/// Decides whether the writer of the run in `run_dir` (its meta.json is `meta`) is alive, by the
/// table of FORMAT.md §7.2: with a `.heartbeat.json` from this host, a non-blocking flock try on
/// `.writer.lock` (released at once; without usable locks, the pid and its start time), a changed
/// boot id meaning a reboot; another host's heartbeat is stale after
/// max(3 × interval_s, 30 s) without a change (`tracker`, may be null) or, at the first
/// observation, when `now` − ts exceeds that plus 120 s. Without a heartbeat (a v0.6 writer): the
/// v0.6 rule (same hostname, not a remote-cache path, pid not alive), plus a held `.writer.lock`
/// meaning alive and a live pid that started after the run (or after meta.process_start) meaning
/// a reused pid. Reads only; warnings (damaged heartbeat) go to `log`, which may be null.
LivenessVerdict assess_liveness(const std::filesystem::path& run_dir,
                                const boost::json::object& meta, const LocalHost& local, double now,
                                HeartbeatTracker* tracker, spdlog::logger* log);

/// Marks a crashed run: merges `status: "failed"`, `ended_at` and `exit_reason` into its
/// status.json by a locked atomic read-modify-write, only while the file still says "running"
/// and no writer holds `.writer.lock` (a writer that finished or resumed meanwhile wins). Returns
/// whether it wrote; errors as update_json_file().
Result<bool> mark_run_failed(const std::filesystem::path& run_dir, std::string_view exit_reason,
                             double ended_at, spdlog::logger* log);

}  // namespace runicorn::storage
