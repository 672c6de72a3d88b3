#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <runicorn/export.hpp>
#include <runicorn/result.hpp>

namespace runicorn::plugin {

/// The COMPAT row view of one run (API.md §2.3), ready to send.
struct MetricRowsView {
    /// {"columns", "rows", "total", "sampled"}; NaN/±Inf are already null.
    boost::json::object body;
    std::uint64_t row_count = 0;            ///< X-Row-Count
    std::uint64_t total = 0;                ///< X-Total-Count
    std::optional<std::int64_t> last_step;  ///< X-Last-Step (absent when there are no rows)
};

/// A series query (API.md §4.3). Text fields carry the request's own spelling so that the
/// service validates them in one place.
struct SeriesRequest {
    std::vector<std::string> keys;  ///< empty: every numeric key (at most 100)
    std::string x = "step";         ///< "step" / "time" / "relative_time"
    std::string method = "lttb";    ///< "lttb" / "minmax" / "none"
    std::int64_t points = 1000;     ///< 10..50,000
    std::optional<std::string> stage;
    std::optional<double> x_min;
    std::optional<double> x_max;
};

/// A media listing query (API.md §4.4).
struct MediaQuery {
    std::optional<std::string> key;
    std::optional<std::int64_t> step_min;  ///< compared with the record's `step`
    std::optional<std::int64_t> step_max;
    std::int64_t limit = 200;  ///< 1..1000
    std::string cursor;        ///< "" or a next_cursor of an earlier page
};

/// The series cache counters (API.md §2.1 `/api/metrics/cache/stats`, `/api/health`).
struct SeriesCacheStats {
    std::uint64_t size = 0;      ///< runs held in memory
    std::uint64_t max_size = 0;  ///< most runs held before the least recently read is dropped
    std::uint64_t hits = 0;      ///< reads answered without parsing new bytes
    std::uint64_t misses = 0;    ///< reads that had to load or build a run's cache
    std::uint64_t incremental_updates = 0;  ///< reads that parsed only appended bytes
};

/// One metrics record of events.jsonl in log order (no merging by step), as the live streams and
/// the long-form export send it (API.md §3.2 `rows`).
struct MetricRecord {
    std::optional<std::int64_t> global_step;  ///< data.global_step, else data.step
    std::optional<double> time;               ///< data.time, else ts
    std::optional<std::string> stage;
    /// The other keys of `data` (global_step, step, time and stage excluded), in record order:
    /// finite numbers as numbers, NaN/±Inf as "NaN"/"Infinity"/"-Infinity", strings, booleans
    /// and null as they are; arrays and objects left out.
    boost::json::object values;
    std::string raw;  ///< the line as stored (without '\n'), only when asked for
};

/// What RecordReader-style reads return.
struct RecordBatch {
    std::vector<MetricRecord> records;
    /// Where the next read continues (opaque; encodes file identity and byte offset).
    std::string cursor;
    /// The cursor did not match the file (another file, or the file shrank): the read started
    /// over from byte 0 and the caller should drop what it showed (API.md §3.2 `reset`).
    bool reset = false;
    /// True when the read reached the last complete line of the file.
    bool at_end = true;
};

/// The metric-series engine of the storage plugin (FORMAT.md §4.4, §7.5; API.md §2.3, §4.3, §4.4)
/// as a service: reads each run's events.jsonl incrementally into a per-run column cache and
/// answers the row, series, key and media views from it.
///
/// Run ids are resolved among non-deleted runs like RunStore::find_run(); an unknown id fails
/// with NOT_FOUND "Run not found". Parameter errors fail with INVALID_ARGUMENT and a message
/// that starts with the parameter name and a colon ("downsample: Input should be greater than or
/// equal to 100"), which the HTTP routes turn into 422 with loc ["query", "<name>"]. I/O errors
/// are UNAVAILABLE or INTERNAL naming the file.
///
/// Thread safety: safe for concurrent use.
class RUNICORN_PLUGIN_API MetricSeries {
public:
    static constexpr std::string_view kServiceId = "runicorn.metric_series/1";

    virtual ~MetricSeries() = default;
    MetricSeries(const MetricSeries&) = delete;
    MetricSeries& operator=(const MetricSeries&) = delete;
    MetricSeries(MetricSeries&&) = delete;
    MetricSeries& operator=(MetricSeries&&) = delete;

    /// `GET /api/runs/{id}/metrics_step` (API.md §2.3): brings the run's cache up to date and
    /// returns the merged rows, downsampled when `downsample` is given (100..50,000, else
    /// INVALID_ARGUMENT "downsample: ...").
    virtual Result<MetricRowsView> compat_rows(std::string_view run_id,
                                               std::optional<std::int64_t> downsample) = 0;

    /// `GET /api/runs/{id}/metric-keys` (API.md §4.3): {"run_id", "keys": [{"key", "count",
    /// "numeric", "nonfinite", "first_step", "last_step", "last", "min", "max"}], "stages",
    /// "last_step", "cursor"}; non-finite `last` as a string. `cursor` is where a live read of
    /// new records (read_records) continues.
    virtual Result<boost::json::object> metric_keys(std::string_view run_id) = 0;

    /// `GET /api/runs/{id}/series` (API.md §4.3): {"run_id", "x", "method", "points", "series":
    /// [{"key", "total", "returned", "nonfinite_total", "x", "y", "stages", "found",
    /// "truncated"?}], "last_step", "last_time", "cursor"}; non-finite y as strings.
    /// INVALID_ARGUMENT "x: ...", "method: ...", "points: ...", "keys: ..." (more than 100),
    /// "x_min: ..." (x_min > x_max).
    virtual Result<boost::json::object> series(std::string_view run_id,
                                               const SeriesRequest& request) = 0;

    /// `POST /api/series/query` (API.md §4.3): {"results": [{"run_id", "series", ...}], "errors":
    /// {"<id>": "Run not found"}} with one result per found run, in request order. The request is
    /// validated once (INVALID_ARGUMENT as series(); "runs: ..." for more than 50 ids); a run
    /// that fails for another reason lands in `errors` with its message.
    virtual Result<boost::json::object> series_many(const std::vector<std::string>& run_ids,
                                                    const SeriesRequest& request) = 0;

    /// `GET /api/runs/{id}/media` (API.md §4.4): {"run_id", "keys": [{"key", "count"}], "items":
    /// [...], "next_cursor"} from the run's `image` records in log order. `keys` counts every
    /// image record; `items` are those matching the filters, `limit` per page, each with
    /// "url": "/api/runs/<id>/media/<file>". INVALID_ARGUMENT "limit: ...", "cursor: ...".
    virtual Result<boost::json::object> media(std::string_view run_id, const MediaQuery& query) = 0;

    /// Counters of the in-memory series cache.
    virtual SeriesCacheStats cache_stats() const = 0;

    /// Reads the metrics records of `<run_dir>/events.jsonl` after `cursor` ("" = from the
    /// start), whole lines only, stopping after about `max_bytes` bytes (at least one line).
    /// A cursor of another file or past the file's end gives reset = true and a read from byte 0;
    /// a malformed cursor INVALID_ARGUMENT "cursor: ...". A missing file is an empty batch at
    /// the start. `with_raw` fills MetricRecord::raw. Does not touch the series cache.
    virtual Result<RecordBatch> read_records(const std::filesystem::path& run_dir,
                                             std::string_view cursor, std::size_t max_bytes,
                                             bool with_raw) const = 0;

protected:
    MetricSeries() = default;
};

}  // namespace runicorn::plugin
