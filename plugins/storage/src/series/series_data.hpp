#pragma once

// The in-memory column store of one run's metrics (FORMAT.md §7.5 item 4): what the parser
// appends to, what the cache file persists, what the queries read. Internal to the series library.

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "downsample.hpp"
#include "series_types.hpp"

namespace runicorn::storage::series {

/// Step of a record that has neither a valid `global_step` nor a valid `step`.
inline constexpr std::int64_t kNoStep = std::numeric_limits<std::int64_t>::min();
/// "No string" (e.g. a record without a stage).
inline constexpr std::uint32_t kNoString = 0xFFFFFFFFU;

/// How a numeric point was written: bools are points with value 1/0, integers are exact up to 2^53.
enum class PointKind : std::uint8_t { kDouble = 0, kInt = 1, kBool = 2 };

/// A non-numeric value of a key: null or a string (an index into SeriesData::strings).
/// Persisted as is: 24 bytes, explicit padding, always zeroed.
struct SideEntry {
    std::uint32_t ordinal = 0;
    std::uint32_t str = kNoString;  ///< kNoString: the value was JSON null
    std::int64_t step = kNoStep;
    std::uint8_t pad[8] = {};
};
static_assert(sizeof(SideEntry) == 24);

/// Transparent string hashing for heterogeneous lookup by string_view.
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

/// Everything known about one key. "Raw" members are persisted; the rest is derived by
/// SeriesData::derive().
struct KeyData {
    std::string name;

    // Raw, in log order.
    std::vector<std::int64_t> step;      ///< kNoStep when the record had none
    std::vector<double> value;           ///< NaN/±Inf bit-exact
    std::vector<std::uint32_t> ordinal;  ///< metrics-record ordinal
    std::vector<PointKind> kind;         ///< empty while every point is kDouble
    std::vector<SideEntry> side;         ///< non-numeric values

    // Derived.
    std::uint64_t nonfinite_count = 0;
    std::uint64_t finite_count = 0;
    std::uint64_t no_step_points = 0;
    double min = 0.0;  ///< valid when finite_count > 0
    double max = 0.0;
    bool step_sorted = true;  ///< points' steps non-decreasing (kNoStep points ignored)
    bool time_sorted = true;  ///< points' record times non-decreasing and not NaN
    bool dense = true;        ///< ordinal[i] == i for every point (a value in every record)
    std::vector<std::uint32_t> nonfinite;  ///< positions of non-finite points
    MinMaxPyramid pyramid;
    std::int64_t last_point_step = kNoStep;  ///< last point step other than kNoStep
    double last_point_time = -std::numeric_limits<double>::infinity();

    // The COMPAT merged column (API.md §2.3 rule 2): while `strict`, every entry (point or side,
    // log order) has a step greater than the one before, so the merged column is the key's own
    // arrays. Otherwise merged_step/merged_ref hold the winner per step (ref: point position, or
    // side position | kSideBit).
    static constexpr std::uint32_t kSideBit = 0x80000000U;
    bool strict = true;
    bool merged_dirty = false;
    std::int64_t last_entry_step = kNoStep;
    std::uint64_t entries_with_step = 0;
    std::vector<std::int64_t> merged_step;
    std::vector<std::uint32_t> merged_ref;

    // Parser bookkeeping: the ordinal that wrote the last entry, to apply "last duplicate wins".
    std::uint32_t last_record = kNoIndex;
    bool last_was_side = false;

    PointKind kind_at(std::size_t i) const { return kind.empty() ? PointKind::kDouble : kind[i]; }
};

/// Where the derived structures stood before an append; derive() continues from here.
struct DeriveMark {
    std::vector<std::size_t> points;  ///< per key
    std::vector<std::size_t> sides;   ///< per key
    std::size_t records = 0;
};

/// One run's metrics as columns. Thread safety: externally synchronized (RunSeries guards it).
class SeriesData {
public:
    // Raw, per metrics record (ordinal = index).
    std::vector<double> record_time;          ///< data.time, else ts, else NaN
    std::vector<std::int64_t> record_step;    ///< kNoStep when none
    std::vector<std::uint32_t> record_stage;  ///< string id of data.stage, else kNoString

    std::vector<KeyData> keys;
    std::vector<std::string> strings;  ///< interned string values (stages included)

    ReadStats stats;

    // Derived.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> stage_changes;  ///< (ordinal, stage)
    std::vector<std::uint32_t> stage_order;  ///< distinct stages, first appearance first
    std::vector<std::int64_t> row_steps;     ///< sorted distinct steps (COMPAT rows)
    bool rows_strict = true;                 ///< steps of records strictly increasing in log order
    std::int64_t last_record_step = kNoStep;

    /// Returns the id of key `name`, creating it.
    std::uint32_t key_id(std::string_view name);
    /// Returns the id of key `name` or kNoIndex.
    std::uint32_t find_key(std::string_view name) const;
    /// Returns the id of string `s`, interning it.
    std::uint32_t string_id(std::string_view s);
    /// Returns the id of string `s` or kNoString.
    std::uint32_t find_string(std::string_view s) const;

    /// Records the sizes the derived structures cover; pass it to derive() after appending.
    DeriveMark mark() const;
    /// Brings every derived structure up to date with the raw arrays (appended since `from`).
    void derive(const DeriveMark& from);
    /// Rebuilds the key and string lookup tables from `keys` and `strings` (after loading).
    void rebuild_lookup();

private:
    void derive_key(KeyData& k, std::size_t old_points, std::size_t old_sides);
    void rebuild_merged(KeyData& k) const;

    std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> key_index_;
    std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> string_index_;
    std::vector<bool> stage_seen_;
};

}  // namespace runicorn::storage::series
