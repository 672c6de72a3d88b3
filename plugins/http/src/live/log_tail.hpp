#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <runicorn/result.hpp>

namespace runicorn::http_plugin::live {

/// Lines read from logs.txt by LogTailer.
struct LogChunk {
    std::vector<std::string> lines;  ///< complete lines, '\n'/'\r\n' stripped, blank ones left out,
                                     ///< invalid UTF-8 replaced by U+FFFD
    std::uint64_t first_line = 0;    ///< 1-based line number of the first line read
    std::uint64_t offset = 0;        ///< byte offset just after the last line read
    bool reset = false;              ///< the file shrank or was replaced: reading restarted at 0
};

/// Follows one run's logs.txt (FORMAT.md §4.5) for the log streams (API.md §3.1): replay of the
/// last N lines or from a byte offset, then every complete line appended. Reads only whole
/// lines; an unterminated last line waits for its '\n' (or flush_partial()).
///
/// Thread safety: externally synchronized (one stream session owns it, on its strand).
class LogTailer {
public:
    explicit LogTailer(std::filesystem::path path);

    /// True when the file exists now.
    bool exists() const;

    /// Positions the reader: at `since` (a byte offset from an earlier frame; past the end or on
    /// another file means from 0) or else at the start of the last `tail` complete lines.
    /// `count_lines`: compute line numbers (scans the part before the position). Returns true when
    /// the file holds more complete lines than `tail` (the replay is cut). A missing file
    /// positions at 0 and returns false.
    Result<bool> start(std::optional<std::uint64_t> since, std::size_t tail, bool count_lines);

    /// Reads the complete lines after the position, about `max_bytes` of them (a longer line
    /// comes whole, up to 16 MiB, beyond that cut). `more` says whether complete lines are left.
    Result<LogChunk> read(std::size_t max_bytes, bool& more);

    /// The unterminated tail of the file, if any, consumed as a line (the run ended).
    Result<std::optional<LogChunk>> flush_partial();

    std::uint64_t offset() const { return offset_; }

private:
    /// Reopens when the file was replaced; sets `reset` and rewinds when it shrank.
    Status check_identity(bool& reset, std::uint64_t& size);

    std::filesystem::path path_;
    std::uint64_t offset_ = 0;
    std::uint64_t line_no_ = 0;  // lines before offset_
    std::uint64_t dev_ = 0;
    std::uint64_t ino_ = 0;
    bool known_ = false;  // dev_/ino_ valid
};

/// Replaces invalid UTF-8 sequences in `text` by U+FFFD.
std::string sanitize_utf8(std::string_view text);

}  // namespace runicorn::http_plugin::live
