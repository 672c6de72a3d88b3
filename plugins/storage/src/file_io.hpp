#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <spdlog/logger.h>

#include <runicorn/result.hpp>

namespace runicorn::storage {

/// How long a waiter for a `<file>.lock` gives up after (FORMAT.md §4.11).
inline constexpr std::chrono::milliseconds kLockTimeout{10'000};

/// Maps an errno value of operation `op` on `path` to a Status with the message
/// "<op> '<path>': <errno text>": RESOURCE_EXHAUSTED for ENOSPC/EDQUOT, PERMISSION_DENIED for
/// EACCES/EPERM/EROFS, NOT_FOUND for ENOENT/ENOTDIR, UNAVAILABLE for everything else (EIO,
/// ESTALE…).
Status io_error(int err, std::string_view op, const std::filesystem::path& path);

/// Owns a file descriptor and closes it when destroyed. Move-only.
/// Thread safety: externally synchronized.
class UniqueFd {
public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset(other.release());
        }
        return *this;
    }

    int get() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }
    /// Gives up ownership; returns the descriptor (or -1).
    int release() noexcept {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }
    /// Closes the owned descriptor (errors ignored: callers that care call close() first).
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

/// An exclusive advisory lock on a lock file, compatible with Python's `filelock` on POSIX:
/// flock(LOCK_EX) on `<file>.lock` (FORMAT.md §4.11). The lock file is created when missing and
/// never deleted. The lock is tied to this object's open file description, so it excludes other
/// processes and other FileLock objects of the same process alike; it is released when the
/// object is destroyed or release() is called. Move-only.
/// Thread safety: externally synchronized.
class FileLock {
public:
    FileLock() noexcept = default;

    /// Waits up to `timeout` for the lock (polling with a short back-off). UNAVAILABLE
    /// "timed out after <t> waiting for the lock '<path>'" when another holder keeps it; the
    /// io_error() of opening or locking otherwise.
    static Result<FileLock> acquire(const std::filesystem::path& lock_path,
                                    std::chrono::milliseconds timeout = kLockTimeout);

    bool held() const noexcept { return fd_.valid(); }
    /// Unlocks and closes the lock file; no-op when not held.
    void release() noexcept { fd_.reset(); }

private:
    explicit FileLock(UniqueFd fd) noexcept : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

/// Returns `<file>.lock` (the lock that guards `file`).
std::filesystem::path lock_path_for(const std::filesystem::path& file);

/// Writes all of `data` to `fd`, completing short writes. Returns 0 or the errno of the failure;
/// `*written` (optional) receives the bytes that did reach the file.
int write_fully(int fd, std::string_view data, std::size_t* written = nullptr) noexcept;

/// fsync of a directory, so a rename or a new entry in it is durable (FORMAT.md C1, C6).
/// DATA_LOSS "syncing directory '<dir>': <errno text>" on failure.
Status fsync_directory(const std::filesystem::path& dir);

/// Identifies one version of a file for change detection: the fstat() of the descriptor the
/// content was read through. Two reads with equal stamps saw the same file (barring an in-place
/// rewrite of the same size within one timestamp tick).
struct FileStamp {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::uint64_t inode = 0;

