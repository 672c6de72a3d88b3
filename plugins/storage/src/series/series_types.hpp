#pragma once

// Plain result and query types of the metric-series engine (FORMAT.md §7.5, API.md §2.3 and §4.3).
// No HTTP here: the routes turn these into JSON.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace runicorn::storage::series {

/// One cell of the COMPAT row view (API.md §2.3). NaN/±Inf arrive as kNull, as v0.6 sends them.
struct CompatValue {
    enum class Kind : std::uint8_t { kNull, kBool, kInt, kDouble, kString };
    Kind kind = Kind::kNull;
    bool b = false;      ///< kBool
    std::int64_t i = 0;  ///< kInt (and `global_step`)
    double d = 0.0;      ///< kDouble (finite; -0.0 kept)
    std::string s;       ///< kString (decoded UTF-8)

    friend bool operator==(const CompatValue&, const CompatValue&) = default;
};

/// The body of `GET /api/runs/{id}/metrics_step` (API.md §2.3). rows[r][c] belongs to columns[c];
/// columns[0] is "global_step" (kInt) whenever there are columns. `sampled` is rows.size() when a
/// downsample was requested, else `total`. Headers: X-Row-Count = rows.size(), X-Total-Count =
/// total, X-Last-Step = last_step (absent when there are no rows).
struct CompatTable {
    std::vector<std::string> columns;
    std::vector<std::vector<CompatValue>> rows;
    std::uint64_t total = 0;
    std::uint64_t sampled = 0;
    std::optional<std::int64_t> last_step;
};

/// The x axis of a series query (API.md §4.3).
enum class XAxis : std::uint8_t {
    kStep,          ///< global_step, else step; points of records without one are left out
    kTime,          ///< the record's `time`, else `ts`
    kRelativeTime,  ///< time − SeriesQuery::time_origin (default: the run's first record time)
};

/// Downsampling method of a series query.
enum class Method : std::uint8_t {
    kLttb,    ///< Largest-Triangle-Three-Buckets; keeps the first and last point
    kMinMax,  ///< points/2 equal-count buckets, each keeps its minimum and maximum
    kNone,    ///< every point, `points` as a hard cap (then `truncated`)
};

/// `GET /api/runs/{id}/series` parameters (API.md §4.3). Validated by RunSeries::series():
/// points must be in 10..50,000.
struct SeriesQuery {
    std::vector<std::string> keys;  ///< empty: every numeric key except `time`, at most 100
    XAxis x = XAxis::kStep;
    Method method = Method::kLttb;
    std::uint32_t points = 1000;
    std::optional<std::string> stage;   ///< keep only points of records with this stage
    std::optional<double> x_min;        ///< inclusive, in units of `x`
    std::optional<double> x_max;        ///< inclusive, in units of `x`
    std::optional<double> time_origin;  ///< for kRelativeTime: the run's started_at
};

/// One key's downsampled points, in log order (x is not merged by step). y keeps NaN/±Inf;
/// the NEW endpoints send them as "NaN"/"Infinity"/"-Infinity".
struct Series {
    std::string key;
    std::uint64_t total = 0;            ///< points matching the range and stage filters
    std::uint64_t returned = 0;         ///< == x.size()
    std::uint64_t nonfinite_total = 0;  ///< non-finite points among `total`
    bool truncated = false;             ///< Method::kNone hit the `points` cap
    bool found = false;                 ///< false: the run has no numeric point for this key
    std::vector<double> x;
    std::vector<double> y;
};

/// A stage change: from the record at x on, the stage is `stage` (empty string: no stage).
struct StageChange {
    double x = 0.0;
    std::string stage;
};

/// The answer to a series query. `stages` is the same for every key (run-level, in the query's x
/// units, restricted to the x range; capped at 10,000 entries, then `stages_truncated`).
struct SeriesResult {
    std::vector<Series> series;
    std::vector<StageChange> stages;
    bool stages_truncated = false;
    std::optional<std::int64_t> last_step;
    std::optional<double> last_time;
};

/// The per-key summary (FORMAT.md §7.5 item 5; API.md §4.3 `metric-keys`; catalog
/// `run_metric_keys`). Non-numeric values (strings, nulls) count in `count` only.
struct KeySummary {
    std::string key;
    std::uint64_t count = 0;            ///< every value, numeric or not
    std::uint64_t numeric_count = 0;    ///< numbers and booleans
    std::uint64_t nonfinite_count = 0;  ///< NaN/±Inf among numeric_count
    std::optional<std::int64_t> first_step;
    std::optional<std::int64_t> last_step;
    std::optional<double> last;  ///< last numeric value (may be non-finite)
    std::optional<double> min;   ///< finite minimum
    std::optional<double> max;   ///< finite maximum
};

/// How much of events.jsonl has been consumed, and what was skipped.
struct ReadStats {
    std::uint64_t offset = 0;          ///< bytes consumed (always just after a '\n')
    std::uint64_t lines = 0;           ///< complete lines consumed
    std::uint64_t records = 0;         ///< metrics records kept
    std::uint64_t bad_lines = 0;       ///< skipped: not a JSON object, or longer than 16 MiB
    std::uint64_t first_bad_line = 0;  ///< 1-based line number of the first bad line, 0: none
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
};

/// What a refresh did (for logs, tests and the benchmark).
struct RefreshInfo {
    bool rebuilt = false;           ///< the cache was thrown away and rebuilt from byte 0
    bool loaded_from_disk = false;  ///< the cache came from index/series/ (then validated)
    std::uint64_t bytes_parsed = 0;
    std::uint64_t records_added = 0;
};

}  // namespace runicorn::storage::series
