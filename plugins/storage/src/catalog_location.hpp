#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace runicorn::storage {

/// True for the statfs() magic numbers of network and cluster filesystems (FORMAT.md §1.1): NFS
/// 0x6969, SMB2 0xFE534D42, CIFS 0xFF534D42, FUSE 0x65735546, Lustre 0x0BD00BD0, GPFS 0x47504653,
/// CephFS 0x00C36400, AFS 0x5346414F, 9P 0x01021997.
bool is_network_fs_type(std::int64_t f_type);

/// statfs() of `path` (or of its nearest existing ancestor) against is_network_fs_type(); false
/// when it cannot be told.
bool on_network_filesystem(const std::filesystem::path& path);

/// True when the catalog may be created at `<root>/index/`: the root exists and is writable, and
/// `index/` is missing or writable.
bool root_is_writable(const std::filesystem::path& root);

/// Where the catalog of `root` lives (FORMAT.md §7.4) and why.
struct CatalogPlacement {
    std::filesystem::path file;
    bool in_user_cache = false;
    std::string reason;  ///< Empty for the default place; else why the cache is used.
};

/// `<root>/index/catalog.sqlite`; when the root is read-only or on a network filesystem,
/// `<cache>/runicorn/catalog/<sha256(root)[0:16]>/catalog.sqlite`, where <cache> is
/// `xdg_cache_home` when absolute, else `<home>/.cache`, else the system temp directory.
/// Pure: the caller supplies the facts (see choose_catalog_file()).
CatalogPlacement catalog_placement(const std::filesystem::path& root, bool root_writable,
                                   bool network_fs,
                                   const std::optional<std::string>& xdg_cache_home,
                                   const std::optional<std::string>& home);

/// catalog_placement() with the facts of this machine: root_is_writable(),
/// on_network_filesystem(), $XDG_CACHE_HOME and $HOME.
CatalogPlacement choose_catalog_file(const std::filesystem::path& root);

}  // namespace runicorn::storage
