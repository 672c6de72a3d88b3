#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "series_data.hpp"

namespace runicorn::storage::series {

/// Lines longer than this (without the '\n') are skipped and counted (FORMAT.md §4.4).
inline constexpr std::size_t kMaxLineBytes = std::size_t{16} << 20;
/// Bytes that must be readable after the data handed to EventsParser::parse_lines().
std::size_t parser_padding();

/// Parses whole events.jsonl lines into a SeriesData (FORMAT.md §4.4 reader rules): blank lines
/// skipped; lines that are not one JSON object, or longer than 16 MiB, skipped and counted in
/// SeriesData::stats with one warning per file (path and line number of the first); records
/// whose `type` is not "metrics" or whose `data` is not an object ignored; NaN, Infinity,
/// -Infinity, overflowing literals and integers outside int64 accepted (G3); duplicate keys: the
/// last one wins (G7). Step = data.global_step, else data.step (integral floats accepted). Keys
/// `global_step` and `step` are not stored; array and object values are dropped; bools are points
/// with value 1/0.
///
/// Fast path: simdjson On-Demand over windows of many lines, values written straight into the
/// columns; a record is kept once the next document proves it spanned exactly its line, else it
/// is undone and its line parsed alone. A line simdjson refuses goes through TolerantLineParser.
///
/// Thread safety: externally synchronized; appends to `out` without locking.
class EventsParser {
public:
    /// `log` may be null. `path` names the file in the bad-line warning.
    EventsParser(SeriesData& out, spdlog::logger* log, std::string path);
    ~EventsParser();
    EventsParser(const EventsParser&) = delete;
    EventsParser& operator=(const EventsParser&) = delete;
    EventsParser(EventsParser&&) = delete;
    EventsParser& operator=(EventsParser&&) = delete;

    /// Parses [data, data + len): whole lines only, the last one ending in '\n', followed by at
    /// least parser_padding() readable bytes. `at_file_start`: the first line is line 1 (a UTF-8
    /// BOM is skipped). Updates out.stats (lines, records, bad lines; not the offset).
    void parse_lines(const char* data, std::size_t len, bool at_file_start);

    /// Counts one skipped line the reader did not buffer because it exceeds kMaxLineBytes.
    void skip_oversized_line();

    /// Tells a parser that started on an empty SeriesData how many bytes it will see in all, so
    /// it can size the columns once instead of growing them.
    void expect_bytes(std::uint64_t total);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace runicorn::storage::series
