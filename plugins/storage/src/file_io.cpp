#include "file_io.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>
#include <thread>

#include "json_io.hpp"
#include "sys_info.hpp"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::storage {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

std::string format_duration(std::chrono::milliseconds d) {
    if (d.count() % 1000 == 0) {
        return std::to_string(d.count() / 1000) + " s";
    }
    return std::to_string(d.count()) + " ms";
}

/// An fsync failure: never "retry as if it succeeded" (C7), so it is DATA_LOSS unless the disk
/// is simply full.
Status sync_error(int err, std::string_view op, const fs::path& path) {
    if (err == ENOSPC || err == EDQUOT) {
        return io_error(err, op, path);
    }
    return Status::data_loss(std::string(op) + " '" + path.string() + "': " + errno_text(err));
}

}  // namespace

Status io_error(int err, std::string_view op, const fs::path& path) {
    std::string msg = std::string(op) + " '" + path.string() + "': " + errno_text(err);
    switch (err) {
        case ENOSPC:
        case EDQUOT:
            return Status::resource_exhausted(std::move(msg));
        case EACCES:
        case EPERM:
        case EROFS:
            return Status::permission_denied(std::move(msg));
        case ENOENT:
        case ENOTDIR:
            return Status::not_found(std::move(msg));
        default:
            return Status::unavailable(std::move(msg));
    }
}

void UniqueFd::reset(int fd) noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    fd_ = fd;
}

Result<FileLock> FileLock::acquire(const fs::path& lock_path, std::chrono::milliseconds timeout) {
    UniqueFd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd.valid()) {
        return io_error(errno, "opening the lock file", lock_path);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::milliseconds(1);
    while (true) {
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
            return FileLock(std::move(fd));
        }
        const int err = errno;
        if (err == EINTR) {
            continue;
        }
        if (err != EWOULDBLOCK) {
            return io_error(err, "locking", lock_path);
        }
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            return Status::unavailable("timed out after " + format_duration(timeout) +
                                       " waiting for the lock '" + lock_path.string() + "'");
        }
        // Polling, as Python's filelock does: flock has no timed wait.
        std::this_thread::sleep_for(
            std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

fs::path lock_path_for(const fs::path& file) {
    fs::path p = file;
    p += ".lock";
    return p;
}

int write_fully(int fd, std::string_view data, std::size_t* written) noexcept {
    std::size_t done = 0;
    int result = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            result = errno;
            break;
        }
        if (n == 0) {
            result = EIO;
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    if (written != nullptr) {
        *written = done;
    }
    return result;
}

Status fsync_directory(const fs::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) {
        return io_error(errno, "opening directory", dir);
    }
    if (::fsync(fd.get()) != 0) {
        const int err = errno;
        // Some file systems cannot sync directories at all; there is nothing to make durable.
        if (err == EINVAL || err == EROFS) {
            return Status::ok();
        }
        return Status::data_loss("syncing directory '" + dir.string() + "': " + errno_text(err));
    }
    return Status::ok();
}

namespace {

FileStamp stamp_from(const struct stat& st) {
    return FileStamp{static_cast<std::uint64_t>(st.st_size),
                     static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                         static_cast<std::int64_t>(st.st_mtim.tv_nsec),
                     static_cast<std::uint64_t>(st.st_ino)};
}

}  // namespace

std::optional<FileStamp> stamp_of(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return std::nullopt;
    }
    return stamp_from(st);
}

Result<std::string> read_file_at(int dir_fd, const fs::path& name, const fs::path& path,
                                 FileStamp* stamp) {
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return io_error(errno, "reading", path);
    }
    struct stat st {};
    std::string out;
    if (::fstat(fd.get(), &st) == 0) {
        // One read() for the size fstat() saw (+1 notices growth); no zeroed scratch buffer.
        out.resize(static_cast<std::size_t>(std::max<off_t>(st.st_size, 0)) + 1);
        if (stamp != nullptr) {
            *stamp = stamp_from(st);
        }
    } else {
        out.resize(4096);
    }
    std::size_t used = 0;
    while (true) {
        if (used == out.size()) {
            out.resize(out.size() * 2);
        }
        const ssize_t n = ::read(fd.get(), out.data() + used, out.size() - used);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io_error(errno, "reading", path);
        }
        if (n == 0) {
            break;
        }
        used += static_cast<std::size_t>(n);
    }
    out.resize(used);
    return out;
}

Result<std::string> read_file(const fs::path& path, FileStamp* stamp) {
    return read_file_at(AT_FDCWD, path, path, stamp);
}

Status write_file_atomic(const fs::path& target, std::string_view content, bool durable) {
    const fs::path dir = target.parent_path();
    const fs::path tmp = dir / ("." + target.filename().string() + "." + random_hex(8) + ".tmp");
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd.valid()) {
        return io_error(errno, "writing", target);
    }
    const auto fail = [&tmp](Status s) {
        ::unlink(tmp.c_str());
        return s;
    };
    if (const int err = write_fully(fd.get(), content); err != 0) {
        return fail(io_error(err, "writing", target));
    }
    if (durable && ::fsync(fd.get()) != 0) {
        return fail(sync_error(errno, "syncing", target));
    }
    // close() can report a deferred write error (NFS); the data is then not safe.
    if (::close(fd.release()) != 0) {
        return fail(io_error(errno, "writing", target));
    }
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
        return fail(io_error(errno, "replacing", target));
    }
    if (durable) {
        return fsync_directory(dir.empty() ? fs::path(".") : dir);
    }
    return Status::ok();
}

