#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/object.hpp>
#include <spdlog/logger.h>

#include <runicorn/plugin/run_store.hpp>
#include <runicorn/result.hpp>

#include "file_io.hpp"
#include "liveness.hpp"

namespace runicorn::storage {

/// The stamps of the files a RunInfo is made of, as read_run_folder() read them; nullopt for a
/// file that was absent. Equal stamps mean an unchanged RunInfo (apart from liveness).
struct RunFileStamps {
    std::optional<FileStamp> meta;
    std::optional<FileStamp> status;
    std::optional<FileStamp> summary;
    std::optional<FileStamp> assets;
    std::optional<FileStamp> deleted;

    /// A compact text form for the catalog's change detection, e.g.
    /// "m123.1736935200000000000.77;s-;u-;a-;d-" (size.mtime_ns.inode, "-" for an absent file).
    std::string signature() const;
};

/// How read_run_folder() treats a run that says "running".
struct ReadRunOptions {
    bool check_liveness = true;           ///< Run the check of FORMAT.md §7.2.
    HeartbeatTracker* tracker = nullptr;  ///< Earlier heartbeat observations; may be null.
    const LocalHost* local = nullptr;     ///< The host to compare with; null: LocalHost::current().
    /// When not null, receives the stamps of the files read. When the liveness check rewrote
    /// status.json, the stamp is that of the rewritten file.
    RunFileStamps* stamps = nullptr;
};

/// Reads one run folder into a RunInfo (see RunStore::read_run for the contract). The files are
/// read through a descriptor of the folder; `info.location.deleted` is set from whether
/// `.deleted` exists now, whatever `location.deleted` said. Warnings go to `log`, which may be
/// null.
Result<plugin::RunInfo> read_run_folder(const plugin::RunLocation& location,
                                        const ReadRunOptions& options, spdlog::logger* log);

/// The number of assets by the counting rule of FORMAT.md §4.6: 1 when `code.snapshot` is an
/// object, 1 when `config` is a non-empty object, plus the lengths of the `datasets`,
/// `pretrained` and `outputs` arrays. Missing sections and wrong types count 0.
std::int64_t count_assets(const boost::json::object& assets);

}  // namespace runicorn::storage
