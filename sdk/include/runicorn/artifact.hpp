#pragma once

// Versioned artifacts of the Runicorn C++ SDK (SDK.md §2.4, FORMAT.md §7.6): named, typed file
// collections stored in the dedup plugin's blob store, logged by runs (Run::log_artifact), used
// by runs (Run::use_artifact) and resolved without a run (runicorn::artifact).
//
// Included by <runicorn/runicorn.hpp> (and including it): either header gives the whole API.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <runicorn/result.hpp>
#include <runicorn/runicorn.hpp>
#include <runicorn/status.hpp>

namespace runicorn {

namespace sdk {
struct ArtifactVersionState;
struct ArtifactAccess;
}  // namespace sdk

/// A collection of local files and directories to log as the next version of artifact `name`.
/// Nothing is read until Run::log_artifact: sources are checked for existence when added and read
/// when logged.
///
/// Thread safety: a value; distinct objects are safe for concurrent use, one object is externally
/// synchronized.
class RUNICORN_SDK_API Artifact {
public:
    /// One added source.
    struct Source {
        /// Absolute path of the local file or directory (made absolute when added).
        std::filesystem::path local;
        /// A file: its path inside the artifact. A directory: the folder its contents go under
        /// ("" = the artifact root).
        std::string name;
        bool is_dir = false;
    };

    /// The name and type are checked by check_names() and again when the artifact is logged.
    Artifact(std::string name, std::string type);
    /// An artifact whose name and type were checked: INVALID_ARGUMENT naming the rule otherwise.
    static Result<Artifact> create(std::string name, std::string type);
    /// OK when `name` matches `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$` and `type` matches
    /// `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$` (FORMAT.md §7.6); else INVALID_ARGUMENT.
    static Status check_names(std::string_view name, std::string_view type);

    /// Adds a regular file (symlinks followed) as `name_in_artifact` (empty: the file's base
    /// name). NOT_FOUND when `local` does not exist; INVALID_ARGUMENT when it is not a regular
    /// file, when the name is not a relative '/'-separated path without "." / ".." components,
    /// or when an earlier file or directory already took that artifact path.
    Status add_file(const std::filesystem::path& local, std::string_view name_in_artifact = {});
    /// Adds every file under directory `local` below `prefix` (empty: the artifact root). NOT_FOUND
    /// when `local` does not exist; INVALID_ARGUMENT when it is not a directory, for a bad prefix,
    /// or when a non-empty prefix is already taken. Two sources that put a file at one path are
    /// refused when the artifact is logged.
    Status add_dir(const std::filesystem::path& local, std::string_view prefix = {});
    void set_description(std::string description);
    /// INVALID_ARGUMENT (the metadata unchanged) unless `object` is a JSON object.
    Status set_metadata(Json object);

    const std::string& name() const noexcept { return name_; }
    const std::string& type() const noexcept { return type_; }
    const std::string& description() const noexcept { return description_; }
    const Json& metadata() const noexcept { return metadata_; }
    const std::vector<Source>& sources() const noexcept { return sources_; }

private:
    std::string name_;
    std::string type_;
    std::string description_;
    Json metadata_ = Json::object();
    std::vector<Source> sources_;
};

/// One file of an artifact version.
struct ArtifactFile {
    std::string path;  ///< '/'-separated path inside the artifact
    std::uint64_t size_bytes = 0;
    std::string sha256;
};

/// The run that logged a version (FORMAT.md §7.6 `produced_by`).
struct ArtifactProducer {
    std::string run_id;
    /// nullopt for a root-path run.
    std::optional<std::string> path;
    /// The run folder relative to the storage root.
    std::string run_dir;
    std::string hostname;
};

/// Options of ArtifactVersion::download (SDK.md §2.4).
struct DownloadOptions {
    /// True: read-only hard links to the blobs (falling back to 0444 reflinks or copies).
    /// False: independent writable files (reflink, else copy) with the umask's mode.
    bool link = true;
    /// Replace existing files whose content differs; false: such a file is ALREADY_EXISTS.
    bool overwrite = false;
    /// Copies are always hash-checked while written (DATA_LOSS on a mismatch) by the blob store;
    /// the flag is kept for the API of SDK.md §2.4 and cannot turn that check off.
    bool verify = true;
};

/// One resolved artifact version: an immutable snapshot of version.json plus its aliases, and
/// access to the version's files. Copies are cheap and share the snapshot.
///
/// Thread safety: safe for concurrent use (set_alias/remove_alias update the alias list under a
/// lock; every other member reads immutable state).
class RUNICORN_SDK_API ArtifactVersion {
public:
    /// An empty version (version() == 0); every operation on it is FAILED_PRECONDITION.
    ArtifactVersion() noexcept;
    ~ArtifactVersion();
    ArtifactVersion(const ArtifactVersion&) noexcept;
    ArtifactVersion& operator=(const ArtifactVersion&) noexcept;
    ArtifactVersion(ArtifactVersion&&) noexcept;
    ArtifactVersion& operator=(ArtifactVersion&&) noexcept;

