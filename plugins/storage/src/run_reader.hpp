#pragma once

#include <cstdint>

#include <boost/json/object.hpp>
#include <spdlog/logger.h>

#include <runicorn/plugin/run_store.hpp>
#include <runicorn/result.hpp>

#include "liveness.hpp"

namespace runicorn::storage {

/// How read_run_folder() treats a run that says "running".
struct ReadRunOptions {
    bool check_liveness = true;           ///< Run the check of FORMAT.md §7.2.
    HeartbeatTracker* tracker = nullptr;  ///< Earlier heartbeat observations; may be null.
    const LocalHost* local = nullptr;     ///< The host to compare with; null: LocalHost::current().
};

/// Reads one run folder into a RunInfo (see RunStore::read_run for the contract). Warnings go to
/// `log`, which may be null.
Result<plugin::RunInfo> read_run_folder(const plugin::RunLocation& location,
                                        const ReadRunOptions& options, spdlog::logger* log);

/// The number of assets by the counting rule of FORMAT.md §4.6: 1 when `code.snapshot` is an
/// object, 1 when `config` is a non-empty object, plus the lengths of the `datasets`,
/// `pretrained` and `outputs` arrays. Missing sections and wrong types count 0.
std::int64_t count_assets(const boost::json::object& assets);

}  // namespace runicorn::storage
