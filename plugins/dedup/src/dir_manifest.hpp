#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include <runicorn/plugin/blob_store.hpp>
#include <runicorn/result.hpp>

namespace runicorn::dedup {

/// The manifest fingerprint of FORMAT.md §5.2 (exact, v0.6-compatible): SHA-256 over, for each
/// (rel, sha) pair sorted by the UTF-8 bytes of rel, rel + 0x00 + sha + 0x00; lower-case hex.
/// The order of `files` does not matter.
std::string manifest_fingerprint(std::span<const plugin::ManifestFile> files);

/// Sorts `m.files` by the bytes of rel and sets file_count, total_size_bytes and fingerprint.
void finalize_manifest(plugin::DirManifest& m);

/// The manifest as v0.6 writes it (FORMAT.md G2: 2-space indent, non-ASCII unescaped; keys
/// created_at, source_path, fingerprint, total_size_bytes, file_count, files), files in the
/// order of `m.files`, "executable" only where true, and a final newline.
std::string manifest_to_json(const plugin::DirManifest& m);

/// Reads a manifest object. INVALID_ARGUMENT naming the field when it is not an object, `files`
/// is not an object, an entry lacks a 64-hex sha256 or a non-negative integer size_bytes, or a
/// path is unsafe (validate_rel_path). Missing totals are computed; a missing fingerprint is
/// computed; a recorded one is kept as recorded.
Result<plugin::DirManifest> manifest_from_json(const boost::json::value& v);

/// OK for a relative '/'-separated path with no empty, "." or ".." component, no leading '/'
/// and no NUL byte; INVALID_ARGUMENT naming it otherwise. Joined under any directory, such a path
/// stays inside it.
Status validate_rel_path(std::string_view rel);

/// One file a directory walk found.
struct WalkedFile {
    std::string rel;
    std::filesystem::path path;
    bool executable = false;
};

/// What a directory walk found, files sorted by rel.
struct WalkResult {
    std::vector<WalkedFile> files;
    std::vector<std::string> warnings;
};

/// Walks `dir` by FORMAT.md §5.2's rules: regular files; symlinks to regular files read through;
/// symlinked directories not entered; sockets, FIFOs, devices, dangling symlinks and unreadable
/// directories skipped with a warning naming them. NOT_FOUND / INVALID_ARGUMENT when `dir` is
/// missing or not a directory.
Result<WalkResult> walk_directory(const std::filesystem::path& dir);

}  // namespace runicorn::dedup
