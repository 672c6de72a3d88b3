#include "hardlink_blob_store.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <set>
#include <thread>

#include <spdlog/logger.h>

#include "blob_layout.hpp"
#include "copy_hash.hpp"
#include "dir_manifest.hpp"
#include "sha256.hpp"
#include "tolerant_json.hpp"
#include "zip_writer.hpp"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::dedup {
namespace fs = std::filesystem;

namespace {

constexpr int kPublishAttempts = 4;

/// The writers' shared lock as a lease. Thread safety: externally synchronized.
class FlockLease final : public plugin::BlobWriteLease {
public:
    explicit FlockLease(UniqueFd fd) : fd_(std::move(fd)) {}
    ~FlockLease() override = default;  // closing the descriptor releases the flock
    FlockLease(const FlockLease&) = delete;
    FlockLease& operator=(const FlockLease&) = delete;
    FlockLease(FlockLease&&) = delete;
    FlockLease& operator=(FlockLease&&) = delete;

private:
    UniqueFd fd_;
};

bool is_link_fallback(int err) {
    return err == EXDEV || err == EMLINK || err == EPERM || err == ENOTSUP || err == EOPNOTSUPP;
}

enum class Existing { kEqual, kDamaged, kVanished };

constexpr std::uint64_t kParallelCompareBytes = 16 * kChunkBytes;

// True when bytes [from, to) of the two files are equal (both exactly `to - from` long there).
Result<bool> ranges_equal(int a_fd, int b_fd, std::uint64_t from, std::uint64_t to,
                          const fs::path& blob) {
    std::vector<char> a(kChunkBytes);
    std::vector<char> b(kChunkBytes);
    for (std::uint64_t off = from; off < to;) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, to - off));
        const ssize_t ra = ::pread(a_fd, a.data(), want, static_cast<off_t>(off));
        const ssize_t rb = ::pread(b_fd, b.data(), want, static_cast<off_t>(off));
        if (ra < 0 || rb < 0) {
            return errno_status("cannot read existing blob", blob, errno);
        }
        if (ra != rb || ra == 0 ||
            std::memcmp(a.data(), b.data(), static_cast<std::size_t>(ra)) != 0) {
            return false;
        }
        off += static_cast<std::uint64_t>(ra);
    }
    return true;
}

// Compares the existing blob with the temp file (whose hash is the blob's name), byte for
// byte: equal bytes prove the existing blob hashes to its name, like re-hashing it would, at
// memcmp speed (Git's check_collision does the same). `dev`/`ino` receive the inode compared.
Result<Existing> compare_existing(const fs::path& blob, int temp_fd, std::uint64_t size, dev_t& dev,
                                  ino_t& ino) {
    const int fd = ::open(blob.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return Existing::kVanished;
        }
        if (errno == ELOOP) {
            struct stat lst {};
            if (::lstat(blob.c_str(), &lst) == 0) {
                dev = lst.st_dev;
                ino = lst.st_ino;
            }
            return Existing::kDamaged;  // a symlink under a blob name
        }
        return errno_status("cannot open existing blob", blob, errno);
    }
    UniqueFd owner(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return errno_status("cannot stat existing blob", blob, errno);
    }
    dev = st.st_dev;
    ino = st.st_ino;
    if (!S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) != size) {
        return Existing::kDamaged;
    }
    // A large blob is compared in two halves on two threads: on a dedup hit this comparison is
    // the only work left after hashing.
    if (size >= kParallelCompareBytes) {
        const std::uint64_t half = size / 2 / kChunkBytes * kChunkBytes;
        Result<bool> second = false;
        {
            std::jthread helper([&] { second = ranges_equal(fd, temp_fd, half, size, blob); });
            auto first = ranges_equal(fd, temp_fd, 0, half, blob);
            helper.join();
            RUNICORN_RETURN_IF_ERROR(first.has_value() ? Status::ok() : first.error());
            RUNICORN_RETURN_IF_ERROR(second.has_value() ? Status::ok() : second.error());
            return *first && *second ? Existing::kEqual : Existing::kDamaged;
        }
    }
    RUNICORN_ASSIGN_OR_RETURN(auto equal, ranges_equal(fd, temp_fd, 0, size, blob));
    return equal ? Existing::kEqual : Existing::kDamaged;
}

