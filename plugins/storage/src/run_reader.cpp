#include "run_reader.hpp"

#include <system_error>

#include "file_io.hpp"
#include "json_values.hpp"
#include "sys_info.hpp"
#include <fcntl.h>
#include <unistd.h>

namespace runicorn::storage {
namespace fs = std::filesystem;
namespace json = boost::json;
using plugin::RunInfo;
using plugin::RunLiveness;

namespace {

/// Where a reader records a file's stamp; null when nobody asked.
std::optional<FileStamp>* slot(RunFileStamps* stamps, std::optional<FileStamp> RunFileStamps::*m) {
    return stamps == nullptr ? nullptr : &(stamps->*m);
}

/// An open run folder: its files are read relative to the descriptor (one path component each).
struct Folder {
    int fd;
    const fs::path& dir;

    std::optional<json::object> load(const char* name, spdlog::logger* log,
                                     std::optional<FileStamp>* stamp) const {
        return load_json_object_at(fd, name, dir / name, log, stamp);
    }
};

void read_meta(RunInfo& info, const Folder& dir, spdlog::logger* log, RunFileStamps* stamps) {
    auto meta = dir.load("meta.json", log, slot(stamps, &RunFileStamps::meta));
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

void read_status(RunInfo& info, const Folder& dir, spdlog::logger* log, RunFileStamps* stamps) {
    info.status = "finished";
    info.started_at.reset();
    info.ended_at.reset();
    info.exit_reason.reset();
    const auto status = dir.load("status.json", log, slot(stamps, &RunFileStamps::status));
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

void read_summary(RunInfo& info, const Folder& dir, spdlog::logger* log, RunFileStamps* stamps) {
    auto summary = dir.load("summary.json", log, slot(stamps, &RunFileStamps::summary));
    if (!summary) {
        return;
    }
    info.summary = std::move(*summary);
    info.best_metric_name = json_string(info.summary, "best_metric_name");
    info.best_metric_value = json_number(info.summary, "best_metric_value");
    info.best_metric_step = json_int(info.summary, "best_metric_step");
    info.best_metric_mode = json_string(info.summary, "best_metric_mode");
}

void read_deleted(RunInfo& info, const Folder& dir, spdlog::logger* log, RunFileStamps* stamps) {
    std::optional<FileStamp> stamp;
    const auto marker = dir.load(".deleted", log, &stamp);
    if (stamps != nullptr) {
        stamps->deleted = stamp;
    }
    // The marker's presence is what counts (a damaged one still marks the run deleted).
    info.location.deleted = stamp.has_value();
    if (!marker) {
        return;
    }
    info.deleted_at = json_number(*marker, "deleted_at");
    info.deleted_reason = json_string(*marker, "reason");
    info.original_status = json_string(*marker, "original_status");
}

void apply_liveness(RunInfo& info, const Folder& folder, const ReadRunOptions& options,
                    spdlog::logger* log) {
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
            read_status(info, folder, log, options.stamps);
            info.liveness = RunLiveness::kNotChecked;
            return;
        }
    }
    info.status = "failed";
    info.exit_reason = verdict.exit_reason;
    if (verdict.liveness == RunLiveness::kDead) {
        info.ended_at = now;
    }
    if (verdict.persist && options.stamps != nullptr) {
        options.stamps->status = stamp_of(dir / "status.json");  // what the merge wrote
    }
}

void append_stamp(std::string& out, char tag, const std::optional<FileStamp>& stamp) {
    if (!out.empty()) {
        out += ';';
    }
    out += tag;
    if (!stamp) {
        out += '-';
        return;
    }
    out += std::to_string(stamp->size) + "." + std::to_string(stamp->mtime_ns) + "." +
           std::to_string(stamp->inode);
}

}  // namespace

std::string RunFileStamps::signature() const {
    std::string out;
    append_stamp(out, 'm', meta);
    append_stamp(out, 's', status);
    append_stamp(out, 'u', summary);
    append_stamp(out, 'a', assets);
    append_stamp(out, 'd', deleted);
    return out;
}

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
    UniqueFd fd(::open(location.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return Status::not_found("run folder '" + location.dir.string() + "' does not exist");
        }
        return io_error(errno, "reading", location.dir);
    }
    RunInfo info;
    info.location = location;
    const Folder dir{fd.get(), location.dir};
    RunFileStamps* stamps = options.stamps;
    read_meta(info, dir, log, stamps);
    read_status(info, dir, log, stamps);
    read_summary(info, dir, log, stamps);
    if (const auto assets = dir.load("assets.json", log, slot(stamps, &RunFileStamps::assets))) {
        info.assets_count = count_assets(*assets);
    }
    read_deleted(info, dir, log, stamps);
    if (options.check_liveness && info.status == "running") {
        apply_liveness(info, dir, options, log);
    }
    return info;
}

}  // namespace runicorn::storage
