#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <runicorn/plugin/blob_store.hpp>
#include <runicorn/result.hpp>

namespace runicorn::dedup {

/// True for 64 lower-case hex digits (a SHA-256 blob name).
bool is_sha256_hex(std::string_view s);

/// `<root>/archive/blobs/<sha[0:2]>/<sha>`; INVALID_ARGUMENT unless `sha256` is 64 lower-case hex.
Result<std::filesystem::path> blob_path(const std::filesystem::path& root, std::string_view sha256);

/// Counts the files named by 64 hex digits in two-hex shard directories under
/// <root>/archive/blobs, and their bytes (an inode with several links counted once), the bytes
/// hard links save (BlobStats::bytes_saved_by_links) and the dot-temp files. An absent blob
/// directory is an empty store; other entries are ignored.
Result<plugin::BlobStats> blob_stats(const std::filesystem::path& root);

/// Maps a recorded archive path (FORMAT.md §5.5 rebasing; either separator) that names a blob:
/// the part after the last "/archive/blobs/" must be "<aa>/<sha>" with a 64-hex sha whose first
/// two digits are aa. Returns the sha; nullopt when the path does not point into archive/blobs;
/// INVALID_ARGUMENT when it does but the name is not a valid blob name (never a path outside).
Result<std::optional<std::string>> blob_name_from_archive_path(std::string_view recorded);

/// Maps a recorded manifest path onto `<root>/archive/manifests/<category>/<aa>/<name>.json`
/// (the part after the last "/archive/manifests/", three plain components). nullopt when the path
/// does not point into archive/manifests; INVALID_ARGUMENT when it does but the suffix is not
/// three plain names ending in ".json" (e.g. contains "..").
Result<std::optional<std::filesystem::path>> manifest_path_from_archive_path(
    const std::filesystem::path& root, std::string_view recorded);

/// True for a path component that is safe to join: non-empty, not "." or "..", no '/' or NUL.
bool is_plain_name(std::string_view s);

}  // namespace runicorn::dedup
