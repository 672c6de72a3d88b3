#pragma once

#include <filesystem>
#include <string_view>

#include <runicorn/status.hpp>

#include <sys/types.h>

namespace runicorn::kernel {

/// Writes `content` to `path` atomically (FORMAT.md C1): a temp file in the same directory, fsync,
/// rename over `path`, fsync of the directory. On failure `path` is unchanged and no temp file is
/// left behind. The file gets `mode` (before the umask is applied by open(2)).
Status write_file_atomic(const std::filesystem::path& path, std::string_view content,
                         mode_t mode = 0644);

/// An exclusive flock(2) on a lock file, created if needed with mode 0600; released when destroyed.
/// Thread safety: externally synchronized.
class FileLock {
public:
    /// Blocks until the lock is held. Check status() before relying on it.
    explicit FileLock(const std::filesystem::path& path);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    FileLock(FileLock&&) = delete;
    FileLock& operator=(FileLock&&) = delete;

    const Status& status() const { return status_; }

private:
    int fd_ = -1;
    Status status_;
};

/// "Permission denied" etc. for errno `err`, thread-safe (strerror_r).
std::string errno_message(int err);

}  // namespace runicorn::kernel
