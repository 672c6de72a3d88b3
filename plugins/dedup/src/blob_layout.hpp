#pragma once

#include <filesystem>
#include <string_view>

#include <runicorn/plugin/blob_store.hpp>
#include <runicorn/result.hpp>

namespace runicorn::dedup {

/// True for 64 lower-case hex digits (a SHA-256 blob name).
bool is_sha256_hex(std::string_view s);

/// `<root>/archive/blobs/<sha[0:2]>/<sha>`; INVALID_ARGUMENT unless `sha256` is 64 lower-case hex.
Result<std::filesystem::path> blob_path(const std::filesystem::path& root, std::string_view sha256);

/// Counts the files named by 64 hex digits in two-hex shard directories under
/// <root>/archive/blobs, and their bytes (an inode with several links counted once). An absent
/// blob directory is an empty store; other entries are ignored.
Result<plugin::BlobStats> blob_stats(const std::filesystem::path& root);

}  // namespace runicorn::dedup