    const std::string& name() const noexcept;
    const std::string& type() const noexcept;
    /// 1, 2, ...; 0 for an empty version.
    int version() const noexcept;
    /// The manifest fingerprint of the version's files (FORMAT.md §5.2).
    const std::string& digest() const noexcept;
    /// User aliases pointing at this version, sorted ("latest" is not listed).
    std::vector<std::string> aliases() const;
    /// True when Run::log_artifact found the content equal to the latest version and reused it.
    bool deduplicated() const noexcept;
    /// True when this was the latest version when resolved.
    bool latest() const noexcept;
    double created_at() const noexcept;
    const std::string& description() const noexcept;
    std::uint64_t file_count() const noexcept;
    std::uint64_t total_size_bytes() const noexcept;
    /// A JSON object.
    const Json& metadata() const noexcept;
    const std::optional<ArtifactProducer>& produced_by() const noexcept;
    /// The storage root the version lives under.
    const std::filesystem::path& storage_root() const noexcept;
    /// The version object of API.md §4.5 as compact JSON text: {"name", "type", "version",
    /// "digest", "created_at", "description", "metadata", "file_count", "total_size_bytes",
    /// "aliases", "produced_by", "latest", "deduplicated"}.
    std::string to_json() const;

    /// The version's files sorted by path.
    Result<std::vector<ArtifactFile>> files() const noexcept;
    /// Materialises every file under `dest` (default: ./artifacts/<name>-v<N>, created if
    /// missing) and returns the destination as an absolute path. Paths from the manifest stay
    /// inside `dest`: a symlinked folder on the way is INVALID_ARGUMENT. An existing file with the
    /// right content is kept; one with other content is ALREADY_EXISTS unless overwrite.
    /// PERMISSION_DENIED when `dest` cannot be written; DATA_LOSS for a corrupt blob.
    Result<std::filesystem::path> download(const std::filesystem::path& dest = {},
                                           DownloadOptions options = {}) const noexcept;
    /// Materialises the one file `rel` (a path of files()) under `dest` (default as download) and
    /// returns its absolute path. NOT_FOUND when the version has no such file; otherwise as
    /// download.
    Result<std::filesystem::path> download_file(std::string_view rel,
                                                const std::filesystem::path& dest = {},
                                                DownloadOptions options = {}) const noexcept;
    /// Points user alias `alias` at this version (moving it from another version).
    /// INVALID_ARGUMENT for an invalid or reserved alias ("latest", "v<N>").
    Status set_alias(std::string_view alias) const noexcept;
    /// Removes user alias `alias` from the artifact. NOT_FOUND when it is not set;
    /// FAILED_PRECONDITION when it points at another version (nothing is changed).
    Status remove_alias(std::string_view alias) const noexcept;

private:
    friend struct sdk::ArtifactAccess;
    explicit ArtifactVersion(std::shared_ptr<sdk::ArtifactVersionState> state) noexcept;

    std::shared_ptr<sdk::ArtifactVersionState> state_;
};

/// Resolves `ref` ("name", "name:latest", "name:v3", "name:<alias>") in the storage root
/// `storage` (empty: the resolution chain of FORMAT.md §1.1) without recording a use.
/// INVALID_ARGUMENT for a malformed reference; NOT_FOUND for an unknown artifact, version or alias;
/// UNAVAILABLE when the dedup plugin cannot be loaded.
RUNICORN_SDK_API Result<ArtifactVersion> artifact(std::string_view ref,
                                                  std::string_view storage = {}) noexcept;

}  // namespace runicorn
