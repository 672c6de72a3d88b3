#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <runicorn/export.hpp>
#include <runicorn/plugin/blob_store.hpp>
#include <runicorn/result.hpp>

namespace runicorn::plugin {

/// One input of a new artifact version: a local file or directory.
struct ArtifactSource {
    /// The file or directory to store (read when the version is saved).
    std::filesystem::path local;
    /// Where it goes inside the artifact ('/'-separated, no "..", no leading '/'). A file: its
    /// path inside the artifact (empty: the file's base name). A directory: the folder its
    /// contents go under (empty: the artifact root).
    std::string name;
};

/// The run that produced a version (FORMAT.md §7.6 `produced_by`).
struct ArtifactRunRef {
    std::string run_id;
    /// The run's path ("cv/resnet"); nullopt for a root-path run (JSON null).
    std::optional<std::string> path;
    /// The run folder relative to the storage root, '/'-separated ("runs/cv/resnet/<id>").
    std::string run_dir;
    std::string hostname;
};

/// What ArtifactStore::save() stores.
struct ArtifactSaveRequest {
    /// `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`.
    std::string name;
    /// `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`; must equal the type of the artifact's first version.
    std::string type;
    std::string description;
    boost::json::object metadata;
    std::vector<ArtifactSource> sources;
    /// User aliases to point at the new (or reused) version; each must be a valid alias.
    std::vector<std::string> aliases;
    /// The producing run, or nullopt when logged outside a run. When set, the version is also
    /// recorded under "logged" in `<root>/<run_dir>/artifacts.json`.
    std::optional<ArtifactRunRef> produced_by;
};

/// One version (API.md §4.5 "version object").
struct ArtifactVersionInfo {
    std::string name;
    std::string type;
    int version = 0;
    /// The manifest fingerprint of the version's files (FORMAT.md §5.2).
    std::string digest;
    double created_at = 0;
    std::string description;
    boost::json::object metadata;
    std::uint64_t file_count = 0;
    std::uint64_t total_size_bytes = 0;
    /// User aliases pointing at this version, sorted ("latest" is not listed).
    std::vector<std::string> aliases;
    /// True when this version is the latest one.
    bool latest = false;
    std::optional<ArtifactRunRef> produced_by;
    /// save() only: true when the content equalled the latest version, which was reused.
    bool deduplicated = false;
};

/// One artifact (API.md §4.5 list item).
struct ArtifactInfo {
    std::string name;
    std::string type;
    std::string description;
    double created_at = 0;
    /// The newest of created_at, the versions' created_at and the aliases' update time.
    double updated_at = 0;
    /// The highest existing version; 0 when every version was deleted.
    int latest_version = 0;
    std::uint64_t version_count = 0;
    /// User alias -> version, sorted by alias.
    std::vector<std::pair<std::string, int>> aliases;
    /// Sum of the versions' total_size_bytes (before dedup).
    std::uint64_t total_size_bytes = 0;
};

/// One file of a version.
struct ArtifactFileInfo {
    std::string path;
    std::uint64_t size_bytes = 0;
    std::string sha256;
};

/// A run that used a version (from that run's artifacts.json "used" list).
struct ArtifactUse {
    std::string run_id;
    std::optional<std::string> path;
    /// The run folder relative to the storage root.
    std::string run_dir;
    /// The run's status.json "status" ("" when unknown); "deleted" for a soft-deleted run.
    std::string status;
    double used_at = 0;
    /// The reference the run asked for ("imagenet-mini:production").
    std::string requested;
};

/// Lineage of one version (API.md §4.5 lineage).
struct ArtifactLineage {
    std::optional<ArtifactRunRef> produced_by;
    /// The producing run's status ("" when unknown or absent).
    std::string produced_by_status;
    /// Runs that used the version, oldest use first.
    std::vector<ArtifactUse> used_by;
};

/// What set_alias() changed.
struct AliasChange {
    std::string alias;
    int version = 0;
    /// The version the alias pointed at before, or nullopt when it was new.
    std::optional<int> previous_version;
};

/// What delete_version() removed.
struct VersionDeletion {
    int deleted_version = 0;
    /// User aliases that pointed at it (removed with it), sorted.
    std::vector<std::string> removed_aliases;
};

/// Options of ArtifactStore::download().
struct ArtifactDownloadOptions {
    /// True: read-only hard links to the blobs (falling back to 0444 reflinks or copies).
    /// False: independent writable files.
    bool link = true;
    /// Replace existing files whose content differs. False: an existing file with other content
    /// is ALREADY_EXISTS (an identical one is left as it is).
    bool overwrite = false;
};

/// What download() did.
struct ArtifactDownloadResult {
    std::filesystem::path dest;
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;
    std::uint64_t hardlinks = 0;
    std::uint64_t reflinks = 0;
    std::uint64_t copies = 0;
    /// Files already present with the right content (left untouched).
    std::uint64_t unchanged = 0;
};

/// Named, typed, versioned file collections stored in the blob store, under
/// `<root>/artifacts/<name>/` (FORMAT.md §7.6). Versions v1, v2, ... are allocated under the
/// artifact's `.lock` (flock), so concurrent saves from threads and processes never reuse a number;
/// `latest` is the highest existing version and is never stored; user aliases point at exactly one
/// version each.
///
/// References: "name" (= latest), "name:latest", "name:v3", "name:<alias>".
/// Errors: INVALID_ARGUMENT for a malformed name, type, alias or reference (naming it); NOT_FOUND
/// "artifact '<name>' not found" / "version '<name>:<ref>' not found"; nothing here throws.
/// Thread safety: safe for concurrent use (and across processes through the lock files).
class RUNICORN_PLUGIN_API ArtifactStore {
public:
    static constexpr std::string_view kServiceId = "runicorn.artifact_store/1";

