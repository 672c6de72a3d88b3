#pragma once

#include <filesystem>
#include <string>

#include <boost/json/value.hpp>

#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

#include "file_ops.hpp"

namespace runicorn::dedup {

/// JSON text as FORMAT.md G2 asks: 2-space indentation, non-ASCII characters unescaped, doubles
/// in their shortest round-trip form (an integral one keeps ".0"), non-finite doubles as the
/// bare tokens NaN / Infinity / -Infinity (G3), and a final newline.
std::string pretty_json(const boost::json::value& v);

/// Replaces `path` with `text` by FORMAT.md C1: a temp file `.<name>.<random>.tmp` in the same
/// directory, written, fsynced, renamed over the target, then the directory fsynced. The
/// directory must exist. On failure the target is unchanged and the temp file removed.
Status write_file_atomic(const std::filesystem::path& path, const std::string& text);

/// An exclusive flock(2) on a lock file, created if missing (its directory must exist); released
/// when the object dies. Thread safety: externally synchronized. flock locks belong to the open
/// file description, so two FileLocks in one process exclude each other as two processes do.
class FileLock {
public:
    /// Blocks until the lock is held. Errors name the file.
    static Result<FileLock> acquire(const std::filesystem::path& path);

    FileLock(FileLock&&) noexcept = default;
    FileLock& operator=(FileLock&&) noexcept = default;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    ~FileLock() = default;

private:
    explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace runicorn::dedup
