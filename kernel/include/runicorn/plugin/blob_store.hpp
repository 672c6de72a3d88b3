#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <runicorn/export.hpp>
#include <runicorn/result.hpp>

namespace runicorn::plugin {

/// Totals over archive/blobs (hard-linked inodes counted once).
struct BlobStats {
    std::uint64_t blob_count = 0;
    std::uint64_t bytes_stored = 0;
    // Appended after the first version of this struct:
    /// Space that hard-linked materialisations save: the sum over blob inodes of
    /// (st_nlink - 1) x size, i.e. every extra name of a blob's inode (an artifact download, a
    /// zip-mode code_snapshot.zip) counted at the size it would have cost as a copy.
    std::uint64_t bytes_saved_by_links = 0;
    /// Dot-named temp files found in archive/blobs/ and its shards (in-progress or crashed puts).
    std::uint64_t temp_files = 0;
};

/// Options of BlobStore::put_file().
struct BlobPutOptions {
    /// The SHA-256 the caller already computed for the source (64 lower-case hex), or empty. When
    /// set and a blob of that name exists with the source's size, nothing is read or copied (the
    /// fast path of FORMAT.md §7.7 step 2); otherwise it is ignored and the bytes are hashed.
    std::string known_sha256;
    /// Fill the temp file by reflink (FICLONE) where the filesystem can, then hash the temp file.
    bool reflink = true;
};

/// What one put stored.
struct BlobPutResult {
    /// The blob's name: the SHA-256 of the bytes that landed in the store.
    std::string sha256;
    std::uint64_t size_bytes = 0;
    /// True when an identical blob already existed (a dedup hit: no new bytes on disk).
    bool deduplicated = false;
};

/// How a blob reached its destination.
enum class MaterializeMethod : std::uint8_t { kHardLink = 0, kReflink = 1, kCopy = 2 };

/// "hardlink", "reflink" or "copy".
constexpr std::string_view materialize_method_name(MaterializeMethod m) noexcept {
    switch (m) {
        case MaterializeMethod::kHardLink:
            return "hardlink";
        case MaterializeMethod::kReflink:
            return "reflink";
        case MaterializeMethod::kCopy:
            return "copy";
    }
    return "unknown";
}

/// Options of BlobStore::materialize().
struct MaterializeOptions {
    /// True: a hard link to the blob's read-only 0444 inode (falling back to a 0444 reflink or
    /// copy). False: an independent writable file (reflink, else copy) with the umask's mode.
    bool link = true;
    /// Replace an existing destination file (atomically, by rename). False: ALREADY_EXISTS.
    bool overwrite = false;
    /// Give a writable copy the execute bits (a manifest entry with "executable": true).
    bool executable = false;
};

/// One file of a directory manifest (FORMAT.md §5.2).
struct ManifestFile {
    /// Path relative to the source directory, '/'-separated, no leading "./".
    std::string rel;
    std::string sha256;
    std::uint64_t size_bytes = 0;
    bool executable = false;
};

/// A directory manifest (FORMAT.md §5.2): `files` sorted by the UTF-8 bytes of `rel`.
struct DirManifest {
    double created_at = 0;
    /// The absolute source directory; empty when unknown (written as null, e.g. artifacts).
    std::string source_path;
    std::string fingerprint;
    std::uint64_t total_size_bytes = 0;
    std::uint64_t file_count = 0;
    std::vector<ManifestFile> files;
};

/// What BlobStore::store_directory() produced.
struct ManifestBuild {
    DirManifest manifest;
    /// One line per skipped entry (special file, unreadable file, symlink loop), naming it.
    std::vector<std::string> warnings;
    /// Bytes of files that were dedup hits (already in the store).
    std::uint64_t bytes_deduplicated = 0;
};

/// Options of BlobStore::export_manifest_zip().
struct ZipOptions {
    /// Compress entries with deflate (zlib); false stores them.
    bool deflate = true;
};

/// Space accounting over the whole store (BlobStore::usage()).
struct BlobUsage {
    BlobStats blobs;
    /// References found (FORMAT.md §7.7 R1-R3: each sha256 asset entry of a run's assets.json,
    /// each file entry of a manifest that a run names, each file entry of an artifact version's
    /// manifest) whose blob exists.
    std::uint64_t references = 0;
    /// Sum over those references of the referenced blob's size: what the store would hold if
    /// every reference had its own copy.
    std::uint64_t bytes_referenced = 0;
    /// Saved by dedup: bytes_referenced minus the sizes of the distinct referenced blobs
    /// (each inode counted once). Unreferenced blobs do not count either way.
    std::uint64_t bytes_saved_by_dedup = 0;
    // Appended after the first version of this struct:
    /// Blobs no referrer (R1-R3 nor the v0.6 index, R5) names, and their bytes: what a GC past
    /// the grace period would remove.
    std::uint64_t unreferenced_count = 0;
    std::uint64_t unreferenced_bytes = 0;
    /// Extra names of blob inodes (st_nlink - 1 summed): hard-linked downloads and snapshots.
    std::uint64_t hardlinked_copies = 0;
    /// Referenced bytes by kind of referrer (each reference counted at its blob's size): runs'
    /// assets and their manifests (R1, R2), artifact versions (R3), the v0.6 index (R5).
    std::uint64_t bytes_referenced_by_runs = 0;
    std::uint64_t bytes_referenced_by_artifacts = 0;
    std::uint64_t bytes_referenced_by_index = 0;
};

/// Options of BlobStore::verify().
struct VerifyOptions {
    /// Re-hash only this many blobs chosen at random; 0 re-hashes every blob.
    std::uint64_t sample = 0;
    /// Seed of the sample choice (0: a random seed).
    std::uint64_t seed = 0;
    /// Move corrupt blobs (and non-files under blob names) to archive/quarantine/.
    bool repair = false;
};

/// One damaged or missing object found by verify().
struct BlobProblem {
    /// "corrupt" (bytes do not hash to the name), "missing" (referenced, absent), "size_mismatch"
    /// (a referrer records another size), "not_a_file" (a symlink or directory under a blob
    /// name), "bad_reference" (a referrer names an id that is not 64 hex digits),
    /// "bad_manifest" (a referenced manifest is unreadable or malformed).
    std::string kind;
    /// The blob name, or the offending id / manifest path.
    std::string object;
    std::string detail;
    /// Who references it: "run <rel_dir>", "artifact <name>:v<N>", "index runicorn.db".
    std::vector<std::string> referrers;
    /// True when repair moved it to archive/quarantine/.
    bool quarantined = false;
};

/// The outcome of verify(): clean when `problems` is empty.
struct VerifyReport {
    std::uint64_t blobs_found = 0;
    std::uint64_t blobs_hashed = 0;
    std::uint64_t references_checked = 0;
    /// Blobs no referrer names (reported, not a problem: GC removes them).
    std::uint64_t orphans = 0;
    /// Dot-temp files in archive/blobs (reported, not a problem: GC removes old ones).
    std::vector<std::string> temp_files;
    std::vector<BlobProblem> problems;
};

/// Options of BlobStore::gc().
struct GcOptions {
    /// Report only; delete nothing.
    bool dry_run = true;
    /// Blobs and manifests younger than this (by mtime) are kept (FORMAT.md §7.7 R6, R7).
    std::chrono::seconds grace{3600};
    /// Dot-temp files older than this are removed (C8).
    std::chrono::seconds temp_age{24 * 3600};
    /// "Now" for the age checks; the epoch (the default) means the system clock.
    std::chrono::system_clock::time_point now{};
    /// Block until writers holding the shared archive/.gc.lock finish; false gives up with
    /// UNAVAILABLE while any writer holds it.
    bool wait_for_writers = false;
};

/// The outcome of gc(): what was (or, in a dry run, would be) removed.
struct GcReport {
    bool dry_run = true;
    std::uint64_t blobs_found = 0;
    /// Blobs kept because a referrer (R1-R5) names them.
    std::uint64_t blobs_referenced = 0;
    /// Unreferenced blobs kept because they are younger than the grace period (R7).
    std::uint64_t blobs_young = 0;
    /// Blob names removed (or to remove), sorted.
    std::vector<std::string> blobs_removed;
    /// Manifest files (paths relative to the root) removed (or to remove), sorted.
    std::vector<std::string> manifests_removed;
    /// Old dot-temp files (paths relative to the root) removed (or to remove).
    std::vector<std::string> temp_files_removed;
    /// Bytes freed: sizes of the inodes whose last link goes away.
    std::uint64_t bytes_freed = 0;
    /// Unexpected entries in archive/blobs (reported, never deleted), relative to the root.
    std::vector<std::string> unexpected;
};

/// Holds the writers' shared lock on archive/.gc.lock (FORMAT.md §7.7 R8): while any lease
/// lives, gc() does not mark or sweep. A writer takes one before storing the blobs of an object
/// and drops it after publishing the object that references them (assets.json, a manifest, an
/// artifact version). Release every lease before the dedup plugin is stopped.
/// Thread safety: externally synchronized.
class RUNICORN_PLUGIN_API BlobWriteLease {
public:
    virtual ~BlobWriteLease() = default;
    BlobWriteLease(const BlobWriteLease&) = delete;
    BlobWriteLease& operator=(const BlobWriteLease&) = delete;
    BlobWriteLease(BlobWriteLease&&) = delete;
    BlobWriteLease& operator=(BlobWriteLease&&) = delete;

protected:
    BlobWriteLease() = default;
};

/// The content-addressed blob store in Runicorn v0.6's layout: archive/blobs/<aa>/<sha256>.
/// Thread safety: safe for concurrent use.
class RUNICORN_PLUGIN_API BlobStore {
public:
    static constexpr std::string_view kServiceId = "runicorn.blob_store/1";