    bool operator==(const FileStamp&) const = default;
};

/// Reads a whole file. NOT_FOUND when missing; the io_error() of reading otherwise. When `stamp`
/// is not null it receives the file's stamp (set only on success).
Result<std::string> read_file(const std::filesystem::path& path, FileStamp* stamp = nullptr);

/// read_file() of `name` relative to the directory descriptor `dir_fd` (AT_FDCWD: the working
/// directory); `path` names the file in error messages. One path component instead of a whole
/// path makes many reads in one folder cheaper.
Result<std::string> read_file_at(int dir_fd, const std::filesystem::path& name,
                                 const std::filesystem::path& path, FileStamp* stamp = nullptr);

/// The stamp of `path` by stat(); nullopt when it does not exist or cannot be stat'ed.
std::optional<FileStamp> stamp_of(const std::filesystem::path& path);

/// Replaces `target` atomically (FORMAT.md C1): writes `.<name>.<random>.tmp` in the same
/// directory, fsyncs it, renames it over `target` and fsyncs the directory. With
/// `durable == false` both fsyncs are skipped (the heartbeat). On failure `target` keeps its
/// previous content (or stays absent) and the temp file is removed. Errors as io_error();
/// DATA_LOSS for a failed fsync.
Status write_file_atomic(const std::filesystem::path& target, std::string_view content,
                         bool durable = true);

/// write_file_atomic() of to_pretty_json(value).
Status write_json_file(const std::filesystem::path& target, const boost::json::value& value,
                       bool durable = true);

/// The outcome of reading a JSON object file: an I/O error, or the object, or why there is none.
struct JsonObjectRead {
    std::optional<boost::json::object> object;
    /// Set when the file exists but holds no usable object: "the file is empty",
    /// "not valid JSON: line L, column C: <reason>" or "the JSON value is not an object".
    std::string problem;
    bool exists = false;  ///< False when the file is missing (object and problem then empty).
    FileStamp stamp;      ///< Valid when `exists`.
};

/// Reads a JSON object file without judging it: NOT_FOUND never comes back (a missing file gives
/// `exists == false`); other read errors as read_file().
Result<JsonObjectRead> read_json_object(const std::filesystem::path& path);

/// read_json_object() of `name` relative to `dir_fd` (see read_file_at()).
Result<JsonObjectRead> read_json_object_at(int dir_fd, const std::filesystem::path& name,
                                           const std::filesystem::path& path);

/// Reads a JSON object file the way readers must (FORMAT.md G6): nullopt when the file is
/// missing (silently), or empty, unreadable, not JSON, or not an object (each with one warning on
/// `log`, which may be null, naming the file). The file is never modified. When `stamp` is not
/// null it receives the stamp of the file read, or nullopt when there was none to read.
std::optional<boost::json::object> load_json_object(const std::filesystem::path& path,
                                                    spdlog::logger* log,
                                                    std::optional<FileStamp>* stamp = nullptr);

/// load_json_object() of `name` relative to `dir_fd` (see read_file_at()).
std::optional<boost::json::object> load_json_object_at(int dir_fd,
                                                       const std::filesystem::path& name,
                                                       const std::filesystem::path& path,
                                                       spdlog::logger* log,
                                                       std::optional<FileStamp>* stamp = nullptr);

/// A locked, atomic read-modify-write of a JSON object file (FORMAT.md C1, G4): holds
/// `<file>.lock` (10 s timeout → UNAVAILABLE), reads the current object (missing: empty;
/// empty or damaged: empty, with a warning on `log`), calls `mutate`, and when it returns true
/// replaces the file with write_json_file(). Keys `mutate` leaves alone keep their values and
/// order. Errors as write_file_atomic(); a read error other than "missing" aborts without writing.
Status update_json_file(const std::filesystem::path& file,
                        const std::function<bool(boost::json::object&)>& mutate,
                        spdlog::logger* log, bool durable = true);

/// An append-only file (`events.jsonl`, `logs.txt`) written by the rules of FORMAT.md C2 and C4.
/// The file is created by the first append. Each append takes `<file>.lock`, so any number of
/// processes (and forked children sharing this object) may append to one file without
/// interleaving.
///
/// Thread safety: externally synchronized.
class AppendFile {
public:
    explicit AppendFile(std::filesystem::path path);
    ~AppendFile() = default;
    AppendFile(const AppendFile&) = delete;
    AppendFile& operator=(const AppendFile&) = delete;
    AppendFile(AppendFile&&) noexcept = default;
    AppendFile& operator=(AppendFile&&) noexcept = default;

    const std::filesystem::path& path() const noexcept { return path_; }

    /// Opens the file when it exists and ends a torn last line (C4): if the file is non-empty and
    /// its last byte is not `\n`, one `\n` is appended; nothing is ever truncated. OK when the file
    /// does not exist (it is then created by the first append).
    Status open_existing();

    /// Appends `batch` (whole `\n`-terminated records) with one write() under the lock, completing
    /// a short write with further write() calls. On failure the file is truncated back to its size
    /// before the call and the io_error() returned ("appending to '<path>': …"). INVALID_ARGUMENT
    /// when `batch` does not end with `\n`. An empty batch does nothing.
    Status append(std::string_view batch);

    /// fdatasync when data was appended since the last sync. DATA_LOSS (RESOURCE_EXHAUSTED for
    /// ENOSPC/EDQUOT) "syncing '<path>': …" on failure; the data then stays marked unsynced.
    Status sync();

    bool has_unsynced_data() const noexcept { return unsynced_; }

    /// Closes the descriptor (no sync).
    void close() noexcept { fd_.reset(); }

private:
    /// Opens (creating when `create`) and repairs the tail; the caller holds the lock.
    Status open_locked(bool create);

    std::filesystem::path path_;
    std::filesystem::path lock_path_;
    UniqueFd fd_;
    bool unsynced_ = false;
};

}  // namespace runicorn::storage
