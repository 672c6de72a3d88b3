#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <spdlog/logger.h>

#include <runicorn/result.hpp>

namespace runicorn::http_plugin::live {

/// Change notifications for the files directly inside watched directories (Linux inotify), for
/// the live streams: one inotify descriptor and one thread for the whole server, one watch per
/// directory however many subscribers it has.
///
/// Thread safety: safe for concurrent use. Callbacks run on the hub's thread, one at a time,
/// and must return quickly (post work elsewhere) and never call watch()/unwatch().
class FileWatchHub {
public:
    /// `name` is the changed file's name inside the directory; "" when the kernel's queue
    /// overflowed or the directory itself changed (check everything).
    using Callback = std::function<void(std::string_view name)>;

    /// Creates the inotify descriptor and starts the thread. UNAVAILABLE when inotify cannot be
    /// set up (e.g. the per-user instance limit).
    static Result<std::shared_ptr<FileWatchHub>> start(std::shared_ptr<spdlog::logger> log);

    /// Calls stop().
    ~FileWatchHub();
    FileWatchHub(const FileWatchHub&) = delete;
    FileWatchHub& operator=(const FileWatchHub&) = delete;
    FileWatchHub(FileWatchHub&&) = delete;
    FileWatchHub& operator=(FileWatchHub&&) = delete;

    /// Calls `callback` whenever a file inside `dir` is created, written, closed after writing,
    /// renamed in or out, or deleted. Returns a token for unwatch(). NOT_FOUND / UNAVAILABLE when
    /// the directory cannot be watched; FAILED_PRECONDITION after stop().
    Result<std::uint64_t> watch(const std::filesystem::path& dir, Callback callback);

    /// Ends a subscription. Once it returns, its callback is not running and never runs again.
    void unwatch(std::uint64_t token) noexcept;

    /// Ends the thread and drops every callback. Idempotent.
    void stop() noexcept;

    /// Use start().
    FileWatchHub(int inotify_fd, int wake_fd, std::shared_ptr<spdlog::logger> log);

private:
    void run() noexcept;
    void dispatch(int wd, std::string_view name);

    struct Dir {
        int wd = -1;
        std::string path;
        std::map<std::uint64_t, Callback> callbacks;
    };

    const int inotify_fd_;
    const int wake_fd_;
    const std::shared_ptr<spdlog::logger> log_;
    std::thread thread_;

    // Held while callbacks run, so that unwatch() can promise its callback is done.
    std::mutex mu_;
    bool stopped_ = false;
    std::unordered_map<std::string, Dir> dirs_;       // by path
    std::unordered_map<int, std::string> wd_to_dir_;  // inotify watch -> path
    std::unordered_map<std::uint64_t, std::string> token_dir_;
    std::uint64_t next_token_ = 1;
};

}  // namespace runicorn::http_plugin::live
