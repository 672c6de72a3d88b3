#include "run_json.hpp"

#include <chrono>
#include <filesystem>
#include <system_error>

#include <boost/json/array.hpp>

#include "api_json.hpp"

namespace runicorn::http_plugin::api {
namespace {

namespace fs = std::filesystem;

boost::json::value optional_string(const std::optional<std::string>& s) {
    if (!s) {
        return nullptr;
    }
    return boost::json::value(*s);
}

boost::json::value optional_int(const std::optional<std::int64_t>& i) {
    if (!i) {
        return nullptr;
    }
    return *i;
}

boost::json::array tag_array(const std::vector<std::string>& tags) {
    boost::json::array out;
    out.reserve(tags.size());
    for (const std::string& t : tags) {
        out.emplace_back(t);
    }
    return out;
}

boost::json::value sanitized(const boost::json::object& obj) {
    boost::json::value v = obj;
    null_non_finite(v);
    return v;
}

std::int64_t count_media(const fs::path& dir) {
    std::error_code ec;
    std::int64_t n = 0;
    for (fs::directory_iterator it(dir / "media", ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (it->is_regular_file(type_ec)) {
            ++n;
        }
    }
    return n;
}

}  // namespace

bool valid_run_id(std::string_view run_id) {
    if (run_id.empty() || run_id.size() > 128) {
        return false;
    }
    auto alnum = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    };
    if (!alnum(run_id.front())) {
        return false;
    }
    for (const char c : run_id) {
        if (!alnum(c) && c != '_' && c != '.' && c != '-') {
            return false;
        }
    }
    return run_id.find("..") == std::string_view::npos;
}

std::string liveness_name(const plugin::RunInfo& run) {
    switch (run.liveness) {
        case plugin::RunLiveness::kAlive:
            return "alive";
        case plugin::RunLiveness::kUnknown:
            return "unknown";
        case plugin::RunLiveness::kStale:
            return "stale";
        case plugin::RunLiveness::kDead:
            return "dead";
        case plugin::RunLiveness::kNotChecked:
            break;
    }
    return run.status == "running" ? "unknown" : "ended";
}

std::optional<double> created_time(const plugin::RunInfo& run) {
    if (run.created_at) {
        return run.created_at;
    }
    std::error_code ec;
    const fs::file_time_type mtime = fs::last_write_time(run.location.dir, ec);
    if (ec) {
        return std::nullopt;
    }
    const auto system = std::chrono::file_clock::to_sys(mtime);
    return std::chrono::duration<double>(system.time_since_epoch()).count();
}

std::optional<double> run_duration(const plugin::RunInfo& run, double now) {
    if (!run.started_at) {
        return std::nullopt;
    }
    if (run.ended_at) {
        return *run.ended_at - *run.started_at;
    }
    if (run.status == "running") {
        return now - *run.started_at;
    }
    return std::nullopt;
}

boost::json::value run_assets(const plugin::RunInfo& run) {
    std::optional<boost::json::value> assets = read_json_file(run.location.dir / "assets.json");
    if (!assets || !assets->is_object()) {
        return boost::json::object();
    }
    null_non_finite(*assets);
    return std::move(*assets);
}

boost::json::object run_list_item(const plugin::RunInfo& run, const ItemIncludes& includes,
                                  double now) {
    boost::json::object item;
    item.reserve(24);
    item["id"] = run.location.run_id;
    item["run_dir"] = run.location.dir.string();
    item["created_time"] = compat_number(created_time(run));
    item["status"] = run.status;
    item["pid"] = optional_int(run.pid);
    item["best_metric_value"] = compat_number(run.best_metric_value);
    item["best_metric_name"] = optional_string(run.best_metric_name);
    item["path"] = optional_string(run.location.path);
    item["alias"] = optional_string(run.alias);
    item["tags"] = tag_array(run.tags);
    item["assets_count"] = run.assets_count;
    item["started_at"] = compat_number(run.started_at);
    item["ended_at"] = compat_number(run.ended_at);
    item["duration"] = compat_number(run_duration(run, now));
    item["exit_reason"] = optional_string(run.exit_reason);
    item["liveness"] = liveness_name(run);
    item["hostname"] = optional_string(run.hostname);
    item["last_step"] = optional_int(run.last_step);
    item["format_version"] = run.format_version.value_or(0);
    if (includes.summary) {
        item["summary"] = sanitized(run.summary);
    }
    if (includes.config) {
        boost::json::value assets = run_assets(run);
        const boost::json::value* config = assets.as_object().if_contains("config");
        item["config"] =
            (config != nullptr && config->is_object()) ? *config : boost::json::object();
    }
    if (includes.meta) {
        item["meta"] = sanitized(run.meta);
    }
    return item;
}

boost::json::object run_detail(const plugin::RunInfo& run, double now) {
    const std::string dir = run.location.dir.string();
    boost::json::object body;
    body.reserve(28);
    body["id"] = run.location.run_id;
    body["status"] = run.status;
    body["pid"] = optional_int(run.pid);
    body["run_dir"] = dir;
    body["path"] = optional_string(run.location.path);
    body["alias"] = optional_string(run.alias);
    body["logs"] = (run.location.dir / "logs.txt").string();
    body["metrics"] = (run.location.dir / "events.jsonl").string();
    body["metrics_step"] = (run.location.dir / "events.jsonl").string();
    body["assets"] = run_assets(run);
    body["assets_count"] = run.assets_count;
    body["tags"] = tag_array(run.tags);
    body["created_time"] = compat_number(created_time(run));
    body["started_at"] = compat_number(run.started_at);
    body["ended_at"] = compat_number(run.ended_at);
    body["duration"] = compat_number(run_duration(run, now));
    body["exit_reason"] = optional_string(run.exit_reason);
    body["liveness"] = liveness_name(run);
    body["summary"] = sanitized(run.summary);
    body["meta"] = sanitized(run.meta);
    body["last_step"] = nullptr;
    body["media_count"] = count_media(run.location.dir);
    std::optional<boost::json::value> artifacts =
        read_json_file(run.location.dir / "artifacts.json");
    if (artifacts) {
        null_non_finite(*artifacts);
        body["artifacts"] = std::move(*artifacts);
    } else {
        body["artifacts"] = nullptr;
    }
    return body;
}

boost::json::object recycle_bin_entry(const plugin::RunInfo& run) {
    boost::json::object e;
    e["id"] = run.location.run_id;
    e["path"] = optional_string(run.location.path);
    e["alias"] = optional_string(run.alias);
    e["created_time"] = compat_number(created_time(run));
    e["deleted_at"] = compat_number(run.deleted_at);
    e["delete_reason"] = run.deleted_reason.value_or("unknown");
    e["original_status"] = run.original_status.value_or("unknown");
    e["run_dir"] = run.location.dir.string();
    return e;
}

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace runicorn::http_plugin::api
