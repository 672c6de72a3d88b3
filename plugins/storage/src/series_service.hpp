#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>

#include <runicorn/plugin/metric_series.hpp>
#include <runicorn/plugin/run_store.hpp>

namespace runicorn::storage::series {
class RunSeries;
}  // namespace runicorn::storage::series

namespace runicorn::storage {

/// The runicorn.metric_series/1 service over the runicorn_series engine: one RunSeries per run
/// folder, kept in a bounded least-recently-read map, refreshed on every read (only appended
/// bytes are parsed) and, with `persist`, saved under `<root>/index/series/` (FORMAT.md §7.5).
///
/// Thread safety: safe for concurrent use. The map has its own mutex; a RunSeries is refreshed
/// and queried outside it (RunSeries is safe for concurrent use).
class SeriesService final : public plugin::MetricSeries {
public:
    struct Options {
        std::size_t max_runs = 64;  ///< runs held in memory
        bool persist = true;        ///< save caches under <root>/index/series/
    };

    /// `store` resolves run ids; `log` (may be null) receives cache warnings.
    SeriesService(std::shared_ptr<const plugin::RunStore> store,
                  std::shared_ptr<spdlog::logger> log, Options options);
    ~SeriesService() override;
    SeriesService(const SeriesService&) = delete;
    SeriesService& operator=(const SeriesService&) = delete;
    SeriesService(SeriesService&&) = delete;
    SeriesService& operator=(SeriesService&&) = delete;

    Result<plugin::MetricRowsView> compat_rows(std::string_view run_id,
                                               std::optional<std::int64_t> downsample) override;
    Result<boost::json::object> metric_keys(std::string_view run_id) override;
    Result<boost::json::object> series(std::string_view run_id,
                                       const plugin::SeriesRequest& request) override;
    Result<boost::json::object> series_many(const std::vector<std::string>& run_ids,
                                            const plugin::SeriesRequest& request) override;
    Result<boost::json::object> media(std::string_view run_id,
                                      const plugin::MediaQuery& query) override;
    plugin::SeriesCacheStats cache_stats() const override;
    Result<plugin::RecordBatch> read_records(const std::filesystem::path& run_dir,
                                             std::string_view cursor, std::size_t max_bytes,
                                             bool with_raw) const override;

private:
    struct Entry {
        std::shared_ptr<series::RunSeries> series;
        std::list<std::string>::iterator lru;
    };

    /// The run's RunSeries, brought up to date (counts a hit, miss or incremental update).
    Result<std::shared_ptr<series::RunSeries>> fresh_series(const plugin::RunInfo& run);
    Result<plugin::RunInfo> find(std::string_view run_id) const;
    Result<boost::json::object> series_for(const plugin::RunInfo& run,
                                           const plugin::SeriesRequest& request);

    const std::shared_ptr<const plugin::RunStore> store_;
    const std::shared_ptr<spdlog::logger> log_;
    const Options options_;

    mutable std::mutex mu_;  // guards everything below
    std::unordered_map<std::string, Entry> runs_;
    std::list<std::string> lru_;  // most recently read first
    std::uint64_t hits_ = 0;
    std::uint64_t misses_ = 0;
    std::uint64_t incremental_ = 0;
};

/// Encodes a read position of events.jsonl (file identity and byte offset) as an opaque cursor.
std::string encode_series_cursor(std::uint64_t dev, std::uint64_t ino, std::uint64_t offset);

/// Decodes encode_series_cursor(); nullopt when `cursor` is not one.
struct SeriesCursor {
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
    std::uint64_t offset = 0;
};
std::optional<SeriesCursor> decode_series_cursor(std::string_view cursor);

}  // namespace runicorn::storage
