#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

struct archive;

namespace runicorn::http_plugin::archive {

/// The container formats the exporters write.
enum class ArchiveFormat { kTarGz, kZip };

/// How add_file() cuts a source file.
enum class ReadCut {
    kWhole,        ///< The whole file as it is when opened.
    kLastNewline,  ///< Up to and including its last '\n' (append files: events.jsonl, logs.txt).
};

/// Writes a tar.gz (pax) or a zip (deflate) archive through libarchive straight into a BodySink,
/// entry by entry, so an export never exists as a whole in memory or on disk.
///
/// Sources are read consistently: each file is opened once (O_NOFOLLOW) and its size taken from
/// that descriptor, so an atomically replaced JSON file is read whole in one version and an
/// append file up to a fixed length. Thread safety: externally synchronized (one producer).
class ArchiveWriter {
public:
    /// Starts an archive that writes to `sink`. The sink must outlive the writer.
    static Result<std::unique_ptr<ArchiveWriter>> open(ArchiveFormat format,
                                                       plugin::BodySink& sink);
    ~ArchiveWriter();
    ArchiveWriter(const ArchiveWriter&) = delete;
    ArchiveWriter& operator=(const ArchiveWriter&) = delete;
    ArchiveWriter(ArchiveWriter&&) = delete;
    ArchiveWriter& operator=(ArchiveWriter&&) = delete;

    /// Adds a regular file entry `name` holding `bytes`.
    Status add_bytes(std::string_view name, std::string_view bytes);
    /// Adds the regular file `src` as entry `name`. NOT_FOUND when it vanished (callers skip it),
    /// INVALID_ARGUMENT when it is not a regular file (symlinks are not followed), CANCELLED when
    /// the client went away, DATA_LOSS when the file shrank while being read.
    Status add_file(std::string_view name, const std::filesystem::path& src, ReadCut cut);
    /// Writes the archive's trailer. Call once after the last entry; the destructor of an
    /// unfinished writer only releases it.
    Status finish();

    /// Bytes handed to the sink so far.
    std::uint64_t bytes_written() const { return written_; }

private:
    ArchiveWriter(ArchiveFormat format, plugin::BodySink& sink);
    Status header(std::string_view name, std::uint64_t size, unsigned mode, std::int64_t mtime);
    Status data(const char* bytes, std::size_t size);
    Status failure(std::string_view what) const;

    struct Callbacks;  // libarchive's C callbacks
    friend struct Callbacks;

    ArchiveFormat format_;
    plugin::BodySink* sink_;
    struct ::archive* archive_ = nullptr;
    bool client_gone_ = false;
    bool finished_ = false;
    std::uint64_t written_ = 0;
};

}  // namespace runicorn::http_plugin::archive
