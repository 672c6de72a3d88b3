#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace runicorn::storage::catalog {

/// One entry of a run's assets.json (FORMAT.md §4.6, §7.4 asset_uses): code.snapshot,
/// datasets[], pretrained[] or outputs[].
struct AssetUse {
    std::string asset_type;  ///< code_snapshot, dataset, pretrained, output (FORMAT.md §6).
    std::optional<std::string> fingerprint_kind;
    std::optional<std::string> fingerprint;   ///< String fingerprints only.
    std::optional<std::string> archive_path;  ///< Rebased (FORMAT.md §5.5).
    std::optional<std::string> name;
    std::optional<std::string> source;  ///< uri, path_or_uri, path or workspace_root.
    bool archived = false;              ///< The entry's `saved`.
    std::optional<std::int64_t> size_bytes;
    std::optional<std::int64_t> file_count;
};

/// The asset_uses rows of one assets.json object, in file order (code snapshot, datasets,
/// pretrained, outputs). Archive paths are rebased onto `root` (FORMAT.md §5.5): a recorded path
/// that does not exist under `root` is mapped from its last `/archive/blobs/`,
/// `/archive/manifests/` or `/archive/outputs/rolling/` on; one that cannot be mapped is kept.
std::vector<AssetUse> asset_uses_of(const boost::json::object& assets,
                                    const std::filesystem::path& root);

}  // namespace runicorn::storage::catalog
