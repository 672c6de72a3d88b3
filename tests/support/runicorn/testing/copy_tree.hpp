#pragma once

#include <filesystem>

namespace runicorn::testing {

/// Copies the tree `src` into `dst` (created when missing), making every copied directory and
/// file owner-writable: tests copy the read-only Runicorn v0.6 fixture before anything may write
/// to it (fs::copy would keep the checkout's modes). Throws std::filesystem::filesystem_error on
/// failure, which fails the test.
inline void copy_tree_writable(const std::filesystem::path& src, const std::filesystem::path& dst) {
    namespace fs = std::filesystem;
    fs::create_directories(dst);
    for (const auto& e : fs::recursive_directory_iterator(src)) {
        const fs::path to = dst / fs::relative(e.path(), src);
        if (e.is_directory()) {
            fs::create_directories(to);
            fs::permissions(to, fs::perms::owner_all, fs::perm_options::add);
        } else {
            fs::create_directories(to.parent_path());
            fs::copy_file(e.path(), to);
            fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write,
                            fs::perm_options::add);
        }
    }
}

}  // namespace runicorn::testing