    virtual ~BlobStore() = default;
    BlobStore(const BlobStore&) = delete;
    BlobStore& operator=(const BlobStore&) = delete;
    BlobStore(BlobStore&&) = delete;
    BlobStore& operator=(BlobStore&&) = delete;

    /// Where the blob named `sha256` lives (whether or not it exists). INVALID_ARGUMENT unless
    /// `sha256` is 64 lower-case hex digits.
    virtual Result<std::filesystem::path> blob_path(std::string_view sha256) const = 0;
    /// True when the blob exists as a regular file.
    virtual Result<bool> contains(std::string_view sha256) const = 0;
    /// Counts the blobs (64-hex names in two-hex shards) and their bytes; an absent store is empty.
    virtual Result<BlobStats> stats() const = 0;

    // ---- Appended after the first version of this interface. ----

    /// Takes the writers' shared lock (see BlobWriteLease). UNAVAILABLE when archive/.gc.lock
    /// cannot be created or locked. The caller owns the lease.
    virtual Result<std::shared_ptr<BlobWriteLease>> begin_write() = 0;

    /// Stores the regular file `src` (symlinks read through) as a blob (FORMAT.md §7.7): copies
    /// it into a temp file while hashing the copied bytes, then publishes it under that hash
    /// with link() (never replacing an existing blob: on a name clash the existing blob is
    /// compared and kept if equal, quarantined if damaged). The user's file is never linked
    /// into the store. Holds the writers' lock while it runs. Returns the blob's name and size;
    /// on failure nothing exists under a blob name that was not there before. NOT_FOUND when
    /// `src` does not exist, INVALID_ARGUMENT when it is not a regular file.
    virtual Result<BlobPutResult> put_file(const std::filesystem::path& src,
                                           const BlobPutOptions& options) = 0;
    /// Stores `bytes` as a blob, as put_file() does for a file.
    virtual Result<BlobPutResult> put_bytes(std::span<const std::byte> bytes) = 0;
    /// put_file() for every path, hashed in parallel on a pool sized to the cores. Returns one
    /// result per path in the same order, or the first failure (naming its file); blobs already
    /// published by the other files stay (they are unreferenced and GC-able).
    virtual Result<std::vector<BlobPutResult>> put_many(
        std::span<const std::filesystem::path> srcs) = 0;

