#include "run_reader.hpp"

#include <system_error>

#include "file_io.hpp"
#include "json_values.hpp"
#include "sys_info.hpp"

namespace runicorn::storage {
namespace fs = std::filesystem;
namespace json = boost::json;
using plugin::RunInfo;
using plugin::RunLiveness;

namespace {

void read_meta(RunInfo& info, const fs::path& dir, spdlog::logger* log) {
    auto meta = load_json_object(dir / "meta.json", log);
    if (!meta) {
        return;
    }
    info.meta = std::move(*meta);
    const auto& m = info.meta;
    info.alias = json_string(m, "alias");
    if (const auto* tags = m.if_contains("tags"); tags != nullptr && tags->is_array()) {
        for (const auto& t : tags->get_array()) {
            if (t.is_string()) {
                info.tags.emplace_back(t.get_string());
            }
        }
    }
    info.created_at = json_number(m, "created_at");
    info.hostname = json_string(m, "hostname");
    info.pid = json_int(m, "pid");
    info.format_version = json_int(m, "format_version");
}

void read_status(RunInfo& info, const fs::path& dir, spdlog::logger* log) {
    info.status = "finished";
    info.started_at.reset();
    info.ended_at.reset();
    info.exit_reason.reset();
    const auto status = load_json_object(dir / "status.json", log);
    if (!status) {
        return;
    }
    if (auto s = json_string(*status, "status")) {
        info.status = std::move(*s);
    }
    info.started_at = json_number(*status, "started_at");
    info.ended_at = json_number(*status, "ended_at");
    info.exit_reason = json_string(*status, "exit_reason");
}

void read_summary(RunInfo& info, const fs::path& dir, spdlog::logger* log) {
    auto summary = load_json_object(dir / "summary.json", log);
    if (!summary) {
        return;
    }
    info.summary = std::move(*summary);
    info.best_metric_name = json_string(info.summary, "best_metric_name");
    info.best_metric_value = json_number(info.summary, "best_metric_value");
    info.best_metric_step = json_int(info.summary, "best_metric_step");
    info.best_metric_mode = json_string(info.summary, "best_metric_mode");
}

void read_deleted(RunInfo& info, const fs::path& dir, spdlog::logger* log) {
    const auto marker = load_json_object(dir / ".deleted", log);
    if (!marker) {
        return;
    }
    info.deleted_at = json_number(*marker, "deleted_at");
    info.deleted_reason = json_string(*marker, "reason");
    info.original_status = json_string(*marker, "original_status");
}

void apply_liveness(RunInfo& info, const ReadRunOptions& options, spdlog::logger* log) {
    const fs::path& dir = info.location.dir;
    const LocalHost local = options.local != nullptr ? *options.local : LocalHost::current();
    const double now = wall_now();
    const LivenessVerdict verdict =
        assess_liveness(dir, info.meta, local, now, options.tracker, log);
    info.liveness = verdict.liveness;
    if (verdict.liveness != RunLiveness::kDead && verdict.liveness != RunLiveness::kStale) {
        return;
    }
    if (verdict.persist) {
        auto wrote = mark_run_failed(dir, verdict.exit_reason, now, log);
        if (!wrote) {
            if (log != nullptr) {
                log->warn("cannot mark run '{}' as failed ({}): {}", info.location.run_id,
                          verdict.exit_reason, wrote.error().message());
            }
        } else if (!*wrote) {
            // The writer finished (or the file changed) meanwhile: report what is on disk now.
            read_status(info, dir, log);
            info.liveness = RunLiveness::kNotChecked;
            return;
        }
    }
    info.status = "failed";
    info.exit_reason = verdict.exit_reason;
    if (verdict.liveness == RunLiveness::kDead) {
        info.ended_at = now;
    }
}

}  // namespace

std::int64_t count_assets(const json::object& assets) {
    std::int64_t n = 0;
    if (const auto* code = assets.if_contains("code"); code != nullptr && code->is_object()) {
        if (const auto* snap = code->get_object().if_contains("snapshot");
            snap != nullptr && snap->is_object()) {
            ++n;
        }
    }
    if (const auto* config = assets.if_contains("config");
        config != nullptr && config->is_object() && !config->get_object().empty()) {
        ++n;
    }
    for (const char* key : {"datasets", "pretrained", "outputs"}) {
        if (const auto* list = assets.if_contains(key); list != nullptr && list->is_array()) {
            n += static_cast<std::int64_t>(list->get_array().size());
        }
    }
    return n;
}

Result<RunInfo> read_run_folder(const plugin::RunLocation& location, const ReadRunOptions& options,
                                spdlog::logger* log) {
    std::error_code ec;
    if (!fs::is_directory(location.dir, ec)) {
        return Status::not_found("run folder '" + location.dir.string() + "' does not exist");
    }
    RunInfo info;
    info.location = location;
    const fs::path& dir = location.dir;
    read_meta(info, dir, log);
    read_status(info, dir, log);
    read_summary(info, dir, log);
    if (const auto assets = load_json_object(dir / "assets.json", log)) {
        info.assets_count = count_assets(*assets);
    }
    read_deleted(info, dir, log);
    if (options.check_liveness && info.status == "running") {
        apply_liveness(info, options, log);
    }
    return info;
}

}  // namespace runicorn::storage
