#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

namespace runicorn::http_plugin::api {

/// True for a zip entry name a reader can extract safely (API.md §2.2): not empty, relative
/// (no leading '/'), no drive letter, no backslash, no NUL or other control character, no empty,
/// "." or ".." segment, at most 4,096 bytes.
bool valid_zip_entry_name(std::string_view name);

/// Writes a zip archive to a BodySink as it goes: no temp file, no seeking, memory per entry only
/// for its central-directory record. Every entry is stored (method 0, so any unzip reads it and
/// nothing is spent compressing checkpoints and blobs that rarely shrink); the CRC-32 and sizes
/// follow the data in a data descriptor (flag bit 3); names are UTF-8 (flag bit 11); ZIP64
/// records are added where an entry's size, an offset, the directory or the entry count needs
/// them (files over 4 GiB, archives over 4 GiB, more than 65,535 entries). Unix modes are kept
/// (0644, or 0755 for executables).
///
/// Thread safety: externally synchronized (one producer thread).
class ZipStreamWriter {
public:
    explicit ZipStreamWriter(plugin::BodySink& sink) : sink_(sink) {}
    ZipStreamWriter(const ZipStreamWriter&) = delete;
    ZipStreamWriter& operator=(const ZipStreamWriter&) = delete;
    ZipStreamWriter(ZipStreamWriter&&) = delete;
    ZipStreamWriter& operator=(ZipStreamWriter&&) = delete;
    ~ZipStreamWriter() = default;

    /// Adds an entry holding exactly `size` bytes of the open file `fd`, read with pread() from
    /// offset 0. INVALID_ARGUMENT for a name valid_zip_entry_name() refuses; DATA_LOSS when the
    /// file ends before `size` bytes; UNAVAILABLE on a read error; CANCELLED when the sink refuses
    /// bytes (the client is gone). After an error the archive is unusable: stop writing.
    Status add_file(std::string_view name, int fd, std::uint64_t size, std::int64_t mtime,
                    bool executable = false);

    /// Adds an entry holding `bytes` (same errors as add_file()).
    Status add_bytes(std::string_view name, std::string_view bytes, std::int64_t mtime);

    /// Writes the central directory and the end records. Call once, after the last entry.
    Status finish();

    /// Bytes handed to the sink so far.
    std::uint64_t bytes_written() const noexcept { return offset_; }

private:
    struct Entry {
        std::string name;
        std::uint32_t crc = 0;
        std::uint64_t size = 0;
        std::uint64_t offset = 0;  // of the local header
        std::uint16_t dos_time = 0;
        std::uint16_t dos_date = 0;
        std::uint32_t mode = 0;
        bool zip64 = false;  // the local header carries a ZIP64 extra field
    };

    Status begin_entry(std::string_view name, std::uint64_t size, std::int64_t mtime,
                       bool executable, Entry& entry);
    Status end_entry(Entry entry);
    Status put(std::string_view bytes);

    plugin::BodySink& sink_;
    std::vector<Entry> entries_;
    std::uint64_t offset_ = 0;
    bool failed_ = false;
    bool finished_ = false;
};

}  // namespace runicorn::http_plugin::api
