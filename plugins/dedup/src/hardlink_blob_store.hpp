#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <runicorn/plugin/blob_store.hpp>
#include <runicorn/result.hpp>

#include "file_ops.hpp"

namespace spdlog {
class logger;
}

namespace runicorn::dedup {

class TempFile;

/// The blob store over <root>/archive (FORMAT.md §5 and §7.7): blobs published by link() from a
/// hashed temp file, materialised by hard link with reflink/copy fallbacks, directory manifests,
/// verify and mark-and-sweep GC coordinated through archive/.gc.lock.
/// Thread safety: safe for concurrent use (and across processes through the lock file and
/// link()'s atomicity).
class HardlinkBlobStore final : public plugin::BlobStore {
public:
    struct Options {
        /// The system calls used to publish and materialise; a test wraps them to inject faults.
        /// Null means the real ones.
        std::shared_ptr<FileOps> ops;
        /// Where warnings go (fallbacks, skipped files); null means nowhere.
        std::shared_ptr<spdlog::logger> logger;
        /// Worker threads of put_many() and verify(); 0 means one per core.
        unsigned threads = 0;
    };

    /// A store rooted at `root` (the storage root; archive/ is created on the first write).
    explicit HardlinkBlobStore(std::filesystem::path root);
    HardlinkBlobStore(std::filesystem::path root, Options options);

    Result<std::filesystem::path> blob_path(std::string_view sha256) const override;
    Result<bool> contains(std::string_view sha256) const override;
    Result<plugin::BlobStats> stats() const override;

    Result<std::shared_ptr<plugin::BlobWriteLease>> begin_write() override;
    Result<plugin::BlobPutResult> put_file(const std::filesystem::path& src,
                                           const plugin::BlobPutOptions& options) override;
    Result<plugin::BlobPutResult> put_bytes(std::span<const std::byte> bytes) override;
    Result<std::vector<plugin::BlobPutResult>> put_many(
        std::span<const std::filesystem::path> srcs) override;
    Result<plugin::MaterializeMethod> materialize(
        std::string_view sha256, const std::filesystem::path& dest,
        const plugin::MaterializeOptions& options) override;

    Result<plugin::ManifestBuild> store_directory(const std::filesystem::path& dir) override;
    Result<std::filesystem::path> write_manifest(std::string_view category,
                                                 const plugin::DirManifest& manifest) override;
    Result<plugin::DirManifest> read_manifest(const std::filesystem::path& path) const override;
    Status restore_manifest(const plugin::DirManifest& manifest, const std::filesystem::path& dest,
                            const plugin::MaterializeOptions& options) override;
    Status export_manifest_zip(const plugin::DirManifest& manifest,
                               const std::filesystem::path& zip_path,
                               const plugin::ZipOptions& options) override;

    Result<plugin::BlobUsage> usage() const override;
    Result<plugin::VerifyReport> verify(const plugin::VerifyOptions& options) override;
    Result<plugin::GcReport> gc(const plugin::GcOptions& options) override;

    const std::filesystem::path& root() const { return root_; }

private:
    enum class LockMode { kShared, kExclusive };

    /// Opens archive/.gc.lock (creating archive/) and flocks it; the fd owns the lock.
    Result<UniqueFd> lock(LockMode mode, bool wait) const;
    /// A source copied into a hashed temp file, not yet published (or already resolved).
    struct Staged {
        Staged();
        ~Staged();
        Staged(Staged&&) noexcept;
        Staged& operator=(Staged&&) noexcept;
        Staged(const Staged&) = delete;
        Staged& operator=(const Staged&) = delete;

        /// Set when nothing is left to do (the fast path).
        std::optional<plugin::BlobPutResult> done;
        /// The temp file (unlinked when this object dies unless it was renamed into place).
        std::unique_ptr<TempFile> temp;
        std::string sha;
        std::uint64_t size = 0;
        /// The shard directory a deferred publish left for the batch to fsync.
        std::filesystem::path dir_to_sync;
    };
    /// How publish() makes the blob durable before its name appears.
    enum class Durability {
        kFsyncTemp,          ///< fsync the temp file, link, fsync the shard directory
        kFsyncTempDeferDir,  ///< fsync the temp file, link; the batch fsyncs dir_to_sync later
        kDeferUnsynced,      ///< resolve an existing blob only; nullopt instead of linking
    };

    /// put_file() without the lock.
    Result<plugin::BlobPutResult> put_file_locked(const std::filesystem::path& src,
                                                  const plugin::BlobPutOptions& options);
    /// Opens a new temp file (creating archive/blobs/ on first use).
    Result<UniqueFd> create_temp(const std::filesystem::path& path);
    /// FORMAT.md §7.7 steps 1-3 without the fsync: the fast path, or a 0444 temp file holding
    /// the hashed copy.
    Result<Staged> stage(const std::filesystem::path& src, const plugin::BlobPutOptions& options);
    /// Steps 3-6: publishes the staged temp file under its hash (nullopt only for
    /// kDeferUnsynced when the name is free).
    Result<std::optional<plugin::BlobPutResult>> publish(Staged& staged, Durability durability);
    /// Stores every path (in parallel; each shard directory fsynced once); one result per path.
    /// `stop_on_error`: any failure stops the rest (put_many); otherwise missing, unreadable and
    /// non-regular files do not (store_directory). A single-element result that is an error and
    /// shorter than `srcs` means a shard directory could not be synced.
    std::vector<Result<plugin::BlobPutResult>> put_batch(
        std::span<const std::filesystem::path> srcs, bool stop_on_error);
    /// Copies (or reflinks) the blob into a temp file beside `dest` and renames it there.
    Result<plugin::MaterializeMethod> copy_blob(const std::filesystem::path& blob,
                                                std::string_view sha,
                                                const std::filesystem::path& dest,
                                                const plugin::MaterializeOptions& options);
    /// Moves `path` to archive/quarantine/ under a unique name.
    Status quarantine(const std::filesystem::path& path, std::string_view name) const;
    /// Runs fn(i) for i in [0, n) on up to threads_ threads.
    void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) const;
    void warn(const std::string& message) const;

    std::filesystem::path root_;
    std::filesystem::path blobs_;
    std::shared_ptr<FileOps> ops_;
    std::shared_ptr<spdlog::logger> logger_;
    unsigned threads_;
};

}  // namespace runicorn::dedup
