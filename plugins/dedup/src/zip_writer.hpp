#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <runicorn/result.hpp>

#include "file_ops.hpp"

namespace runicorn::dedup {

/// Writes a plain zip file (PKWARE APPNOTE 6.3: stored or raw-deflate entries, UTF-8 names,
/// Unix modes; no ZIP64, so every entry, offset and the directory stay below 4 GiB and there
/// are at most 65,535 entries). The archive is built in a temp file next to the target and
/// renamed into place by finish(); an unfinished writer leaves nothing under the target name.
/// Thread safety: externally synchronized.
class ZipWriter {
public:
    /// Starts a zip that finish() publishes at `path` (replacing a file there).
    static Result<ZipWriter> create(const std::filesystem::path& path);

    ZipWriter(ZipWriter&&) noexcept = default;
    ZipWriter& operator=(ZipWriter&&) noexcept = default;
    ZipWriter(const ZipWriter&) = delete;
    ZipWriter& operator=(const ZipWriter&) = delete;
    /// Removes the temp file unless finish() succeeded.
    ~ZipWriter();

    /// Appends the bytes `src_fd` reads until end of file as entry `name` ('/'-separated) with
    /// Unix permission bits `mode`, deflated when `deflate`. When `expected_sha256` is non-empty
    /// the bytes are hashed on the way and a mismatch fails with DATA_LOSS (a damaged blob is
    /// never exported as valid). OUT_OF_RANGE past the plain zip limits.
    Status add(std::string_view name, int src_fd, unsigned mode, bool deflate,
               std::string_view expected_sha256 = {});
    /// Writes the central directory, fsyncs and renames the archive into place.
    Status finish();

private:
    struct Entry {
        std::string name;
        std::uint16_t method = 0;
        std::uint32_t crc = 0;
        std::uint32_t compressed = 0;
        std::uint32_t size = 0;
        std::uint32_t offset = 0;
        std::uint32_t mode = 0;
    };

    ZipWriter(std::filesystem::path path, std::filesystem::path temp, UniqueFd fd);
    Status write(const void* data, std::size_t n);

    std::filesystem::path path_;
    std::filesystem::path temp_;
    UniqueFd fd_;
    std::uint64_t offset_ = 0;
    std::vector<Entry> entries_;
    std::uint16_t dos_time_ = 0;
    std::uint16_t dos_date_ = 0;
    bool finished_ = false;
};

}  // namespace runicorn::dedup
