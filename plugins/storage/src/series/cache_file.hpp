#pragma once

// On-disk form of the per-run metric cache (FORMAT.md §7.5), internal to the series library.
//
// Layout of <root>/index/series/<run_key[0:2]>/<run_key>/:
//   header.json        the commit point: version, source identity and checksums, read counters,
//                      and how many elements of each data file are valid; replaced by rename
//   rec_time.bin       f64 per metrics record      rec_step.bin   i64 per record
//   rec_stage.bin      u32 string id per record    strings.bin    (u32 length, bytes)*
//   k<id>.step / .value / .ord / .kind / .side      per key: i64, f64, u32, u8, 24-byte SideEntry
//   lock               flock()ed by the one process that writes
// Little-endian host layout; a reader on another architecture fails the version check.

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

#include "series_data.hpp"

namespace runicorn::storage::series {

inline constexpr std::size_t kChecksumSpan = 4096;

/// Identity of the consumed part of events.jsonl (FORMAT.md §7.5 item 2).
struct SourceMark {
    bool valid = false;
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
    std::uint64_t head_len = 0;  ///< min(4096, offset)
    std::uint64_t head_sum = 0;  ///< checksum of bytes [0, head_len)
    std::uint64_t tail_len = 0;  ///< min(4096, offset)
    std::uint64_t tail_sum = 0;  ///< checksum of bytes [offset - tail_len, offset)
};

/// How much of each data file a header covers.
struct SavedCounts {
    bool on_disk = false;  ///< false: the next save rewrites every file from the start
    std::uint64_t records = 0;
    std::uint64_t strings = 0;
    std::uint64_t strings_bytes = 0;
    struct Key {
        std::uint64_t points = 0;
        std::uint64_t sides = 0;
        std::uint64_t kinds = 0;
    };
    std::vector<Key> keys;
};

/// 64-bit FNV-1a; stable across versions (it is persisted).
std::uint64_t checksum(std::string_view bytes);

/// Appends what `d` holds beyond `saved` to the files in `dir`, syncs them, then replaces
/// header.json (tmp file + fsync + rename + directory fsync) and updates `saved`. When
/// !saved.on_disk the old header is removed first and every file rewritten. UNAVAILABLE when
/// another process holds `dir`/lock; INTERNAL on I/O errors, naming the file.
Status save_cache(const std::filesystem::path& dir, const SeriesData& d, const SourceMark& mark,
                  SavedCounts& saved);

/// Loads the cache in `dir` into `d` (raw columns, then every derived structure) and returns the
/// mark it was built from. NOT_FOUND when there is no header; DATA_LOSS when the header is
/// unreadable, of another version, or covers more than a data file holds.
Result<SourceMark> load_cache(const std::filesystem::path& dir, SeriesData& d, SavedCounts& saved);

}  // namespace runicorn::storage::series
