#include "file_ops.hpp"

#include <atomic>
#include <cerrno>
#include <random>
#include <system_error>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::dedup {
namespace fs = std::filesystem;

void UniqueFd::reset(int fd) noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    fd_ = fd;
}

namespace {

/// The real system calls. Thread safety: safe for concurrent use (stateless).
class PosixFileOps final : public FileOps {
public:
    int link(const fs::path& from, const fs::path& to) override {
        return ::link(from.c_str(), to.c_str()) == 0 ? 0 : errno;
    }
    int rename_noreplace(const fs::path& from, const fs::path& to) override {
        return ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0
                   ? 0
                   : errno;
    }
    int rename(const fs::path& from, const fs::path& to) override {
        return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
    }
    int reflink(int dst_fd, int src_fd) override {
        return ::ioctl(dst_fd, FICLONE, src_fd) == 0 ? 0 : errno;
    }
    int touch(const fs::path& path) override {
        return ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0) == 0 ? 0 : errno;
    }
};

}  // namespace

std::shared_ptr<FileOps> FileOps::posix() {
    static const std::shared_ptr<FileOps> ops = std::make_shared<PosixFileOps>();
    return ops;
}

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

Status errno_status(std::string_view what, const fs::path& path, int err) {
    std::string msg(what);
    msg.append(" '").append(path.string()).append("': ").append(errno_text(err));
    switch (err) {
        case ENOENT:
            return Status::not_found(std::move(msg));
        case EACCES:
        case EPERM:
        case EROFS:
            return Status::permission_denied(std::move(msg));
        case ENOSPC:
        case EDQUOT:
            return Status::resource_exhausted(std::move(msg));
        default:
            return Status::internal(std::move(msg));
    }
}

Result<UniqueFd> open_fd(const fs::path& path, int flags, unsigned mode) {
    int fd = -1;
    do {
        fd = ::open(path.c_str(), flags | O_CLOEXEC, static_cast<mode_t>(mode));
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        return errno_status("cannot open", path, errno);
    }
    return UniqueFd(fd);
}

Status write_all(int fd, const void* data, std::size_t n, const fs::path& path) {
    const auto* p = static_cast<const char*>(data);
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno_status("cannot write", path, errno);
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return Status::ok();
}

Result<std::size_t> read_some(int fd, void* data, std::size_t n, const fs::path& path) {
    for (;;) {
        const ssize_t r = ::read(fd, data, n);
        if (r >= 0) {
            return static_cast<std::size_t>(r);
        }
        if (errno != EINTR) {
            return errno_status("cannot read", path, errno);
        }
    }
}

Status fsync_dir(const fs::path& dir) {
    RUNICORN_ASSIGN_OR_RETURN(auto fd, open_fd(dir, O_RDONLY | O_DIRECTORY));
    if (::fsync(fd.get()) != 0 && errno != EINVAL) {
        return errno_status("cannot fsync directory", dir, errno);
    }
    return Status::ok();
}

Status ensure_dir(const fs::path& dir, bool sync_parent) {
    if (::mkdir(dir.c_str(), 0777) == 0) {
        return sync_parent ? fsync_dir(dir.parent_path()) : Status::ok();
    }
    if (errno == EEXIST) {
        struct stat st {};
        if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            return Status::ok();
        }
        return Status::failed_precondition("'" + dir.string() + "' exists and is not a directory");
    }
    return errno_status("cannot create directory", dir, errno);
}

std::string random_hex(std::size_t n) {
    // Straight from the kernel each time: a generator state kept in memory would be shared by
    // every child a process forks, and their temp names would collide.
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(n, '0');
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (i % 16 == 0) {
            if (::getrandom(&bits, sizeof(bits), 0) != static_cast<ssize_t>(sizeof(bits))) {
                static std::atomic<std::uint64_t> counter{0};
                bits = std::random_device{}() ^ (static_cast<std::uint64_t>(::getpid()) << 32) ^
                       counter.fetch_add(0x9E3779B97F4A7C15ULL);
            }
        }
        out[i] = kHex[bits & 0xF];
        bits >>= 4;
    }
    return out;
}

}  // namespace runicorn::dedup