    virtual ~ArtifactStore() = default;
    ArtifactStore(const ArtifactStore&) = delete;
    ArtifactStore& operator=(const ArtifactStore&) = delete;
    ArtifactStore(ArtifactStore&&) = delete;
    ArtifactStore& operator=(ArtifactStore&&) = delete;

    /// Every artifact (folders under artifacts/ holding an artifact.json), sorted by name.
    /// Unreadable artifact folders are skipped. An absent artifacts/ is an empty list.
    virtual Result<std::vector<ArtifactInfo>> list() const = 0;
    /// One artifact. NOT_FOUND when it does not exist.
    virtual Result<ArtifactInfo> info(std::string_view name) const = 0;
    /// Every existing version of `name`, newest first. NOT_FOUND when the artifact does not exist.
    virtual Result<std::vector<ArtifactVersionInfo>> versions(std::string_view name) const = 0;
    /// The version `ref` ("v3", "latest", or an alias) of `name`. NOT_FOUND when the artifact,
    /// the version or the alias does not exist.
    virtual Result<ArtifactVersionInfo> version(std::string_view name,
                                                std::string_view ref) const = 0;
    /// Parses "name[:ref]" and returns version(name, ref or "latest").
    virtual Result<ArtifactVersionInfo> resolve(std::string_view reference) const = 0;
    /// The version's manifest (file paths confined: no absolute path, no ".."; ids 64 hex).
    /// INVALID_ARGUMENT (naming the file) when manifest.json is malformed.
    virtual Result<DirManifest> manifest(std::string_view name, int version) const = 0;
    /// The version's files sorted by path.
    virtual Result<std::vector<ArtifactFileInfo>> files(std::string_view name,
                                                        int version) const = 0;

    /// Logs a new version (FORMAT.md §7.6 "Logging"): stores every file as a blob, stages
    /// manifest.json and version.json under index/staging/artifacts/, then under the lock either
    /// reuses the latest version (same digest; `deduplicated` set) or publishes v<N> with
    /// N = last_version + 1, applies `aliases`, and records the run's artifacts.json when
    /// `produced_by` is set. INVALID_ARGUMENT for bad names, no sources, two sources mapping to
    /// one path, or a type differing from the artifact's; NOT_FOUND for a missing source. On
    /// failure no version is published (staging leftovers are removed or left for GC).
    virtual Result<ArtifactVersionInfo> save(const ArtifactSaveRequest& request) = 0;

    /// Sets or moves user alias `alias` to `version`. INVALID_ARGUMENT for an invalid or reserved
    /// alias ("latest", "v<N>"); NOT_FOUND when the artifact or version does not exist.
    virtual Result<AliasChange> set_alias(std::string_view name, std::string_view alias,
                                          int version) = 0;
    /// Removes user alias `alias`. NOT_FOUND when it is not set.
    virtual Status remove_alias(std::string_view name, std::string_view alias) = 0;
    /// Deletes version `version` (its blobs go later through GC). FAILED_PRECONDITION (HTTP 409)
    /// naming the aliases when user aliases point at it and !force; with force they are removed.
    /// NOT_FOUND when the artifact or version does not exist.
    virtual Result<VersionDeletion> delete_version(std::string_view name, int version,
                                                   bool force) = 0;

