#include "blob_layout.hpp"

#include <set>
#include <utility>

#include <sys/stat.h>

namespace runicorn::dedup {
namespace fs = std::filesystem;

bool is_sha256_hex(std::string_view s) {
    if (s.size() != 64) {
        return false;
    }
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

Result<fs::path> blob_path(const fs::path& root, std::string_view sha256) {
    if (!is_sha256_hex(sha256)) {
        return Status::invalid_argument("'" + std::string(sha256) +
                                        "' is not a SHA-256 (64 lower-case hex digits)");
    }
    return root / "archive" / "blobs" / std::string(sha256.substr(0, 2)) / std::string(sha256);
}

Result<plugin::BlobStats> blob_stats(const fs::path& root) {
    plugin::BlobStats stats;
    const auto blobs = root / "archive" / "blobs";
    std::error_code ec;
    if (!fs::is_directory(blobs, ec)) {
        return stats;
    }
    std::set<std::pair<dev_t, ino_t>> seen;
    fs::directory_iterator shards(blobs, ec);
    if (ec) {
        return Status::internal("cannot read '" + blobs.string() + "': " + ec.message());
    }
    for (; !ec && shards != fs::directory_iterator(); shards.increment(ec)) {
        const auto shard = shards->path().filename().string();
        std::error_code type_ec;
        if (shard.size() != 2 || !shards->is_directory(type_ec)) {
            continue;
        }
        fs::directory_iterator files(shards->path(), type_ec);
        for (; !type_ec && files != fs::directory_iterator(); files.increment(type_ec)) {
            const auto name = files->path().filename().string();
            if (!is_sha256_hex(name) || name.compare(0, 2, shard) != 0) {
                continue;
            }
            struct stat st {};
            if (::lstat(files->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
                continue;
            }
            ++stats.blob_count;
            if (seen.emplace(st.st_dev, st.st_ino).second) {
                stats.bytes_stored += static_cast<std::uint64_t>(st.st_size);
            }
        }
    }
    return stats;
}

}  // namespace runicorn::dedup
