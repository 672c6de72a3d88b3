#pragma once

#include <chrono>

#include <boost/json/object.hpp>

#include <runicorn/result.hpp>

namespace runicorn::storage {

/// The storage plugin's settings, `runicorn_cpp.plugins.storage` of config.json.
struct StorageSettings {
    /// Run the liveness check of FORMAT.md §7.2 when reading a "running" run.
    bool check_liveness = true;
    /// Keep the catalog current with inotify while the plugin runs (FolderWatcher).
    bool watch = true;
    /// The fallback full refresh of the catalog, also run after an inotify queue overflow.
    std::chrono::milliseconds scan_interval{60'000};
    /// Keep Runicorn v0.6's asset index index/runicorn.db in step with the runs this plugin
    /// writes and manages (FORMAT.md §6). The SDK sets it from
    /// `runicorn_cpp.sdk.write_runicorn_index`.
    bool write_v06_index = true;
};

/// Reads the settings from the plugin's config object; unknown keys are ignored. A value of the
/// wrong type gives INVALID_ARGUMENT naming its JSON pointer, e.g. "invalid setting
/// '/scan_interval_s' of plugin 'storage': expected a number of seconds greater than 0".
Result<StorageSettings> parse_storage_settings(const boost::json::object& config);

}  // namespace runicorn::storage
