#include <memory>

#include <runicorn/plugin/metric_series.hpp>
#include <runicorn/plugin/plugin.hpp>
#include <runicorn/plugin/run_store.hpp>

#include "folder_run_store.hpp"
#include "folder_watcher.hpp"
#include "series_service.hpp"
#include "storage_settings.hpp"

namespace runicorn::storage {
namespace {

/// Provides runicorn.run_store/1 over the storage root's run folders, and keeps its catalog
/// current with a FolderWatcher between start() and stop().
/// Thread safety: externally synchronized (lifecycle calls come from the kernel, one at a time).
class StoragePlugin final : public plugin::Plugin {
public:
    Status init(plugin::PluginContext& ctx) override {
        RUNICORN_ASSIGN_OR_RETURN(settings_, parse_storage_settings(ctx.config()));
        FolderRunStore::Options options;
        options.check_liveness = settings_.check_liveness;
        options.write_v06_index = settings_.write_v06_index;
        root_ = ctx.storage_root();
        log_ = ctx.logger();
        store_ = std::make_shared<FolderRunStore>(root_, log_, options);
        RUNICORN_RETURN_IF_ERROR(ctx.provide<plugin::RunStore>(store_));
        // The metric-series engine (API.md §2.3, §4.3), over the same store.
        return ctx.provide<plugin::MetricSeries>(
            std::make_shared<SeriesService>(store_, log_, SeriesService::Options{}));
    }

    Status start() override {
        if (!settings_.watch) {
            return Status::ok();
        }
        FolderWatcherCallbacks callbacks;
        callbacks.changed = [store = store_,
                             log = log_](const std::vector<std::filesystem::path>& dirs) {
            if (auto r = store->refresh_dirs(dirs); !r && log != nullptr) {
                log->warn("cannot update the run catalog: {}", r.error().message());
            }
        };
        callbacks.rescan = [store = store_, log = log_] {
            if (auto r = store->refresh(); !r && log != nullptr) {
                log->warn("cannot refresh the run catalog: {}", r.error().message());
            }
        };
        FolderWatcherOptions options;
        options.scan_interval = settings_.scan_interval;
        auto watcher = FolderWatcher::start(root_, options, std::move(callbacks), log_);
        if (!watcher) {
            // The store still answers; its catalog is refreshed on first use only.
            if (log_ != nullptr) {
                log_->warn("{}; new runs show up after a restart or `runicorn reindex`",
                           watcher.error().message());
            }
            return Status::ok();
        }
        watcher_ = std::move(*watcher);
        return Status::ok();
    }

    void stop() noexcept override { watcher_.reset(); }

private:
    StorageSettings settings_;
    std::filesystem::path root_;
    std::shared_ptr<spdlog::logger> log_;
    std::shared_ptr<FolderRunStore> store_;
    std::unique_ptr<FolderWatcher> watcher_;
};

}  // namespace
}  // namespace runicorn::storage

RUNICORN_DECLARE_PLUGIN(runicorn::storage::StoragePlugin)
