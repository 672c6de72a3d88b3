#include "catalog_location.hpp"

#include <array>
#include <cstdlib>

#include "catalog.hpp"
#include <sys/vfs.h>
#include <unistd.h>

namespace runicorn::storage {
namespace fs = std::filesystem;

bool is_network_fs_type(std::int64_t f_type) {
    static constexpr std::array<std::uint32_t, 9> kNetwork = {
        0x6969U,      // NFS
        0xFE534D42U,  // SMB2
        0xFF534D42U,  // CIFS
        0x65735546U,  // FUSE (sshfs, s3fs, ...)
        0x0BD00BD0U,  // Lustre
        0x47504653U,  // GPFS
        0x00C36400U,  // CephFS
        0x5346414FU,  // AFS
        0x01021997U,  // 9P
    };
    // f_type is a signed word: the high magics arrive sign-extended.
    const auto magic = static_cast<std::uint32_t>(static_cast<std::uint64_t>(f_type));
    for (const auto m : kNetwork) {
        if (magic == m) {
            return true;
        }
    }
    return false;
}

bool on_network_filesystem(const fs::path& path) {
    fs::path p = path;
    for (;;) {
        struct statfs st {};
        if (::statfs(p.c_str(), &st) == 0) {
            return is_network_fs_type(static_cast<std::int64_t>(st.f_type));
        }
        if (!p.has_parent_path() || p.parent_path() == p) {
            return false;
        }
        p = p.parent_path();
    }
}

bool root_is_writable(const fs::path& root) {
    if (::access(root.c_str(), W_OK | X_OK) != 0) {
        return false;
    }
    const fs::path index = root / "index";
    std::error_code ec;
    return !fs::exists(index, ec) || ::access(index.c_str(), W_OK | X_OK) == 0;
}

CatalogPlacement catalog_placement(const fs::path& root, bool root_writable, bool network_fs,
                                   const std::optional<std::string>& xdg_cache_home,
                                   const std::optional<std::string>& home) {
    if (root_writable && !network_fs) {
        return {root / "index" / "catalog.sqlite", false, {}};
    }
    fs::path cache;
    if (xdg_cache_home && fs::path(*xdg_cache_home).is_absolute()) {
        cache = *xdg_cache_home;
    } else if (home && !home->empty()) {
        cache = fs::path(*home) / ".cache";
    } else {
        cache = fs::temp_directory_path();
    }
    const std::string id = catalog::sha256_hex(root.string()).substr(0, 16);
    return {cache / "runicorn" / "catalog" / id / "catalog.sqlite", true,
            network_fs ? "the storage root is on a network filesystem"
                       : "the storage root is read-only"};
}

CatalogPlacement choose_catalog_file(const fs::path& root) {
    const auto env = [](const char* name) -> std::optional<std::string> {
        // NOLINTNEXTLINE(concurrency-mt-unsafe): read once while opening; nothing sets them.
        const char* v = std::getenv(name);
        return v != nullptr && *v != '\0' ? std::optional<std::string>(v) : std::nullopt;
    };
    const bool network = on_network_filesystem(root);
    return catalog_placement(root, root_is_writable(root), network, env("XDG_CACHE_HOME"),
                             env("HOME"));
}

}  // namespace runicorn::storage
