#pragma once

// Small pieces shared by the asset code (assets.cpp, outputs_scanner.cpp): hashing, the code
// snapshot's ignore rules (FORMAT.md §4.9), output patterns (SDK.md §4.11), safe names (§5.3),
// and confined directory walks.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include <runicorn/plugin/blob_store.hpp>
#include <runicorn/result.hpp>

namespace runicorn::sdk {

/// Lower-case hex SHA-256 of a file's bytes (streamed). The error names the file.
Result<std::string> sha256_file(const std::filesystem::path& path);
/// Lower-case hex SHA-1 of `text` (rolling output names, FORMAT.md §5.3).
std::string sha1_hex(std::string_view text);
/// The manifest fingerprint of FORMAT.md §5.2 over `files` (sorted by the caller or not).
std::string manifest_fingerprint(const std::vector<plugin::ManifestFile>& files);
/// Sorts `files` by the UTF-8 bytes of rel and fills the manifest's totals and fingerprint.
void finish_manifest(plugin::DirManifest& manifest);

/// FORMAT.md §5.3 safe(): characters outside [A-Za-z0-9._-] become '_', at most 80 characters.
std::string safe_name(std::string_view s);

/// Copies `src` to `dest` through a temp sibling (fsync + rename), hashing the bytes copied.
/// Returns the SHA-256 of what landed in `dest`.
Result<std::string> copy_file_hashed(const std::filesystem::path& src,
                                     const std::filesystem::path& dest);

/// One regular file found by walk_files(): absolute path and '/'-separated path below the root.
struct WalkedFile {
    std::filesystem::path path;
    std::string rel;
    std::uint64_t size = 0;
    bool executable = false;
};

/// Decides which entries a walk keeps. `rel` is '/'-separated below the root.
/// Thread safety: immutable after construction.
class IgnoreRules {
public:
    /// FORMAT.md §4.9: the rules of <root>/.gitignore, then <root>/<ignore_file> (or, when that
    /// file is missing, the defaults .git/ .venv/ __pycache__/ *.pyc .idea/ node_modules/), then
    /// `extra`. Never writes into `root`.
    static IgnoreRules for_workspace(const std::filesystem::path& root,
                                     std::string_view ignore_file,
                                     const std::vector<std::string>& extra);
    /// Adds the rule lines of `text` (comments and blank lines carry none).
    void add_lines(std::string_view text);
    void add_rule(std::string_view line);
    /// True when the last rule matching `rel` excludes it.
    bool ignored(std::string_view rel, bool is_dir) const;

private:
    struct Rule {
        std::string glob;
        bool negate = false;
        bool anchored = false;
        bool dir_only = false;
    };
    std::vector<Rule> rules_;
};

/// Totals of a walk.
struct WalkStats {
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;
};

/// Walks `root` (sorted, depth-first): regular files, and symlinks to files whose target lies
/// inside `root`; symlinked directories are not entered; symlinks leading out of the root,
/// special files and unreadable entries are skipped (each named in `warnings`). `ignore` may be
/// null. Stops with INVALID_ARGUMENT as soon as `max_files` or `max_bytes` is exceeded (0: no
/// limit), naming the totals seen so far.
Result<std::vector<WalkedFile>> walk_files(const std::filesystem::path& root,
                                           const IgnoreRules* ignore, std::uint64_t max_files,
                                           std::uint64_t max_bytes,
                                           std::vector<std::string>& warnings);

/// Counts what BlobStore::store_directory() would store under `root` (FORMAT.md §5.2: regular
/// files and symlinks to files; symlinked directories not entered), stopping once a limit
/// (0: none) is exceeded. Unreadable entries are skipped.
WalkStats count_tree(const std::filesystem::path& root, std::uint64_t max_files,
                     std::uint64_t max_bytes);

/// Reads a JSON object file (NaN tokens accepted); nullopt when missing or not an object.
std::optional<boost::json::object> read_json_object(const std::filesystem::path& path);

/// Current time as Unix seconds.
double unix_now();

}  // namespace runicorn::sdk
