#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include <runicorn/plugin/run_store.hpp>

namespace runicorn::http_plugin::api {

/// The run-id rule of mutating endpoints (API.md §1.1): the custom-id rule
/// `^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$` without "..", which every generated id
/// (`^[0-9]{8}_[0-9]{6}_[0-9a-f]{6}$`) also meets.
bool valid_run_id(std::string_view run_id);

/// Which optional objects a RunListItem carries (API.md §4.1 `include`).
struct ItemIncludes {
    bool summary = false;
    bool config = false;  ///< assets.json "config" (read from the run folder), {} when absent.
    bool meta = false;
};

/// `liveness` of API.md §2.2: "alive", "stale", "dead", "unknown" or "ended" ("ended" for a
/// run whose status is not "running"; "unknown" for a running run that was not checked).
std::string liveness_name(const plugin::RunInfo& run);

/// `created_time`: meta.created_at, else the run folder's mtime; nullopt when neither is known.
std::optional<double> created_time(const plugin::RunInfo& run);

/// `duration`: ended_at (or `now` while running) minus started_at; nullopt without started_at.
std::optional<double> run_duration(const plugin::RunInfo& run, double now);

/// One RunListItem (API.md §2.2): the COMPAT fields first in v0.6 order (id, run_dir,
/// created_time, status, pid, best_metric_value, best_metric_name, path, alias, tags,
/// assets_count), then the NEW fields (started_at, ended_at, duration, exit_reason, liveness,
/// hostname, last_step, format_version), then the requested includes. Non-finite numbers are
/// null. `last_step` is null: the run store does not report it yet.
boost::json::object run_list_item(const plugin::RunInfo& run, const ItemIncludes& includes,
                                  double now);

/// GET /api/runs/{run_id} (API.md §2.2): the COMPAT fields, then tags, created_time, started_at,
/// ended_at, duration, exit_reason, liveness, summary, meta, last_step (null, see above),
/// media_count (regular files in media/) and artifacts (the run's artifacts.json, null when
/// absent). `assets` is assets.json as stored ({} when absent or damaged).
boost::json::object run_detail(const plugin::RunInfo& run, double now);

/// The run's assets.json as stored, non-finite numbers as null; {} when absent or damaged.
boost::json::value run_assets(const plugin::RunInfo& run);

/// One entry of GET /api/recycle-bin: id, path, alias, created_time, deleted_at, delete_reason
/// and original_status (both "unknown" when not recorded), run_dir.
boost::json::object recycle_bin_entry(const plugin::RunInfo& run);

/// Seconds since the epoch, now.
double unix_now();

}  // namespace runicorn::http_plugin::api
