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

bool is_plain_name(std::string_view s) {
    return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos &&
           s.find('\0') == std::string_view::npos;
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
        if (shard.starts_with('.')) {
            ++stats.temp_files;
            continue;
        }
        if (shard.size() != 2 || !shards->is_directory(type_ec)) {
            continue;
        }
        fs::directory_iterator files(shards->path(), type_ec);
        for (; !type_ec && files != fs::directory_iterator(); files.increment(type_ec)) {
            const auto name = files->path().filename().string();
            if (name.starts_with('.')) {
                ++stats.temp_files;
                continue;
            }
            if (!is_sha256_hex(name) || name.compare(0, 2, shard) != 0) {
                continue;
            }
            struct stat st {};
            if (::lstat(files->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
                continue;
            }
            ++stats.blob_count;
            if (seen.emplace(st.st_dev, st.st_ino).second) {
                const auto size = static_cast<std::uint64_t>(st.st_size);
                stats.bytes_stored += size;
                stats.bytes_saved_by_links += (static_cast<std::uint64_t>(st.st_nlink) - 1) * size;
            }
        }
    }
    return stats;
}

namespace {

// The suffix after the last `marker` in `recorded`, with '\' read as '/'; nullopt when absent.
// A path that starts with the marker without its leading '/' ("archive/blobs/...") counts too.
std::optional<std::string> suffix_after(std::string_view recorded, std::string_view marker) {
    std::string s(recorded);
    for (char& c : s) {
        if (c == '\\') {
            c = '/';
        }
    }
    if (s.starts_with(marker.substr(1))) {
        s.insert(s.begin(), '/');
    }
    const auto pos = s.rfind(marker);
    if (pos == std::string::npos) {
        return std::nullopt;
    }
    return s.substr(pos + marker.size());
}

}  // namespace

Result<std::optional<std::string>> blob_name_from_archive_path(std::string_view recorded) {
    auto suffix = suffix_after(recorded, "/archive/blobs/");
    if (!suffix) {
        return std::optional<std::string>();
    }
    const auto slash = suffix->find('/');
    if (slash == 2 && is_sha256_hex(suffix->substr(3)) &&
        suffix->compare(0, 2, *suffix, 3, 2) == 0) {
        return std::optional<std::string>(suffix->substr(3));
    }
    return Status::invalid_argument("'" + std::string(recorded) + "' does not name a blob");
}

Result<std::optional<fs::path>> manifest_path_from_archive_path(const fs::path& root,
                                                                std::string_view recorded) {
    auto suffix = suffix_after(recorded, "/archive/manifests/");
    if (!suffix) {
        return std::optional<fs::path>();
    }
    std::string_view rest = *suffix;
    std::string parts[3];
    for (int i = 0; i < 3; ++i) {
        const auto slash = rest.find('/');
        if ((i < 2) != (slash != std::string_view::npos)) {
            return Status::invalid_argument("'" + std::string(recorded) +
                                            "' does not name a manifest");
        }
        parts[i] = std::string(rest.substr(0, slash));
        rest = i < 2 ? rest.substr(slash + 1) : std::string_view();
        if (!is_plain_name(parts[i])) {
            return Status::invalid_argument("'" + std::string(recorded) +
                                            "' does not name a manifest");
        }
    }
    if (!parts[2].ends_with(".json")) {
        return Status::invalid_argument("'" + std::string(recorded) + "' does not name a manifest");
    }
    return std::optional<fs::path>(root / "archive" / "manifests" / parts[0] / parts[1] / parts[2]);
}

}  // namespace runicorn::dedup
