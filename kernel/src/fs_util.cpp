#include "fs_util.hpp"

#include <cerrno>
#include <cstring>
#include <random>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace runicorn::kernel {

std::string errno_message(int err) {
    char buf[256] = {};
    // GNU strerror_r returns the message pointer (which may or may not be buf).
    const char* msg = ::strerror_r(err, buf, sizeof(buf));
    return msg != nullptr ? std::string(msg) : std::string("errno ") + std::to_string(err);
}

namespace {

Status io_error(std::string_view what, const std::filesystem::path& path, int err) {
    std::string msg = std::string(what) + " '" + path.string() + "': " + errno_message(err);
    if (err == EACCES || err == EPERM || err == EROFS) {
        return Status::permission_denied(std::move(msg));
    }
    if (err == ENOSPC || err == EDQUOT) {
        return Status::resource_exhausted(std::move(msg));
    }
    if (err == ENOENT) {
        return Status::not_found(std::move(msg));
    }
    return Status::internal(std::move(msg));
}

Status write_all(int fd, std::string_view content, const std::filesystem::path& path) {
    while (!content.empty()) {
        const ssize_t n = ::write(fd, content.data(), content.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io_error("cannot write", path, errno);
        }
        content.remove_prefix(static_cast<std::size_t>(n));
    }
    return Status::ok();
}

}  // namespace

Status write_file_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode) {
    const auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    std::random_device rd;
    const auto tmp = dir / ("." + path.filename().string() + ".tmp-" + std::to_string(rd()));
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        return io_error("cannot create", tmp, errno);
    }
    Status s = write_all(fd, content, tmp);
    if (s.is_ok() && ::fsync(fd) != 0) {
        s = io_error("cannot fsync", tmp, errno);
    }
    if (::close(fd) != 0 && s.is_ok()) {
        s = io_error("cannot close", tmp, errno);
    }
    if (s.is_ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
        s = io_error("cannot rename onto", path, errno);
    }
    if (!s.is_ok()) {
        ::unlink(tmp.c_str());
        return s;
    }
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);  // best effort: the rename is already visible
        ::close(dfd);
    }
    return Status::ok();
}

FileLock::FileLock(const std::filesystem::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
        status_ = io_error("cannot open lock file", path, errno);
        return;
    }
    while (::flock(fd_, LOCK_EX) != 0) {
        if (errno != EINTR) {
            status_ = io_error("cannot lock", path, errno);
            ::close(fd_);
            fd_ = -1;
            return;
        }
    }
}

FileLock::~FileLock() {
    if (fd_ >= 0) {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
}

}  // namespace runicorn::kernel