// Compares the existing blob with `bytes` (a small file read whole), as compare_existing() does.
Result<Existing> compare_existing_bytes(const fs::path& blob, std::string_view bytes) {
    const int fd = ::open(blob.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? Result<Existing>(Existing::kVanished)
                               : Result<Existing>(Existing::kDamaged);
    }
    UniqueFd owner(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<std::uint64_t>(st.st_size) != bytes.size()) {
        return Existing::kDamaged;
    }
    std::string buf(bytes.size(), '\0');
    std::size_t got = 0;
    while (got < buf.size()) {
        const ssize_t r = ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(got));
        if (r < 0) {
            return errno_status("cannot read existing blob", blob, errno);
        }
        if (r == 0) {
            return Existing::kDamaged;
        }
        got += static_cast<std::size_t>(r);
    }
    return buf == bytes ? Existing::kEqual : Existing::kDamaged;
}

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

/// Unlinks a temp file when destroyed unless disarmed. Thread safety: externally synchronized.
class TempFile {
public:
    explicit TempFile(fs::path path) : path_(std::move(path)) {}
    ~TempFile() {
        if (armed_) {
            ::unlink(path_.c_str());
        }
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    TempFile(TempFile&&) = delete;
    TempFile& operator=(TempFile&&) = delete;

    const fs::path& path() const { return path_; }
    void disarm() { armed_ = false; }

private:
    fs::path path_;
    bool armed_ = true;
};

HardlinkBlobStore::Staged::Staged() = default;
HardlinkBlobStore::Staged::~Staged() = default;
HardlinkBlobStore::Staged::Staged(Staged&&) noexcept = default;
HardlinkBlobStore::Staged& HardlinkBlobStore::Staged::operator=(Staged&&) noexcept = default;

HardlinkBlobStore::HardlinkBlobStore(fs::path root)
    : HardlinkBlobStore(std::move(root), Options{}) {}

HardlinkBlobStore::HardlinkBlobStore(fs::path root, Options options)
    : root_(std::move(root)),
      blobs_(root_ / "archive" / "blobs"),
      ops_(options.ops ? std::move(options.ops) : FileOps::posix()),
      logger_(std::move(options.logger)),
      threads_(options.threads != 0 ? options.threads
                                    : std::max(1U, std::thread::hardware_concurrency())) {}

void HardlinkBlobStore::warn(const std::string& message) const {
    if (logger_) {
        logger_->warn(message);
    }
}

void HardlinkBlobStore::parallel_for(std::size_t n,
                                     const std::function<void(std::size_t)>& fn) const {
    const auto workers = static_cast<std::size_t>(std::min<std::size_t>(threads_, n));
    if (workers <= 1) {
        for (std::size_t i = 0; i < n; ++i) {
            fn(i);
        }
        return;
    }
    std::atomic<std::size_t> next{0};
    const auto work = [&] {
        for (std::size_t i = next++; i < n; i = next++) {
            fn(i);
        }
    };
    std::vector<std::jthread> pool;
    pool.reserve(workers - 1);
    for (std::size_t t = 1; t < workers; ++t) {
        pool.emplace_back(work);
    }
    work();
}

Result<fs::path> HardlinkBlobStore::blob_path(std::string_view sha256) const {
    return dedup::blob_path(root_, sha256);
}

Result<bool> HardlinkBlobStore::contains(std::string_view sha256) const {
    RUNICORN_ASSIGN_OR_RETURN(auto p, dedup::blob_path(root_, sha256));
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<plugin::BlobStats> HardlinkBlobStore::stats() const { return blob_stats(root_); }

Result<UniqueFd> HardlinkBlobStore::lock(LockMode mode, bool wait) const {
    const auto archive = root_ / "archive";
    std::error_code ec;
    fs::create_directories(archive, ec);
    if (ec) {
        return Status::unavailable("cannot create '" + archive.string() + "': " + ec.message());
    }
    const auto path = archive / ".gc.lock";
    auto fd = open_fd(path, O_RDWR | O_CREAT, 0666);
    if (!fd) {
        return Status::unavailable(fd.error().message());
    }
    const int op = (mode == LockMode::kShared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB);
    int rc = 0;
    do {
        rc = ::flock(fd->get(), op);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        if (errno == EWOULDBLOCK) {
            return Status::unavailable("'" + path.string() + "' is locked by another process");
        }
        return Status::unavailable("cannot lock '" + path.string() + "': " + errno_text(errno));
    }
    return std::move(*fd);
}

Result<std::shared_ptr<plugin::BlobWriteLease>> HardlinkBlobStore::begin_write() {
    RUNICORN_ASSIGN_OR_RETURN(auto fd, lock(LockMode::kShared, true));
    return std::shared_ptr<plugin::BlobWriteLease>(std::make_shared<FlockLease>(std::move(fd)));
}

Status HardlinkBlobStore::quarantine(const fs::path& path, std::string_view name) const {
    const auto dir = root_ / "archive" / "quarantine";
    RUNICORN_RETURN_IF_ERROR(ensure_dir(dir));
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    const auto target = dir / (std::string(name) + "." + std::to_string(ns) + "-" + random_hex(8));
    if (::rename(path.c_str(), target.c_str()) != 0) {
        return errno_status("cannot move to quarantine", path, errno);
    }
    warn("moved damaged '" + path.string() + "' to '" + target.string() + "'");
    return fsync_dir(path.parent_path());
}

Result<plugin::BlobPutResult> HardlinkBlobStore::put_file(const fs::path& src,
                                                          const plugin::BlobPutOptions& options) {
    RUNICORN_ASSIGN_OR_RETURN(auto lease, lock(LockMode::kShared, true));
    return put_file_locked(src, options);
}

Result<plugin::BlobPutResult> HardlinkBlobStore::put_file_locked(
    const fs::path& src, const plugin::BlobPutOptions& options) {
    RUNICORN_ASSIGN_OR_RETURN(auto staged, stage(src, options));
    if (staged.done) {
        return *staged.done;
    }
    auto r = publish(staged, Durability::kFsyncTemp);
    if (!r) {
        return r.error().with_context("storing '" + src.string() + "'");
    }
    return **r;
}

Result<UniqueFd> HardlinkBlobStore::create_temp(const fs::path& path) {
    auto fd = open_fd(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (!fd && fd.error().code() == StatusCode::kNotFound) {
        // First write into this store: create archive/ and archive/blobs/ (C6) and retry. The
        // common case pays no mkdir.
        RUNICORN_RETURN_IF_ERROR(ensure_dir(root_ / "archive"));
        RUNICORN_RETURN_IF_ERROR(ensure_dir(blobs_));
        fd = open_fd(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    }
    return fd;
}

Result<HardlinkBlobStore::Staged> HardlinkBlobStore::stage(const fs::path& src,
                                                           const plugin::BlobPutOptions& options) {
    RUNICORN_ASSIGN_OR_RETURN(auto in, open_fd(src, O_RDONLY));
    struct stat st {};
    if (::fstat(in.get(), &st) != 0) {
        return errno_status("cannot stat", src, errno);
    }
    if (!S_ISREG(st.st_mode)) {
        return Status::invalid_argument("cannot store '" + src.string() + "': not a regular file");
    }
    Staged staged;
    if (is_sha256_hex(options.known_sha256)) {
        // Fast path (FORMAT.md §7.7 step 2): the caller hashed the source and the blob exists
        // with its size; refreshing the mtime keeps GC's grace period covering the reuse.
        const auto blob = *dedup::blob_path(root_, options.known_sha256);
        struct stat bst {};
        if (::lstat(blob.c_str(), &bst) == 0 && S_ISREG(bst.st_mode) && bst.st_size == st.st_size) {
            ops_->touch(blob);
            staged.done = plugin::BlobPutResult{options.known_sha256,
                                                static_cast<std::uint64_t>(st.st_size), true};
            return staged;
        }
    }
    const auto context = "storing '" + src.string() + "'";
    if (static_cast<std::uint64_t>(st.st_size) <= kChunkBytes) {
        // Small file: read it whole into memory and hash that. A dedup hit is then settled by
        // comparing the existing blob with the buffer, without creating a temp file (the
        // dominant cost of a small put); a new blob's temp file gets exactly these bytes.
        thread_local std::vector<char> buf(kChunkBytes + 1);
        std::size_t got = 0;
        for (;;) {
            auto n = read_some(in.get(), buf.data() + got, buf.size() - got, src);
            if (!n) {
                return n.error();
            }
            if (*n == 0 || got + *n == buf.size()) {
                got += *n;
                break;
            }
            got += *n;
        }
        if (got <= kChunkBytes) {
            const std::string_view bytes(buf.data(), got);
            staged.sha = sha256_hex(bytes);
            staged.size = got;
            const auto final_path = *dedup::blob_path(root_, staged.sha);
            RUNICORN_ASSIGN_OR_RETURN(auto existing, compare_existing_bytes(final_path, bytes));
            if (existing == Existing::kEqual) {
                ops_->touch(final_path);
                staged.done = plugin::BlobPutResult{staged.sha, staged.size, true};
                return staged;
            }
            staged.temp = std::make_unique<TempFile>(blobs_ / (".tmp-" + random_hex(16)));
            auto out = create_temp(staged.temp->path());
            if (!out) {
                staged.temp->disarm();
                return out.error().with_context(context);
            }
            if (auto w = write_all(out->get(), bytes.data(), bytes.size(), staged.temp->path());
                !w.is_ok()) {
                return w.with_context(context);
            }
            if (::fchmod(out->get(), 0444) != 0) {
                return errno_status("cannot chmod", staged.temp->path(), errno)
                    .with_context(context);
            }
            return staged;
        }
        // It grew past the buffer while being read: start over on the streaming path.
        if (::lseek(in.get(), 0, SEEK_SET) != 0) {
            return errno_status("cannot seek", src, errno);
        }
    }
    // The temp file sits in archive/blobs/ itself: its shard is known only once the bytes are
    // hashed, and link() needs only the same filesystem, not the same directory. The leading dot
    // keeps every reader (and v0.6's shard scan) from taking it for a blob.
    staged.temp = std::make_unique<TempFile>(blobs_ / (".tmp-" + random_hex(16)));
    auto out = create_temp(staged.temp->path());
    if (!out) {
        staged.temp->disarm();
        return out.error().with_context(context);
    }
    ::posix_fadvise(in.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    if (options.reflink && ops_->reflink(out->get(), in.get()) == 0) {
        // The reflinked temp is a snapshot: hashing it names the blob by its own bytes even if
        // the source changes meanwhile.
        auto h = sha256_fd(out->get(), staged.temp->path(), &staged.size);
        if (!h) {
            return h.error().with_context(context);
        }
        staged.sha = std::move(*h);
    } else {
        auto h = copy_and_hash(in.get(), src, out->get(), staged.temp->path(),
                               static_cast<std::uint64_t>(st.st_size), staged.size);
        if (!h) {
            return h.error().with_context(context);
        }
        staged.sha = std::move(*h);
    }
    if (::fchmod(out->get(), 0444) != 0) {
        return errno_status("cannot chmod", staged.temp->path(), errno).with_context(context);
    }
    return staged;
}

Result<std::optional<plugin::BlobPutResult>> HardlinkBlobStore::publish(Staged& staged,
                                                                        Durability durability) {
    const auto& temp = staged.temp->path();
    const auto final_path = *dedup::blob_path(root_, staged.sha);
    const auto shard = final_path.parent_path();
    const plugin::BlobPutResult fresh{staged.sha, staged.size, false};
    bool synced = false;
    const auto published = [&]() -> Result<std::optional<plugin::BlobPutResult>> {
        if (durability == Durability::kFsyncTemp) {
            RUNICORN_RETURN_IF_ERROR(fsync_dir(shard));
        } else {
            staged.dir_to_sync = shard;  // the batch fsyncs each shard once
        }
        return std::optional<plugin::BlobPutResult>(fresh);
    };
    for (int attempt = 0; attempt < kPublishAttempts; ++attempt) {
        struct stat st {};
        if (::lstat(final_path.c_str(), &st) == 0) {
            // Step 5: the name exists. Keep it if its bytes are ours, else move it aside.
            RUNICORN_ASSIGN_OR_RETURN(auto temp_fd, open_fd(temp, O_RDONLY));
            dev_t dev = 0;
            ino_t ino = 0;
            RUNICORN_ASSIGN_OR_RETURN(
                auto state, compare_existing(final_path, temp_fd.get(), staged.size, dev, ino));
            if (state == Existing::kEqual) {
                ops_->touch(final_path);  // step 6, best effort
                return std::optional<plugin::BlobPutResult>(
                    plugin::BlobPutResult{staged.sha, staged.size, true});
            }
            if (state == Existing::kDamaged) {
                // Move it only if the name still holds the inode we compared: another writer may
                // have replaced it with a good blob in between.
                struct stat now {};
                if (::lstat(final_path.c_str(), &now) == 0 && now.st_dev == dev &&
                    now.st_ino == ino) {
                    auto q = quarantine(final_path, staged.sha);
                    if (!q.is_ok() && q.code() != StatusCode::kNotFound) {
                        return q;
                    }
                }
            }
            continue;
        }
        if (!synced) {
            if (durability == Durability::kDeferUnsynced) {
                return std::optional<plugin::BlobPutResult>();
            }
            RUNICORN_ASSIGN_OR_RETURN(auto temp_fd, open_fd(temp, O_RDONLY));
            if (::fsync(temp_fd.get()) != 0) {
                return errno_status("cannot fsync", temp, errno);
            }
            synced = true;
        }
        // A new shard (C6): a batch fsyncs archive/blobs/ once at its end instead.
        const bool sync_new_dirs = durability == Durability::kFsyncTemp;
        int rc = ops_->link(temp, final_path);
        if (rc == ENOENT) {
            RUNICORN_RETURN_IF_ERROR(ensure_dir(shard, sync_new_dirs));
            rc = ops_->link(temp, final_path);
        }
        if (rc == 0) {
            return published();
        }
        if (rc == EEXIST) {
            continue;
        }
        if (rc != EPERM && rc != ENOTSUP && rc != EOPNOTSUPP) {
            return errno_status("cannot link blob", final_path, rc);
        }
        // No hard links on this filesystem: rename without replacing, else plain rename.
        rc = ops_->rename_noreplace(temp, final_path);
        if (rc == ENOENT) {
            RUNICORN_RETURN_IF_ERROR(ensure_dir(shard, sync_new_dirs));
            rc = ops_->rename_noreplace(temp, final_path);
        }
        if (rc == EINVAL || rc == ENOSYS) {
            if (::lstat(final_path.c_str(), &st) == 0) {
                continue;
            }
            rc = ops_->rename(temp, final_path);
        }
        if (rc == 0) {
            staged.temp->disarm();
            return published();
        }
        if (rc != EEXIST) {
            return errno_status("cannot publish blob", final_path, rc);
        }
    }
    return Status::aborted("blob " + staged.sha + " kept changing while it was published");
}

Result<plugin::BlobPutResult> HardlinkBlobStore::put_bytes(std::span<const std::byte> bytes) {
    RUNICORN_ASSIGN_OR_RETURN(auto lease, lock(LockMode::kShared, true));
    const std::string context = "storing " + std::to_string(bytes.size()) + " bytes";
    Staged staged;
    staged.temp = std::make_unique<TempFile>(blobs_ / (".tmp-" + random_hex(16)));
    auto out = create_temp(staged.temp->path());
    if (!out) {
        staged.temp->disarm();
        return out.error().with_context(context);
    }
    RUNICORN_RETURN_IF_ERROR(
        write_all(out->get(), bytes.data(), bytes.size(), staged.temp->path()));
    if (::fchmod(out->get(), 0444) != 0) {
        return errno_status("cannot chmod", staged.temp->path(), errno);
    }
    staged.sha =
        sha256_hex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    staged.size = bytes.size();
    RUNICORN_ASSIGN_OR_RETURN(auto r, publish(staged, Durability::kFsyncTemp));
    return *r;
}

std::vector<Result<plugin::BlobPutResult>> HardlinkBlobStore::put_batch(
    std::span<const fs::path> srcs, bool stop_on_error) {
    const auto n = srcs.size();
    std::vector<std::optional<Result<plugin::BlobPutResult>>> results(n);
    std::vector<Staged> staged(n);
    std::atomic<bool> failed{false};
    const auto fatal = [&](const Status& s) {
        return stop_on_error ||
               (s.code() != StatusCode::kNotFound && s.code() != StatusCode::kPermissionDenied &&
                s.code() != StatusCode::kInvalidArgument);
    };
    // 1. Copy and hash every file into a temp file (in parallel); resolve the ones whose blob
    //    already exists (dedup hits need no durability).
    parallel_for(n, [&](std::size_t i) {
        if (failed.load(std::memory_order_relaxed)) {
            return;
        }
        auto s = stage(srcs[i], {});
        if (!s) {
            failed = failed || fatal(s.error());
            results[i] = s.error();
            return;
        }
        staged[i] = std::move(*s);
        if (staged[i].done) {
            results[i] = *staged[i].done;
            return;
        }
        auto r = publish(staged[i], Durability::kDeferUnsynced);
        if (!r) {
            failed = true;
            results[i] = r.error().with_context("storing '" + srcs[i].string() + "'");
        } else if (*r) {
            results[i] = **r;
        }
    });
    // 2. Publish the rest (in parallel, so the fsyncs of the temp files overlap and the
    //    filesystem can group their journal commits), then fsync each shard directory once.
    //    (One syncfs() for the whole batch would be cheaper on a quiet machine, but it also waits
    //    for every other process's dirty data on that filesystem.)
    const Durability durability = Durability::kFsyncTempDeferDir;
    parallel_for(n, [&](std::size_t i) {
        if (results[i] || !staged[i].temp || failed.load(std::memory_order_relaxed)) {
            return;
        }
        auto r = publish(staged[i], durability);
        if (!r) {
            failed = true;
            results[i] = r.error().with_context("storing '" + srcs[i].string() + "'");
        } else {
            results[i] = **r;
        }
    });
    // 3. Make the new names durable: each shard directory once, and archive/blobs/ itself
    //    (shards created on the way).
    std::set<fs::path> dirs;
    for (const auto& st : staged) {
        if (!st.dir_to_sync.empty()) {
            dirs.insert(st.dir_to_sync);
        }
    }
    if (!dirs.empty()) {
        dirs.insert(blobs_);
    }
    const std::vector<fs::path> dir_list(dirs.begin(), dirs.end());
    std::vector<Status> dir_status(dir_list.size());
    parallel_for(dir_list.size(), [&](std::size_t i) { dir_status[i] = fsync_dir(dir_list[i]); });
    for (const auto& st : dir_status) {
        if (!st.is_ok()) {
            return {Result<plugin::BlobPutResult>(st)};
        }
    }
    std::vector<Result<plugin::BlobPutResult>> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (results[i]) {
            out.push_back(std::move(*results[i]));
        } else {
            out.emplace_back(Status::aborted("storing '" + srcs[i].string() +
                                             "': not stored after an earlier failure"));
        }
    }
    return out;
}

Result<std::vector<plugin::BlobPutResult>> HardlinkBlobStore::put_many(
    std::span<const fs::path> srcs) {
    RUNICORN_ASSIGN_OR_RETURN(auto lease, lock(LockMode::kShared, true));
    auto results = put_batch(srcs, true);
    if (results.size() != srcs.size()) {
        return results.front().error();
    }
    // Report the first real failure, not the files skipped because of it.
    for (auto& r : results) {
        if (!r && r.error().code() != StatusCode::kAborted) {
            return r.error();
        }
    }
    std::vector<plugin::BlobPutResult> out;
    out.reserve(srcs.size());
    for (auto& r : results) {
        if (!r) {
            return r.error();
        }
        out.push_back(std::move(*r));
    }
    return out;
}

Result<plugin::MaterializeMethod> HardlinkBlobStore::materialize(
    std::string_view sha256, const fs::path& dest, const plugin::MaterializeOptions& options) {
    RUNICORN_ASSIGN_OR_RETURN(auto blob, dedup::blob_path(root_, sha256));
    struct stat st {};
    if (::lstat(blob.c_str(), &st) != 0) {
        return Status::not_found("blob " + std::string(sha256) + " does not exist");
    }
    if (!S_ISREG(st.st_mode)) {
        return Status::data_loss("blob " + std::string(sha256) + " is not a regular file");
    }
    std::error_code ec;
    fs::create_directories(dest.parent_path(), ec);
    if (ec) {
        return Status::internal("cannot create '" + dest.parent_path().string() +
                                "': " + ec.message());
    }
    if (!options.overwrite && ::lstat(dest.c_str(), &st) == 0) {
        return Status::already_exists("'" + dest.string() + "' already exists");
    }
    if (options.link) {
        const auto target =
            options.overwrite ? dest.parent_path() /
                                    ("." + dest.filename().string() + "." + random_hex(12) + ".tmp")
                              : dest;
        const int rc = ops_->link(blob, target);
        if (rc == 0) {
            if (options.overwrite) {
                const int mv = ops_->rename(target, dest);
                if (mv != 0) {
                    ::unlink(target.c_str());
                    return errno_status("cannot replace", dest, mv);
                }
            }
            return plugin::MaterializeMethod::kHardLink;
        }
        if (rc == EEXIST && !options.overwrite) {
            return Status::already_exists("'" + dest.string() + "' already exists");
        }
        if (!is_link_fallback(rc)) {
            return errno_status("cannot link blob " + std::string(sha256) + " to", dest, rc);
        }
        warn("hard link of blob " + std::string(sha256) + " to '" + dest.string() + "' failed (" +
             errno_text(rc) + "); copying instead");
    }
    return copy_blob(blob, sha256, dest, options);
}

Result<plugin::MaterializeMethod> HardlinkBlobStore::copy_blob(
    const fs::path& blob, std::string_view sha, const fs::path& dest,
    const plugin::MaterializeOptions& options) {
    RUNICORN_ASSIGN_OR_RETURN(auto in, open_fd(blob, O_RDONLY | O_NOFOLLOW));
    const unsigned mode = options.link ? 0444 : (options.executable ? 0777 : 0666);
    TempFile temp(dest.parent_path() /
                  ("." + dest.filename().string() + "." + random_hex(12) + ".tmp"));
    auto out = open_fd(temp.path(), O_WRONLY | O_CREAT | O_EXCL, mode);
    if (!out) {
        temp.disarm();
        return out.error();
    }
    auto method = plugin::MaterializeMethod::kReflink;
    if (ops_->reflink(out->get(), in.get()) != 0) {
        method = plugin::MaterializeMethod::kCopy;
        ::posix_fadvise(in.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
        RUNICORN_ASSIGN_OR_RETURN(auto hash, Sha256::create());
        std::vector<char> buf(kChunkBytes);
        for (;;) {
            RUNICORN_ASSIGN_OR_RETURN(auto n, read_some(in.get(), buf.data(), buf.size(), blob));
            if (n == 0) {
                break;
            }
            hash.update(buf.data(), n);
            RUNICORN_RETURN_IF_ERROR(write_all(out->get(), buf.data(), n, temp.path()));
        }
        // A copy is hashed on the way, so a damaged blob is never handed out as valid.
        const auto got = hash.hex_digest();
        if (got != sha) {
            return Status::data_loss("blob " + std::string(sha) +
                                     " is corrupt: its bytes hash to " + got);
        }
    }
    if (options.link && ::fchmod(out->get(), 0444) != 0) {
        return errno_status("cannot chmod", temp.path(), errno);
    }
    out->reset();
    int rc = options.overwrite ? ops_->rename(temp.path(), dest)
                               : ops_->rename_noreplace(temp.path(), dest);
    if (rc == EINVAL || rc == ENOSYS) {
        struct stat st {};
        rc = ::lstat(dest.c_str(), &st) == 0 ? EEXIST : ops_->rename(temp.path(), dest);
    }
    if (rc == EEXIST) {
        return Status::already_exists("'" + dest.string() + "' already exists");
    }
    if (rc != 0) {
        return errno_status("cannot create", dest, rc);
    }
    temp.disarm();
    return method;
}

Result<plugin::ManifestBuild> HardlinkBlobStore::store_directory(const fs::path& dir) {
    RUNICORN_ASSIGN_OR_RETURN(auto walk, walk_directory(dir));
    RUNICORN_ASSIGN_OR_RETURN(auto lease, lock(LockMode::kShared, true));
    std::vector<fs::path> paths;
    paths.reserve(walk.files.size());
    for (const auto& f : walk.files) {
        paths.push_back(f.path);
    }
    auto results = put_batch(paths, false);
    if (results.size() != paths.size()) {
        return results.front().error().with_context("storing directory '" + dir.string() + "'");
    }
    plugin::ManifestBuild build;
    build.warnings = std::move(walk.warnings);
    for (std::size_t i = 0; i < results.size(); ++i) {
        auto& r = results[i];
        if (!r) {
            const auto code = r.error().code();
            // A file that vanished or cannot be read is skipped with a warning (FORMAT.md §5.2);
            // anything else (a full disk, a broken store) fails the whole directory.
            if (code != StatusCode::kNotFound && code != StatusCode::kPermissionDenied &&
                code != StatusCode::kInvalidArgument) {
                return r.error().with_context("storing directory '" + dir.string() + "'");
            }
            build.warnings.push_back("skipped unreadable file '" + walk.files[i].path.string() +
                                     "': " + r.error().message());
            continue;
        }
        if (r->deduplicated) {
            build.bytes_deduplicated += r->size_bytes;
        }
        build.manifest.files.push_back(
            {walk.files[i].rel, r->sha256, r->size_bytes, walk.files[i].executable});
    }
    for (const auto& w : build.warnings) {
        warn(w);
    }
    build.manifest.created_at = unix_now();
    std::error_code ec;
    build.manifest.source_path = fs::absolute(dir, ec).lexically_normal().string();
    finalize_manifest(build.manifest);
    return build;
}

Result<fs::path> HardlinkBlobStore::write_manifest(std::string_view category,
                                                   const plugin::DirManifest& manifest) {
    if (!is_plain_name(category) || category.starts_with('.')) {
        return Status::invalid_argument("'" + std::string(category) +
                                        "' is not a manifest category");
    }
    for (const auto& f : manifest.files) {
        RUNICORN_RETURN_IF_ERROR(validate_rel_path(f.rel));
        if (!is_sha256_hex(f.sha256)) {
            return Status::invalid_argument("manifest entry '" + f.rel + "' has no 64-hex sha256");
        }
    }
    const auto fp = manifest_fingerprint(manifest.files);
    if (fp != manifest.fingerprint) {
        return Status::invalid_argument("manifest fingerprint " + manifest.fingerprint +
                                        " does not match its files (" + fp + ")");
    }
    const auto cat_dir = root_ / "archive" / "manifests" / std::string(category);
    const auto dir = cat_dir / fp.substr(0, 2);
    const auto path = dir / (fp + ".json");
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        return path;  // written once, never changed
    }
    for (const auto& d : {root_ / "archive", root_ / "archive" / "manifests", cat_dir, dir}) {
        RUNICORN_RETURN_IF_ERROR(ensure_dir(d));
    }
    plugin::DirManifest m = manifest;
    std::sort(m.files.begin(), m.files.end(),
              [](const auto& a, const auto& b) { return a.rel < b.rel; });
    m.file_count = m.files.size();
    m.total_size_bytes = 0;
    for (const auto& f : m.files) {
        m.total_size_bytes += f.size_bytes;
    }
    const auto text = manifest_to_json(m);
    TempFile temp(dir / ("." + fp + ".json." + random_hex(12) + ".tmp"));
    auto fd = open_fd(temp.path(), O_WRONLY | O_CREAT | O_EXCL, 0444);
    if (!fd) {
        temp.disarm();
        return fd.error();
    }
    RUNICORN_RETURN_IF_ERROR(write_all(fd->get(), text.data(), text.size(), temp.path()));
    if (::fsync(fd->get()) != 0) {
        return errno_status("cannot fsync", temp.path(), errno);
    }
    fd->reset();
    int rc = ops_->rename_noreplace(temp.path(), path);
    if (rc == EINVAL || rc == ENOSYS) {
        rc = ::lstat(path.c_str(), &st) == 0 ? EEXIST : ops_->rename(temp.path(), path);
    }
    if (rc == EEXIST) {
        return path;  // another writer published the same manifest first
    }
    if (rc != 0) {
        return errno_status("cannot publish manifest", path, rc);
    }
    temp.disarm();
    RUNICORN_RETURN_IF_ERROR(fsync_dir(dir));
    return path;
}

Result<plugin::DirManifest> HardlinkBlobStore::read_manifest(const fs::path& path) const {
    RUNICORN_ASSIGN_OR_RETURN(auto v, read_json_file(path));
    auto m = manifest_from_json(v);
    if (!m) {
        return m.error().with_context("reading '" + path.string() + "'");
    }
    return m;
}

Status HardlinkBlobStore::restore_manifest(const plugin::DirManifest& manifest,
                                           const fs::path& dest,
                                           const plugin::MaterializeOptions& options) {
    for (const auto& f : manifest.files) {
        RUNICORN_RETURN_IF_ERROR(validate_rel_path(f.rel));
    }
    std::error_code ec;
    fs::create_directories(dest, ec);
    if (ec) {
        return Status::internal("cannot create '" + dest.string() + "': " + ec.message());
    }
    for (const auto& f : manifest.files) {
        auto file_options = options;
        file_options.executable = options.executable || f.executable;
        auto r = materialize(f.sha256, dest / f.rel, file_options);
        if (!r) {
            return r.error().with_context("restoring '" + f.rel + "'");
        }
    }
    return Status::ok();
}

Status HardlinkBlobStore::export_manifest_zip(const plugin::DirManifest& manifest,
                                              const fs::path& zip_path,
                                              const plugin::ZipOptions& options) {
    for (const auto& f : manifest.files) {
        RUNICORN_RETURN_IF_ERROR(validate_rel_path(f.rel));
    }
    RUNICORN_ASSIGN_OR_RETURN(auto zip, ZipWriter::create(zip_path));
    for (const auto& f : manifest.files) {
        RUNICORN_ASSIGN_OR_RETURN(auto blob, dedup::blob_path(root_, f.sha256));
        auto fd = open_fd(blob, O_RDONLY | O_NOFOLLOW);
        if (!fd) {
            return fd.error().with_context("exporting '" + f.rel + "'");
        }
        auto s = zip.add(f.rel, fd->get(), f.executable ? 0755 : 0644, options.deflate, f.sha256);
        if (!s.is_ok()) {
            return s.with_context("exporting '" + f.rel + "'");
        }
    }
    return zip.finish();
}

}  // namespace runicorn::dedup
