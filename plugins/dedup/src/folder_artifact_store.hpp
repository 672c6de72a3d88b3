#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <runicorn/plugin/artifact_store.hpp>
#include <runicorn/plugin/blob_store.hpp>
#include <runicorn/result.hpp>

namespace runicorn::dedup {

/// The artifact store over `<root>/artifacts/<name>/` (FORMAT.md §7.6): artifact.json,
/// aliases.json, a `.lock` flocked for version allocation and alias changes, and immutable
/// `v<N>/` folders (version.json + manifest.json) published by renaming a staging folder from
/// index/staging/artifacts/. Files live in the blob store it is given.
/// Thread safety: safe for concurrent use (and across processes through the lock files).
class FolderArtifactStore final : public plugin::ArtifactStore {
public:
    /// `root` is the storage root; `blobs` stores and materialises the files.
    FolderArtifactStore(std::filesystem::path root, std::shared_ptr<plugin::BlobStore> blobs);

    Result<std::vector<plugin::ArtifactInfo>> list() const override;
    Result<plugin::ArtifactInfo> info(std::string_view name) const override;
    Result<std::vector<plugin::ArtifactVersionInfo>> versions(std::string_view name) const override;
    Result<plugin::ArtifactVersionInfo> version(std::string_view name,
                                                std::string_view ref) const override;
    Result<plugin::ArtifactVersionInfo> resolve(std::string_view reference) const override;
    Result<plugin::DirManifest> manifest(std::string_view name, int version) const override;
    Result<std::vector<plugin::ArtifactFileInfo>> files(std::string_view name,
                                                        int version) const override;

    Result<plugin::ArtifactVersionInfo> save(const plugin::ArtifactSaveRequest& request) override;
    Result<plugin::AliasChange> set_alias(std::string_view name, std::string_view alias,
                                          int version) override;
    Status remove_alias(std::string_view name, std::string_view alias) override;
    Result<plugin::VersionDeletion> delete_version(std::string_view name, int version,
                                                   bool force) override;

    Result<plugin::ArtifactLineage> lineage(std::string_view name, int version) const override;
    Result<plugin::ArtifactVersionInfo> use(std::string_view reference,
                                            std::string_view run_dir) override;
    Result<plugin::ArtifactDownloadResult> download(
        std::string_view name, int version, const std::filesystem::path& dest,
        const plugin::ArtifactDownloadOptions& options) override;

private:
    /// aliases.json: alias -> version, and its updated_at (0 when absent).
    struct Aliases {
        std::map<std::string, int> map;
        double updated_at = 0;
    };

    std::filesystem::path dir_of(std::string_view name) const;
    /// NOT_FOUND unless artifacts/<name>/artifact.json exists; INVALID_ARGUMENT for a bad name.
    Result<std::filesystem::path> existing_dir(std::string_view name) const;
    Result<Aliases> read_aliases(const std::filesystem::path& dir) const;
    Status write_aliases(const std::filesystem::path& dir, const Aliases& aliases) const;
    /// The v<N> folders holding a version.json, ascending.
    std::vector<int> existing_versions(const std::filesystem::path& dir) const;
    /// Reads v<N>/version.json; `aliases` fills the version's alias list, `latest` its flag.
    Result<plugin::ArtifactVersionInfo> read_version(const std::filesystem::path& dir, int n,
                                                     const Aliases& aliases, int latest) const;
    /// The version number `ref` names in the artifact at `dir` (NOT_FOUND when absent).
    Result<int> resolve_ref(const std::filesystem::path& dir, std::string_view name,
                            std::string_view ref) const;
    /// Appends `entry` to the `list` array of <root>/<run_dir>/artifacts.json (locked RMW).
    Status record_in_run(std::string_view run_dir, const char* list,
                         const boost::json::object& entry) const;
    /// The run folder `run_dir` names (relative to the root, confined to it). NOT_FOUND when it
    /// is not a directory.
    Result<std::filesystem::path> run_folder(std::string_view run_dir) const;

    std::filesystem::path root_;
    std::shared_ptr<plugin::BlobStore> blobs_;
};

}  // namespace runicorn::dedup