    /// Who produced the version and which runs used it (their artifacts.json "used" entries,
    /// soft-deleted runs included). NOT_FOUND as version().
    virtual Result<ArtifactLineage> lineage(std::string_view name, int version) const = 0;
    /// Resolves `reference` and records the use in `<root>/<run_dir>/artifacts.json` ("used":
    /// name, version, digest, requested = reference, at = now), a locked read-modify-write.
    /// `run_dir` is relative to the root; empty records nothing (a read-only resolve).
    virtual Result<ArtifactVersionInfo> use(std::string_view reference,
                                            std::string_view run_dir) = 0;
    /// Materialises every file of the version under `dest` (created if missing; paths confined
    /// to it), each as blob_store materialize() does. PERMISSION_DENIED or another errno-based
    /// error naming the path when `dest` cannot be written; NOT_FOUND when a blob is missing;
    /// DATA_LOSS when a copied blob does not match its name.
    virtual Result<ArtifactDownloadResult> download(std::string_view name, int version,
                                                    const std::filesystem::path& dest,
                                                    const ArtifactDownloadOptions& options) = 0;

protected:
    ArtifactStore() = default;
};

/// Name checks of FORMAT.md §7.6 (shared by the store, the CLI and the routes).
/// An artifact name: `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`.
inline bool is_valid_artifact_name(std::string_view s) {
    const auto ok = [](char c, bool first) {
        const bool alnum =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        return alnum || (!first && (c == '.' || c == '_' || c == '-'));
    };
    if (s.empty() || s.size() > 128) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (!ok(s[i], i == 0)) {
            return false;
        }
    }
    return true;
}
/// An artifact type: `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`.
inline bool is_valid_artifact_type(std::string_view s) {
    return s.size() <= 64 && is_valid_artifact_name(s);
}
/// "v<digits>" with a positive value that fits an int; returns it, or 0 for anything else.
inline int parse_version_ref(std::string_view s) {
    if (s.size() < 2 || s.size() > 10 || s[0] != 'v') {
        return 0;
    }
    int n = 0;
    for (std::size_t i = 1; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        n = n * 10 + (s[i] - '0');
    }
    return n;
}
/// True for "latest" and anything matching `^v[0-9]+$`.
inline bool is_reserved_alias(std::string_view s) {
    if (s == "latest") {
        return true;
    }
    if (s.size() < 2 || s[0] != 'v') {
        return false;
    }
    for (std::size_t i = 1; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}
/// A user alias: `^[A-Za-z][A-Za-z0-9._-]{0,63}$` and not reserved.
inline bool is_valid_user_alias(std::string_view s) {
    if (s.empty() || s.size() > 64 ||
        !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z'))) {
        return false;
    }
    return is_valid_artifact_name(s) && !is_reserved_alias(s);
}

/// The JSON shapes of API.md §4.5 (shared by the HTTP routes and the CLI's --json output).
/// `produced_by` as {"run_id", "path", "run_dir", "hostname"} or null.
inline boost::json::value to_json(const std::optional<ArtifactRunRef>& r) {
    if (!r) {
        return nullptr;
    }
    boost::json::object o;
    o["run_id"] = r->run_id;
    o["path"] = r->path ? boost::json::value(*r->path) : boost::json::value(nullptr);
    o["run_dir"] = r->run_dir;
    o["hostname"] = r->hostname;
    return o;
}
/// A version object: {"name", "type", "version", "digest", "created_at", "description",
/// "metadata", "file_count", "total_size_bytes", "aliases", "produced_by", "latest"}.
inline boost::json::object to_json(const ArtifactVersionInfo& v) {
    boost::json::object o;
    o["name"] = v.name;
    o["type"] = v.type;
    o["version"] = v.version;
    o["digest"] = v.digest;
    o["created_at"] = v.created_at;
    o["description"] = v.description;
    o["metadata"] = v.metadata;
    o["file_count"] = v.file_count;
    o["total_size_bytes"] = v.total_size_bytes;
    boost::json::array aliases;
    for (const auto& a : v.aliases) {
        aliases.emplace_back(a);
    }
    o["aliases"] = std::move(aliases);
    o["produced_by"] = to_json(v.produced_by);
    o["latest"] = v.latest;
    return o;
}
/// A list item: {"name", "type", "description", "created_at", "updated_at", "latest_version",
/// "version_count", "aliases": {"<alias>": N}, "total_size_bytes"}.
inline boost::json::object to_json(const ArtifactInfo& a) {
    boost::json::object o;
    o["name"] = a.name;
    o["type"] = a.type;
    o["description"] = a.description;
    o["created_at"] = a.created_at;
    o["updated_at"] = a.updated_at;
    o["latest_version"] = a.latest_version;
    o["version_count"] = a.version_count;
    boost::json::object aliases;
    for (const auto& [alias, version] : a.aliases) {
        aliases[alias] = version;
    }
    o["aliases"] = std::move(aliases);
    o["total_size_bytes"] = a.total_size_bytes;
    return o;
}
/// {"path", "size_bytes", "sha256"}.
inline boost::json::object to_json(const ArtifactFileInfo& f) {
    return {{"path", f.path}, {"size_bytes", f.size_bytes}, {"sha256", f.sha256}};
}

}  // namespace runicorn::plugin
