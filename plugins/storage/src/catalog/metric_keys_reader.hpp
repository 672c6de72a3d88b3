#pragma once

#include <cstddef>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>

#include <runicorn/result.hpp>

#include "catalog.hpp"

namespace runicorn::storage::series {
class RunSeries;
}  // namespace runicorn::storage::series

namespace runicorn::storage::catalog {

/// The per-key summaries of a run's events.jsonl for the catalog's run_metric_keys (FORMAT.md
/// §7.4, §7.5 item 5), read through the metric-series engine (series::RunSeries; no second events
/// parser). The RunSeries of the most recently read runs are kept, so a run whose file grows is
/// parsed only from where the last read stopped; the others are parsed from the start when read
/// again (a rebuild). Memory only: nothing is written.
///
/// Thread safety: safe for concurrent use (the map has a mutex; RunSeries is safe for concurrent
/// use, and a refresh runs outside the map's mutex).
class MetricKeysReader {
public:
    /// `log` (may be null) receives the bad-line warnings; `max_runs` RunSeries are kept.
    explicit MetricKeysReader(std::shared_ptr<spdlog::logger> log, std::size_t max_runs = 64);
    ~MetricKeysReader();
    MetricKeysReader(const MetricKeysReader&) = delete;
    MetricKeysReader& operator=(const MetricKeysReader&) = delete;
    MetricKeysReader(MetricKeysReader&&) = delete;
    MetricKeysReader& operator=(MetricKeysReader&&) = delete;

    /// The summaries of `run_dir`/events.jsonl, one per key in order of first appearance
    /// (`global_step` and `step` excluded). A missing file is a run without metrics. I/O errors
    /// come back as the engine reports them.
    Result<std::vector<MetricKeyStats>> read(const std::filesystem::path& run_dir);

    /// Drops every kept RunSeries (the store switched roots).
    void clear();

private:
    struct Entry {
        std::shared_ptr<series::RunSeries> series;
        std::list<std::string>::iterator lru;
    };

    std::shared_ptr<spdlog::logger> log_;
    const std::size_t max_runs_;
    std::mutex mu_;  // guards runs_, lru_
    std::unordered_map<std::string, Entry> runs_;
    std::list<std::string> lru_;  // most recently read first
};

}  // namespace runicorn::storage::catalog
