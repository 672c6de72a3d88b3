#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include <runicorn/result.hpp>

#include "file_io.hpp"

namespace runicorn::storage {

/// What a FolderWatcher reports, from its own thread. The callbacks must not throw.
struct FolderWatcherCallbacks {
    /// Absolute directories in which a catalog file (meta.json, status.json, summary.json,
    /// assets.json, .deleted, events.jsonl, .heartbeat.json) changed, or that appeared or
    /// disappeared (FolderRunStore's refresh_dirs() takes exactly these).
    std::function<void(const std::vector<std::filesystem::path>&)> changed;
    /// Anything may have changed: at start, after an inotify queue overflow, and every
    /// scan_interval (FolderRunStore's refresh()).
    std::function<void()> rescan;
};

struct FolderWatcherOptions {
    /// Events are collected this long after the first one before `changed` is called.
    std::chrono::milliseconds coalesce{100};
    std::chrono::milliseconds scan_interval{60'000};
};

/// Keeps an eye on a storage root with inotify (FORMAT.md §7.4 "Writers"): the root, `runs/` and
/// every directory below it down to the run folders (not inside them), and the legacy project
/// trees; `archive/`, `index/`, `webui/` and hidden or symlinked directories are not watched. New
/// directories get watches as they appear. When the kernel's watch limit
/// (fs.inotify.max_user_watches) is reached, the rest is covered by the periodic rescan only (one
/// warning). A queue overflow (IN_Q_OVERFLOW) triggers a rescan.
///
/// Thread safety: safe for concurrent use (stop() may be called from any thread; the watch table
/// belongs to the watcher's thread).
class FolderWatcher {
public:
    /// Starts the thread, which sets up the watches, calls `rescan` once (so nothing that
    /// happened before the watches existed is missed), then reports changes until stop().
    /// UNAVAILABLE when inotify or the wake-up eventfd cannot be created.
    static Result<std::unique_ptr<FolderWatcher>> start(std::filesystem::path root,
                                                        FolderWatcherOptions options,
                                                        FolderWatcherCallbacks callbacks,
                                                        std::shared_ptr<spdlog::logger> log);
    ~FolderWatcher();
    FolderWatcher(const FolderWatcher&) = delete;
    FolderWatcher& operator=(const FolderWatcher&) = delete;
    FolderWatcher(FolderWatcher&&) = delete;
    FolderWatcher& operator=(FolderWatcher&&) = delete;

    /// Wakes the thread and joins it; a callback in progress finishes first. Idempotent.
    void stop() noexcept;

    /// The number of directories watched now (for tests and diagnostics).
    std::size_t watch_count() const noexcept { return watch_count_.load(); }
    /// How many times `rescan` / `changed` were called so far.
    std::size_t rescans() const noexcept { return rescans_.load(); }

private:
    FolderWatcher(std::filesystem::path root, FolderWatcherOptions options,
                  FolderWatcherCallbacks callbacks, std::shared_ptr<spdlog::logger> log,
                  UniqueFd inotify, UniqueFd wake);

    void run() noexcept;
    void loop();
    /// Watches `dir` and the directories below it (not inside run folders).
    void add_tree(const std::filesystem::path& dir, int depth);
    void forget_under(const std::filesystem::path& dir);
    /// Reads every queued event; returns false after an overflow.
    bool drain(std::set<std::filesystem::path>& pending);
    void do_rescan();

    std::filesystem::path root_;
    FolderWatcherOptions options_;
    FolderWatcherCallbacks callbacks_;
    std::shared_ptr<spdlog::logger> log_;
    UniqueFd inotify_;
    UniqueFd wake_;
    std::map<int, std::filesystem::path> watches_;  // wd -> directory; the thread's own
    bool limit_warned_ = false;                     // the thread's own
    std::atomic<std::size_t> watch_count_{0};
    std::atomic<std::size_t> rescans_{0};
    std::atomic<bool> stopped_{false};
    std::thread thread_;
};

}  // namespace runicorn::storage