    /// Makes `dest` a file with the blob's bytes (FORMAT.md §7.7 "Materialising"): a hard link
    /// when options.link, falling back to a reflink or a copy on EXDEV, EMLINK, EPERM, ENOTSUP
    /// (never failing because of them); an independent writable file otherwise. A copy is
    /// hashed while copying and fails with DATA_LOSS if the blob's bytes do not match its name.
    /// Missing parent directories are created. Returns the method used. NOT_FOUND when the
    /// blob does not exist, ALREADY_EXISTS when `dest` exists and !options.overwrite.
    virtual Result<MaterializeMethod> materialize(std::string_view sha256,
                                                  const std::filesystem::path& dest,
                                                  const MaterializeOptions& options) = 0;

    /// Walks `dir` (FORMAT.md §5.2: regular files, symlinks to files read through, symlinked
    /// directories not entered, special and unreadable files skipped with a warning), stores
    /// every file (in parallel) and returns the manifest with its fingerprint. The manifest is
    /// not written; see write_manifest(). Holds the writers' lock while it runs.
    virtual Result<ManifestBuild> store_directory(const std::filesystem::path& dir) = 0;
    /// Writes `manifest` to archive/manifests/<category>/<fp[0:2]>/<fp>.json if absent (temp +
    /// rename; an existing manifest is never changed). Returns its path. INVALID_ARGUMENT when
    /// the category is not a plain name or the manifest's fingerprint does not match its files.
    virtual Result<std::filesystem::path> write_manifest(std::string_view category,
                                                         const DirManifest& manifest) = 0;
    /// Reads a manifest file (v0.6 or ours). INVALID_ARGUMENT (naming the file) when it is
    /// malformed, a file id is not 64 hex or a path is absolute or contains "..".
    virtual Result<DirManifest> read_manifest(const std::filesystem::path& path) const = 0;
    /// Materialises every file of `manifest` under `dest` (created if missing), with `options`
    /// (v0.6's restore_from_manifest uses link = false). Fails on the first file that fails.
    virtual Status restore_manifest(const DirManifest& manifest, const std::filesystem::path& dest,
                                    const MaterializeOptions& options) = 0;
    /// Writes the files of `manifest` as a zip at `zip_path` (temp + rename). Entries beyond the
    /// plain zip limits (4 GiB, 65,535 entries) fail with OUT_OF_RANGE; no ZIP64.
    virtual Status export_manifest_zip(const DirManifest& manifest,
                                       const std::filesystem::path& zip_path,
                                       const ZipOptions& options) = 0;

    /// Space used and saved, from the blobs and their referrers (see BlobUsage).
    virtual Result<BlobUsage> usage() const = 0;
    /// Checks the store (FORMAT.md §7.7 "Verify"): every referenced blob exists with its recorded
    /// size, the blobs re-hash to their names (all or a sample), manifests are well formed.
    /// Problems are reported in the result, not as an error; an error means verify could not run.
    virtual Result<VerifyReport> verify(const VerifyOptions& options) = 0;
    /// Garbage collection (FORMAT.md §7.7 "GC"): under the exclusive archive/.gc.lock, marks
    /// from R1-R7 and sweeps unreferenced blobs and manifests older than the grace period, and
    /// old temp files. Refuses to sweep (FAILED_PRECONDITION, nothing deleted) when a referrer
    /// exists but cannot be read. UNAVAILABLE when writers hold the lock and
    /// !options.wait_for_writers.
    virtual Result<GcReport> gc(const GcOptions& options) = 0;

protected:
    BlobStore() = default;
};

}  // namespace runicorn::plugin
