#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

namespace runicorn::dedup {

/// Owns a POSIX file descriptor and closes it when destroyed; -1 means none.
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
    /// Gives up ownership; returns the descriptor.
    int release() noexcept {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }
    /// Closes the current descriptor (errors ignored: nothing was written through a close) and
    /// takes `fd`.
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

/// The few system calls the blob store's publish and materialise steps make, behind an
/// interface so that a test can wrap the real one and make one call fail (STYLE.md rule 17,
/// LevelDB's EnvWrapper). Every method returns 0 on success or the errno value of the failure.
/// Thread safety: safe for concurrent use.
class FileOps {
public:
    virtual ~FileOps() = default;
    FileOps(const FileOps&) = delete;
    FileOps& operator=(const FileOps&) = delete;
    FileOps(FileOps&&) = delete;
    FileOps& operator=(FileOps&&) = delete;

    /// link(2).
    virtual int link(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
    /// renameat2(2) with RENAME_NOREPLACE; EINVAL or ENOSYS where the kernel or filesystem lacks
    /// it.
    virtual int rename_noreplace(const std::filesystem::path& from,
                                 const std::filesystem::path& to) = 0;
    /// rename(2).
    virtual int rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
    /// ioctl(dst_fd, FICLONE, src_fd): a reflink of the whole file.
    virtual int reflink(int dst_fd, int src_fd) = 0;
    /// utimensat(2) setting both times to now (a blob's mtime refresh on a dedup hit).
    virtual int touch(const std::filesystem::path& path) = 0;

    /// The real calls.
    static std::shared_ptr<FileOps> posix();

protected:
    FileOps() = default;
};

/// Forwards every call to another FileOps; a test derives from it and overrides one method.
/// Thread safety: safe for concurrent use when the target is.
class FileOpsWrapper : public FileOps {
public:
    explicit FileOpsWrapper(std::shared_ptr<FileOps> target) : target_(std::move(target)) {}

    int link(const std::filesystem::path& from, const std::filesystem::path& to) override {
        return target_->link(from, to);
    }
    int rename_noreplace(const std::filesystem::path& from,
                         const std::filesystem::path& to) override {
        return target_->rename_noreplace(from, to);
    }
    int rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
        return target_->rename(from, to);
    }
    int reflink(int dst_fd, int src_fd) override { return target_->reflink(dst_fd, src_fd); }
    int touch(const std::filesystem::path& path) override { return target_->touch(path); }

private:
    std::shared_ptr<FileOps> target_;
};

/// "<what> '<path>': <reason>" as a Status whose code follows `err` (ENOENT: NOT_FOUND,
/// EACCES/EPERM/EROFS: PERMISSION_DENIED, ENOSPC/EDQUOT: RESOURCE_EXHAUSTED, else INTERNAL).
Status errno_status(std::string_view what, const std::filesystem::path& path, int err);

/// The text of an errno value (thread-safe, unlike strerror()).
std::string errno_text(int err);

/// open(2) with O_CLOEXEC added; a failure names `path`.
Result<UniqueFd> open_fd(const std::filesystem::path& path, int flags, unsigned mode = 0);

/// Writes all `n` bytes (retrying short writes and EINTR).
Status write_all(int fd, const void* data, std::size_t n, const std::filesystem::path& path);

/// Reads up to `n` bytes (retrying EINTR); 0 at end of file.
Result<std::size_t> read_some(int fd, void* data, std::size_t n, const std::filesystem::path& path);

/// Opens the directory and fsyncs it (makes a link, rename or unlink in it durable).
Status fsync_dir(const std::filesystem::path& dir);

/// Creates `dir` (one level) if missing and, when `sync_parent`, fsyncs its parent when it was
/// created (C6; a batch that syncs the whole filesystem afterwards passes false).
Status ensure_dir(const std::filesystem::path& dir, bool sync_parent = true);

/// `n` random lower-case hex digits (for temp-file names).
std::string random_hex(std::size_t n);

}  // namespace runicorn::dedup