Status write_json_file(const fs::path& target, const json::value& value, bool durable) {
    return write_file_atomic(target, to_pretty_json(value), durable);
}

Result<JsonObjectRead> read_json_object(const fs::path& path) {
    return read_json_object_at(AT_FDCWD, path, path);
}

Result<JsonObjectRead> read_json_object_at(int dir_fd, const fs::path& name, const fs::path& path) {
    JsonObjectRead out;
    auto text = read_file_at(dir_fd, name, path, &out.stamp);
    if (!text) {
        if (text.error().code() == StatusCode::kNotFound) {
            return out;
        }
        return text.error();
    }
    out.exists = true;
    if (text->find_first_not_of(" \t\r\n") == std::string::npos) {
        out.problem = "the file is empty";
        return out;
    }
    auto value = parse_json(*text);
    if (!value) {
        out.problem = "not valid JSON: " + value.error().message();
        return out;
    }
    if (!value->is_object()) {
        out.problem = "the JSON value is not an object";
        return out;
    }
    out.object = std::move(value->get_object());
    return out;
}

std::optional<json::object> load_json_object(const fs::path& path, spdlog::logger* log,
                                             std::optional<FileStamp>* stamp) {
    return load_json_object_at(AT_FDCWD, path, path, log, stamp);
}

std::optional<json::object> load_json_object_at(int dir_fd, const fs::path& name,
                                                const fs::path& path, spdlog::logger* log,
                                                std::optional<FileStamp>* stamp) {
    if (stamp != nullptr) {
        stamp->reset();
    }
    auto read = read_json_object_at(dir_fd, name, path);
    if (!read) {
        if (log != nullptr) {
            log->warn("ignoring '{}': {}", path.string(), read.error().message());
        }
        return std::nullopt;
    }
    if (stamp != nullptr && read->exists) {
        *stamp = read->stamp;
    }
    if (!read->problem.empty() && log != nullptr) {
        log->warn("ignoring '{}': {}", path.string(), read->problem);
    }
    return std::move(read->object);
}

Status update_json_file(const fs::path& file, const std::function<bool(json::object&)>& mutate,
                        spdlog::logger* log, bool durable) {
    RUNICORN_ASSIGN_OR_RETURN(FileLock lock, FileLock::acquire(lock_path_for(file)));
    RUNICORN_ASSIGN_OR_RETURN(JsonObjectRead read, read_json_object(file));
    if (!read.problem.empty() && log != nullptr) {
        log->warn("treating '{}' as empty: {}", file.string(), read.problem);
    }
    json::object obj = read.object ? std::move(*read.object) : json::object();
    if (!mutate(obj)) {
        return Status::ok();
    }
    return write_json_file(file, obj, durable);
}

AppendFile::AppendFile(fs::path path) : path_(std::move(path)), lock_path_(lock_path_for(path_)) {}

Status AppendFile::open_locked(bool create) {
    if (fd_.valid()) {
        return Status::ok();
    }
    const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0);
    UniqueFd fd(::open(path_.c_str(), flags, 0644));
    if (!fd.valid()) {
        const int err = errno;
        if (!create && err == ENOENT) {
            return Status::ok();
        }
        return io_error(err, "opening", path_);
    }
    // C4: end a torn last record with a single newline; never truncate.
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return io_error(errno, "inspecting", path_);
    }
    if (st.st_size > 0) {
        UniqueFd reader(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
        if (!reader.valid()) {
            return io_error(errno, "reading", path_);
        }
        char last = '\n';
        if (::pread(reader.get(), &last, 1, st.st_size - 1) != 1) {
            return io_error(errno == 0 ? EIO : errno, "reading", path_);
        }
        if (last != '\n') {
            if (const int err = write_fully(fd.get(), "\n"); err != 0) {
                return io_error(err, "repairing the torn tail of", path_);
            }
            unsynced_ = true;
        }
    }
    fd_ = std::move(fd);
    return Status::ok();
}

Status AppendFile::open_existing() {
    if (fd_.valid()) {
        return Status::ok();
    }
    std::error_code ec;
    if (!fs::exists(path_, ec)) {
        return Status::ok();
    }
    RUNICORN_ASSIGN_OR_RETURN(FileLock lock, FileLock::acquire(lock_path_));
    return open_locked(false);
}

Status AppendFile::append(std::string_view batch) {
    if (batch.empty()) {
        return Status::ok();
    }
    if (batch.back() != '\n') {
        return Status::invalid_argument("appending to '" + path_.string() +
                                        "': the batch does not end with a newline");
    }
    RUNICORN_ASSIGN_OR_RETURN(FileLock lock, FileLock::acquire(lock_path_));
    RUNICORN_RETURN_IF_ERROR(open_locked(true));
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) {
        return io_error(errno, "inspecting", path_);
    }
    std::size_t written = 0;
    const int err = write_fully(fd_.get(), batch, &written);
    if (err == 0) {
        unsynced_ = true;
        return Status::ok();
    }
    // C2: never leave part of a batch behind; the caller keeps the batch and retries.
    if (written > 0 && ::ftruncate(fd_.get(), st.st_size) != 0) {
        return io_error(errno, "truncating the partial batch of", path_)
            .with_context(io_error(err, "appending to", path_).message());
    }
    return io_error(err, "appending to", path_);
}

Status AppendFile::sync() {
    if (!unsynced_ || !fd_.valid()) {
        return Status::ok();
    }
    if (::fdatasync(fd_.get()) != 0) {
        return sync_error(errno, "syncing", path_);
    }
    unsynced_ = false;
    return Status::ok();
}

}  // namespace runicorn::storage
