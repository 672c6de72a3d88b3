#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/logger.h>

#include <runicorn/plugin/metric_series.hpp>
#include <runicorn/plugin/run_store.hpp>

#include "storage_stats.hpp"

namespace runicorn::http_plugin::api {

/// What the run API routes are built from.
struct ApiOptions {
    std::shared_ptr<plugin::RunStore> store;  ///< May be null: store routes then answer 503.
    /// May be null: /api/health then has no "cache" object.
    std::shared_ptr<plugin::MetricSeries> series;
    std::filesystem::path storage_root;      ///< The viewer's storage root.
    std::filesystem::path config_dir;        ///< The per-user config directory (FORMAT.md §1.2).
    std::string version;                     ///< Our product version ("unknown" if not known).
    std::shared_ptr<spdlog::logger> logger;  ///< May be null.
};

/// The state the run API's handlers share: the options, the storage-statistics worker and the
/// lock over the per-user preference files. The handlers hold it by shared_ptr; the statistics
/// thread stops when the last handler lets go.
///
/// Thread safety: safe for concurrent use.
class ApiState {
public:
    explicit ApiState(ApiOptions options);
    ~ApiState() = default;
    ApiState(const ApiState&) = delete;
    ApiState& operator=(const ApiState&) = delete;
    ApiState(ApiState&&) = delete;
    ApiState& operator=(ApiState&&) = delete;

    const std::shared_ptr<plugin::RunStore>& store() const { return options_.store; }
    const std::shared_ptr<plugin::MetricSeries>& series() const { return options_.series; }
    const std::filesystem::path& storage_root() const { return options_.storage_root; }
    const std::filesystem::path& config_dir() const { return options_.config_dir; }
    const std::string& version() const { return options_.version; }
    const std::shared_ptr<spdlog::logger>& logger() const { return options_.logger; }
    /// Null when there is no store.
    StorageStatsCache* stats() const { return stats_.get(); }
    /// Serialises read-modify-write of config.json and ui_preferences.json within this process
    /// (other processes are kept out by the files' locks).
    std::mutex& prefs_mutex() const { return prefs_mu_; }

private:
    ApiOptions options_;
    std::unique_ptr<StorageStatsCache> stats_;
    mutable std::mutex prefs_mu_;
};

}  // namespace runicorn::http_plugin::api
