#include "liveness.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>

#include "file_io.hpp"
#include "json_values.hpp"
#include "sys_info.hpp"
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace runicorn::storage {
namespace fs = std::filesystem;
namespace json = boost::json;
using plugin::RunLiveness;

namespace {

/// Two start times of one process differ only by the clock conversion in
/// process_start_time(); a reused pid started at least this much later or earlier.
constexpr double kStartTimeTolerance = 1.0;
/// A pid whose process started this long after meta.created_at cannot be the run's writer.
constexpr double kReusedPidSlack = 1.0;
/// A reader that has never seen this heartbeat before adds this to stale_after, for clock skew.
constexpr double kFirstObservationSlack = 120.0;

constexpr std::array<std::string_view, 3> kRemoteCacheMarkers = {".runicorn_remote_cache",
                                                                 "remote_cache", "_remote_"};

enum class LockProbe { kHeld, kFree, kUnsupported };

/// Tries flock(LOCK_EX | LOCK_NB) on an existing `.writer.lock` and releases it at once. The file
/// is opened read-only and never created: a reader leaves no lock files behind.
LockProbe probe_writer_lock(const fs::path& lock_file) {
    UniqueFd fd(::open(lock_file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return LockProbe::kUnsupported;
    }
    while (true) {
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
            ::flock(fd.get(), LOCK_UN);
            return LockProbe::kFree;
        }
        if (errno == EINTR) {
            continue;
        }
        return errno == EWOULDBLOCK ? LockProbe::kHeld : LockProbe::kUnsupported;
    }
}

/// True when `pid` is alive and is the process that started at `start` (when known).
bool same_process_alive(std::int64_t pid, std::optional<double> start) {
    if (pid <= 0 || !pid_alive(static_cast<pid_t>(pid))) {
        return false;
    }
    if (!start) {
        return true;
    }
    const auto actual = process_start_time(static_cast<pid_t>(pid));
    return !actual || std::fabs(*actual - *start) < kStartTimeTolerance;
}

LivenessVerdict dead(std::string reason) { return {RunLiveness::kDead, std::move(reason), true}; }

LivenessVerdict judge_heartbeat(const fs::path& run_dir, const json::object& hb,
                                const LocalHost& local, double now, HeartbeatTracker* tracker) {
    const auto host = json_string(hb, "hostname");
    if (host && *host == local.hostname) {
        const auto boot = json_string(hb, "boot_id").value_or("");
        if (!boot.empty() && !local.boot_id.empty() && boot != local.boot_id) {
            return dead("host_rebooted");
        }
        switch (probe_writer_lock(run_dir / ".writer.lock")) {
            case LockProbe::kHeld:
                return {RunLiveness::kAlive, {}, false};
            case LockProbe::kFree:
                return dead("process_not_found");
            case LockProbe::kUnsupported:
                break;
        }
        const auto pid = json_int(hb, "pid");
        if (pid && same_process_alive(*pid, json_number(hb, "process_start"))) {
            return {RunLiveness::kAlive, {}, false};
        }
        return dead("process_not_found");
    }
    // Another host: only the heartbeat's progress tells.
    const double interval = json_number(hb, "interval_s").value_or(10.0);
    const double stale_after = std::max(3.0 * interval, 30.0);
    const double persist_after = stale_after + static_cast<double>(kStalePersistAfter.count());
    std::optional<double> unchanged_for;
    if (tracker != nullptr) {
        if (const auto d = tracker->observe(run_dir, json_int(hb, "seq").value_or(0),
                                            std::chrono::steady_clock::now())) {
            unchanged_for = std::chrono::duration<double>(*d).count();
        }
    }
    bool stale = false;
    bool persist = false;
    if (unchanged_for) {
        stale = *unchanged_for > stale_after;
        persist = *unchanged_for > persist_after;
    } else if (const auto ts = json_number(hb, "ts")) {
        stale = now - *ts > stale_after + kFirstObservationSlack;
        persist = now - *ts > persist_after + kFirstObservationSlack;
    }
    if (stale) {
        return {RunLiveness::kStale, "heartbeat_lost", persist};
    }
    return {RunLiveness::kAlive, {}, false};
}

LivenessVerdict judge_without_heartbeat(const fs::path& run_dir, const json::object& meta,
                                        const LocalHost& local) {
    const auto host = json_string(meta, "hostname");
    const std::string dir = run_dir.string();
    const bool remote_cache =
        std::any_of(kRemoteCacheMarkers.begin(), kRemoteCacheMarkers.end(),
                    [&dir](std::string_view m) { return dir.find(m) != std::string::npos; });
    if (!host || *host != local.hostname || remote_cache) {
        return {RunLiveness::kUnknown, {}, false};
    }
    // Our writer before its first heartbeat holds the lock already.
    if (probe_writer_lock(run_dir / ".writer.lock") == LockProbe::kHeld) {
        return {RunLiveness::kAlive, {}, false};
    }
    const auto pid = json_int(meta, "pid");
    if (!pid) {
        return {RunLiveness::kUnknown, {}, false};
    }
    if (*pid <= 0 || !pid_alive(static_cast<pid_t>(*pid))) {
        return dead("process_not_found");
    }
    const auto start = process_start_time(static_cast<pid_t>(*pid));
    if (!start) {
        return {RunLiveness::kAlive, {}, false};
    }
    // A resumed run's meta carries the new writer's start; a v0.6 meta only created_at.
    if (const auto recorded = json_number(meta, "process_start")) {
        if (std::fabs(*start - *recorded) >= kStartTimeTolerance) {
            return dead("process_not_found");
        }
    } else if (const auto created = json_number(meta, "created_at")) {
        if (*start > *created + kReusedPidSlack) {
            return dead("process_not_found");
        }
    }
    return {RunLiveness::kAlive, {}, false};
}

}  // namespace

LocalHost LocalHost::current() { return {local_hostname(), local_boot_id()}; }

std::optional<std::chrono::steady_clock::duration> HeartbeatTracker::observe(
    const fs::path& run_dir, std::int64_t seq, std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mu_);
    auto [it, inserted] = seen_.try_emplace(run_dir.string(), Seen{seq, now});
    if (inserted) {
        return std::nullopt;
    }
    if (it->second.seq != seq) {
        it->second = Seen{seq, now};
    }
    return now - it->second.since;
}

LivenessVerdict assess_liveness(const fs::path& run_dir, const json::object& meta,
                                const LocalHost& local, double now, HeartbeatTracker* tracker,
                                spdlog::logger* log) {
    if (const auto hb = load_json_object(run_dir / ".heartbeat.json", log)) {
        return judge_heartbeat(run_dir, *hb, local, now, tracker);
    }
    return judge_without_heartbeat(run_dir, meta, local);
}

Result<bool> mark_run_failed(const fs::path& run_dir, std::string_view exit_reason, double ended_at,
                             spdlog::logger* log) {
    bool wrote = false;
    const Status s = update_json_file(
        run_dir / "status.json",
        [&](json::object& status) {
            const auto current = json_string(status, "status");
            if (!current || *current != "running") {
                return false;
            }
            // A resuming writer takes .writer.lock before it rewrites status.json under this
            // lock: if it holds the run now, the verdict is out of date.
            if (probe_writer_lock(run_dir / ".writer.lock") == LockProbe::kHeld) {
                return false;
            }
            status["status"] = "failed";
            status["ended_at"] = ended_at;
            status["exit_reason"] = exit_reason;
            wrote = true;
            return true;
        },
        log);
    if (!s.is_ok()) {
        return s;
    }
    return wrote;
}

}  // namespace runicorn::storage
