#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include <spdlog/logger.h>

#include <runicorn/plugin/run_store.hpp>
#include <runicorn/result.hpp>

#include "liveness.hpp"

namespace runicorn::storage {

/// The run store over plain run folders under one storage root, laid out as Runicorn v0.6 does
/// (FORMAT.md §2–§4): discovery, reading (with the liveness check of §7.2) and writing through
/// FolderRunWriter.
///
/// Thread safety: safe for concurrent use (file-system state is guarded by the file locks of
/// FORMAT.md §4.11; the heartbeat observations by their own mutex).
class FolderRunStore final : public plugin::RunStore {
public:
    struct Options {
        bool check_liveness = true;  ///< Plugin setting `check_liveness`.
    };

    /// `log` receives warnings; null means none are logged.
    FolderRunStore(std::filesystem::path root, std::shared_ptr<spdlog::logger> log,
                   Options options);
    FolderRunStore(std::filesystem::path root, std::shared_ptr<spdlog::logger> log)
        : FolderRunStore(std::move(root), std::move(log), Options{}) {}

    std::filesystem::path root() const override { return root_; }
    Result<std::vector<plugin::RunLocation>> discover_runs(bool include_deleted) const override;
    Result<std::shared_ptr<plugin::RunWriter>> open_run(
        const plugin::RunCreateOptions& options) const override;
    Result<plugin::RunInfo> read_run(const plugin::RunLocation& location) const override;

private:
    std::filesystem::path root_;
    std::shared_ptr<spdlog::logger> log_;
    Options options_;
    LocalHost local_;
    mutable HeartbeatTracker tracker_;
};

}  // namespace runicorn::storage
