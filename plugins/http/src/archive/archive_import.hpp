#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <runicorn/result.hpp>

namespace runicorn::http_plugin::archive {

/// Limits of an archive import (API.md §1.3; all configurable). Over any of them the import
/// fails with RESOURCE_EXHAUSTED (413) and nothing is applied.
struct ImportLimits {
    std::uint64_t max_upload_bytes = std::uint64_t{10} << 30;  ///< compressed archive size
    std::uint64_t max_total_bytes = std::uint64_t{50} << 30;   ///< sum of uncompressed entries
    std::uint64_t max_entries = 200'000;                       ///< entries of any kind
    std::uint64_t max_ratio = 1000;  ///< uncompressed : compressed bytes of one entry
    /// Entries smaller than this are not held to max_ratio (tiny files compress oddly, and the
    /// compressed side is only measured to the decoder's buffer granularity).
    std::uint64_t ratio_floor_bytes = std::uint64_t{1} << 20;
};

/// What an import needs.
struct ImportOptions {
    std::filesystem::path root;  ///< The storage root (must exist).
    /// The work directory index/staging/imports/<uuid>/ holding the upload; the importer
    /// extracts into <staging>/tree/ and never removes the directory itself (see StagingDir).
    std::filesystem::path staging;
    std::filesystem::path upload;  ///< The archive file, normally <staging>/upload.
    /// The client's file name: ".zip" is read as zip, ".tar.gz"/".tgz" as gzip-compressed tar,
    /// anything else tries zip, then tar.gz.
    std::string filename;
    ImportLimits limits;
    /// True when a run with this id already exists anywhere in the store (the catalog's view);
    /// may be empty, then only the target folder is checked.
    std::function<bool(std::string_view run_id)> run_exists;
};

struct ImportSkip {
    std::string entry;
    std::string reason;
};

struct ImportConflict {
    std::string run_id;
    std::optional<std::string> path;
    std::string reason = "exists";
};

/// The outcome of a successful import (API.md §2.6).
struct ImportReport {
    std::uint64_t imported_files = 0;
    std::vector<std::filesystem::path> new_run_dirs;  ///< absolute
    std::vector<std::string> new_run_ids;             ///< sorted
    std::vector<ImportSkip> skipped;
    std::vector<ImportConflict> conflicts;
    std::uint64_t blobs_added = 0;
    std::vector<std::string> warnings;
};

/// The message of the INVALID_ARGUMENT an unreadable archive gives (API.md §2.6).
inline constexpr std::string_view kCorruptArchive = "Unsupported or corrupted archive";

/// Imports an archive into the store by the guards of API.md §4.10: entry names checked and
/// normalised, links and special entries skipped, limits enforced while extracting into the
/// staging tree with O_NOFOLLOW writes; the layout detected (our export, the v0.6 path-export
/// zip, any root-relative tree); blobs verified (hash = name) and stored by the protocol of
/// FORMAT.md §7.7 (shared archive/.gc.lock held, temp file, 0444, fsync, link, never replacing),
/// manifests and artifact files validated; then applied: run folders renamed into place and
/// never overwritten (reported in `conflicts`), artifact versions with a known digest skipped and
/// others added under new version numbers. On failure, what was applied is moved back (blobs
/// stay: unreferenced, GC removes them) and the store is as it was.
///
/// Errors: INVALID_ARGUMENT kCorruptArchive for an unreadable archive; INVALID_ARGUMENT naming
/// the object for a malformed manifest or artifact file; DATA_LOSS for a blob whose content does
/// not match its name; RESOURCE_EXHAUSTED for a limit. Thread safety: safe to call concurrently
/// with distinct staging directories.
Result<ImportReport> import_archive(const ImportOptions& options);

/// A fresh work directory <root>/index/staging/imports/<random 32 hex>/ that is removed with
/// everything in it when the object goes away. Thread safety: externally synchronized.
class StagingDir {
public:
    static Result<StagingDir> create(const std::filesystem::path& root);
    ~StagingDir();
    StagingDir(StagingDir&& other) noexcept;
    StagingDir& operator=(StagingDir&&) = delete;
    StagingDir(const StagingDir&) = delete;
    StagingDir& operator=(const StagingDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    explicit StagingDir(std::filesystem::path path) : path_(std::move(path)) {}
    std::filesystem::path path_;
};

/// Writes `bytes` to the new file `path` (O_CREAT | O_EXCL | O_NOFOLLOW, fsync'd).
Status write_new_file(const std::filesystem::path& path, std::string_view bytes);

}  // namespace runicorn::http_plugin::archive
