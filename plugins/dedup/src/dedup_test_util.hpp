#pragma once

// Helpers shared by the dedup plugin's tests (not part of the plugin).

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>

namespace runicorn::dedup::test_util {

inline void write_file(const std::filesystem::path& p, std::string_view bytes) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline struct stat lstat_of(const std::filesystem::path& p) {
    struct stat st {};
    ::lstat(p.c_str(), &st);
    return st;
}

/// Sets a file's mtime (and atime) to `unix_seconds`, without following symlinks.
inline void set_mtime(const std::filesystem::path& p, std::int64_t unix_seconds) {
    const auto t = static_cast<time_t>(unix_seconds);
    struct timespec times[2] = {{t, 0}, {t, 0}};
    ::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

/// Copies a directory tree (the read-only v0.6 fixture into a test's temp dir).
inline void copy_tree(const std::filesystem::path& from, const std::filesystem::path& to) {
    std::filesystem::create_directories(to);
    std::filesystem::copy(
        from, to,
        std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
    // The fixture is checked in read-only; the copy must be writable to be changed and removed.
    std::filesystem::permissions(to, std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::add);
    for (const auto& e : std::filesystem::recursive_directory_iterator(to)) {
        if (!e.is_symlink()) {
            std::filesystem::permissions(e.path(), std::filesystem::perms::owner_write,
                                         std::filesystem::perm_options::add);
        }
    }
}

/// Counts the files whose names start with ".tmp-" anywhere under `dir`.
inline int count_temp_files(const std::filesystem::path& dir) {
    int n = 0;
    std::error_code ec;
    for (std::filesystem::recursive_directory_iterator it(dir, ec);
         !ec && it != std::filesystem::end(it); it.increment(ec)) {
        if (it->path().filename().string().starts_with(".tmp-")) {
            ++n;
        }
    }
    return n;
}

}  // namespace runicorn::dedup::test_util
