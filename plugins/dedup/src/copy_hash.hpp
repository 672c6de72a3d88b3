#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <runicorn/result.hpp>

namespace runicorn::dedup {

/// Copies everything `in_fd` reads (from its offset to the end) into `out_fd` in 1 MiB chunks
/// and returns the SHA-256 of exactly the bytes written, so a blob is named by its own content
/// even if the source changes meanwhile. When `size_hint` is above a few chunks, a writer thread
/// writes chunk i while the caller reads and hashes chunk i+1, and writeback of the written
/// range is started early (sync_file_range), so a later fsync has little left to wait for.
/// `size` receives the byte count. Errors name `in_path` or `out_path`; on error `out_fd` holds
/// an unspecified prefix.
Result<std::string> copy_and_hash(int in_fd, const std::filesystem::path& in_path, int out_fd,
                                  const std::filesystem::path& out_path, std::uint64_t size_hint,
                                  std::uint64_t& size);

}  // namespace runicorn::dedup
