// The C ABI of the asset calls (runicorn.h, the sdk-assets block): options and results as JSON.
// Every function catches everything: nothing unwinds into C.

#include <initializer_list>
#include <string>
#include <vector>

#include <runicorn/c/runicorn.h>
#include <runicorn/runicorn.hpp>

#include "assets.hpp"
#include "c_api_internal.hpp"

namespace {

using runicorn::Json;
using runicorn::Result;
using runicorn::Status;
namespace capi = runicorn::sdk::capi;

thread_local std::string t_last_scan;

int null_run(const char* fn) {
    return capi::fail(RN_E_INVALID_ARGUMENT, std::string(fn) + ": run is NULL");
}

/// The options object (NULL or empty: {}).
Result<Json> options_of(const char* text, const char* fn) {
    if (text == nullptr || *text == '\0') {
        return Json::object();
    }
    auto j = Json::parse(text);
    if (!j.has_value()) {
        return Status::invalid_argument(std::string(fn) + ": options: " + j.error().message());
    }
    if (!j.value().is_object()) {
        return Status::invalid_argument(std::string(fn) + ": options must be a JSON object");
    }
    return j;
}

/// Reads member `key` into `out` when present; INVALID_ARGUMENT when it has the wrong type.
/// The first failure among `reads` (a braced list is evaluated in order; a read after a failure
/// only fills a field of options that are then thrown away), or OK.
Status first_error(std::initializer_list<Status> reads) {
    for (const Status& s : reads) {
        if (!s.is_ok()) {
            return s;
        }
    }
    return Status::ok();
}

Status get(const Json& o, std::string_view key, std::string& out) {
    if (const Json* v = o.find(key)) {
        if (!v->is_string()) {
            return Status::invalid_argument("option '" + std::string(key) + "' must be a string");
        }
        out = v->as_string();
    }
    return Status::ok();
}
Status get(const Json& o, std::string_view key, std::optional<std::string>& out) {
    if (const Json* v = o.find(key)) {
        if (v->is_null()) {
            out.reset();
            return Status::ok();
        }
        if (!v->is_string()) {
            return Status::invalid_argument("option '" + std::string(key) + "' must be a string");
        }
        out = v->as_string();
    }
    return Status::ok();
}
Status get(const Json& o, std::string_view key, bool& out) {
    if (const Json* v = o.find(key)) {
        if (v->kind() != Json::Kind::kBoolean) {
            return Status::invalid_argument("option '" + std::string(key) + "' must be a boolean");
        }
        out = v->as_bool();
    }
    return Status::ok();
}
Status get(const Json& o, std::string_view key, double& out) {
    if (const Json* v = o.find(key)) {
        if (!v->is_number()) {
            return Status::invalid_argument("option '" + std::string(key) + "' must be a number");
        }
        out = v->as_f64();
    }
    return Status::ok();
}
Status get(const Json& o, std::string_view key, std::uint64_t& out) {
    if (const Json* v = o.find(key)) {
        if (!v->is_number() || v->as_f64() < 0) {
            return Status::invalid_argument("option '" + std::string(key) +
                                            "' must be a non-negative number");
        }
        out = v->kind() == Json::Kind::kI64 ? static_cast<std::uint64_t>(v->as_i64())
                                            : static_cast<std::uint64_t>(v->as_f64());
    }
    return Status::ok();
}
Status get(const Json& o, std::string_view key, int& out) {
    if (const Json* v = o.find(key)) {
        if (v->kind() != Json::Kind::kI64) {
            return Status::invalid_argument("option '" + std::string(key) + "' must be an integer");
        }
        out = static_cast<int>(v->as_i64());
    }
    return Status::ok();
}
Status get(const Json& o, std::string_view key, std::vector<std::string>& out) {
    if (const Json* v = o.find(key)) {
        if (v->is_null()) {
            return Status::ok();
        }
        if (!v->is_array()) {
            return Status::invalid_argument("option '" + std::string(key) +
                                            "' must be an array of strings");
        }
        out.clear();
        for (const auto& item : v->items()) {
            if (!item.is_string()) {
                return Status::invalid_argument("option '" + std::string(key) +
                                                "' must be an array of strings");
            }
            out.push_back(item.as_string());
        }
    }
    return Status::ok();
}

Result<runicorn::OutputsOptions> outputs_options(const Json& j) {
    runicorn::OutputsOptions o;
    std::vector<std::string> dirs;
    RUNICORN_RETURN_IF_ERROR(get(j, "output_dirs", dirs));
    for (auto& d : dirs) {
        o.output_dirs.emplace_back(d);
    }
    RUNICORN_RETURN_IF_ERROR(get(j, "patterns", o.patterns));
    RUNICORN_RETURN_IF_ERROR(get(j, "stable_required", o.stable_required));
    RUNICORN_RETURN_IF_ERROR(get(j, "min_age_sec", o.min_age_sec));
    RUNICORN_RETURN_IF_ERROR(get(j, "mode", o.mode));
    RUNICORN_RETURN_IF_ERROR(get(j, "log_snapshot_interval_sec", o.log_snapshot_interval_sec));
    RUNICORN_RETURN_IF_ERROR(get(j, "state_gc_after_sec", o.state_gc_after_sec));
    return o;
}

std::string scan_json(const runicorn::ScanResult& r) {
    Json out = Json::object({{"run_id", r.run_id},
                             {"scanned", r.scanned},
                             {"archived", r.archived},
                             {"changed", r.changed}});
    out.set("archived_entries", Json::array(r.archived_entries));
    return out.dump();
}

}  // namespace

extern "C" {

int rn_log_dataset(rn_run* run, const char* name, const char* root_or_uri,
                   const char* options_json) {
    constexpr const char* kFn = "rn_log_dataset";
    try {
        if (run == nullptr) {
            return null_run(kFn);
        }
        if (name == nullptr || root_or_uri == nullptr) {
            return capi::fail(RN_E_INVALID_ARGUMENT,
                              "rn_log_dataset: name and root_or_uri "
                              "must not be NULL");
        }
        auto j = options_of(options_json, kFn);
        if (!j.has_value()) {
            return capi::from_status(j.error());
        }
        runicorn::DatasetOptions o;
        const Status s =
            first_error({get(j.value(), "context", o.context), get(j.value(), "save", o.save),
                         get(j.value(), "description", o.description),
                         get(j.value(), "force_save", o.force_save),
                         get(j.value(), "max_archive_bytes", o.max_archive_bytes),
                         get(j.value(), "max_archive_files", o.max_archive_files)});
        if (!s.is_ok()) {
            return capi::fail(RN_E_INVALID_ARGUMENT, std::string(kFn) + ": " + s.message());
        }
        // "uri_object": a JSON object stored verbatim as the uri (Python dicts, FORMAT.md §4.6).
        if (const Json* uo = j.value().find("uri_object"); uo != nullptr && uo->is_object()) {
            auto assets = runicorn::sdk::RunAssets::of(run->run);
            if (!assets) {
                return RN_OK;
            }
            return capi::from_status(assets->log_dataset(name, root_or_uri, o, uo));
        }
        return capi::from_status(run->run.log_dataset(name, root_or_uri, o));
    } catch (...) {
        return capi::internal_error(kFn);
    }
}

int rn_log_pretrained(rn_run* run, const char* name, const char* options_json) {
    constexpr const char* kFn = "rn_log_pretrained";
    try {
        if (run == nullptr) {
            return null_run(kFn);
        }
        if (name == nullptr) {
            return capi::fail(RN_E_INVALID_ARGUMENT, "rn_log_pretrained: name is NULL");
        }
        auto j = options_of(options_json, kFn);
        if (!j.has_value()) {
            return capi::from_status(j.error());
        }
        runicorn::PretrainedOptions o;
        Status s = first_error({get(j.value(), "path_or_uri", o.path_or_uri),
                                get(j.value(), "save", o.save),
                                get(j.value(), "source_type", o.source_type),
                                get(j.value(), "description", o.description),
                                get(j.value(), "force_save", o.force_save),
                                get(j.value(), "max_archive_bytes", o.max_archive_bytes),
                                get(j.value(), "max_archive_files", o.max_archive_files)});
        if (!s.is_ok()) {
            return capi::fail(RN_E_INVALID_ARGUMENT, std::string(kFn) + ": " + s.message());
        }
        return capi::from_status(run->run.log_pretrained(name, o));
    } catch (...) {
        return capi::internal_error(kFn);
    }
}

int rn_snapshot_code(rn_run* run, const char* options_json, char* out_json, size_t out_cap,
                     size_t* out_needed) {
    constexpr const char* kFn = "rn_snapshot_code";
    try {
        if (run == nullptr) {
            return null_run(kFn);
        }
        auto j = options_of(options_json, kFn);
        if (!j.has_value()) {
            return capi::from_status(j.error());
        }
        runicorn::SnapshotOptions o;
        std::string ws;
        std::string format = "manifest";
        Status s = first_error({get(j.value(), "workspace_root", ws),
                                get(j.value(), "format", format), get(j.value(), "force", o.force),
                                get(j.value(), "extra_excludes", o.extra_excludes),
                                get(j.value(), "ignore_file", o.ignore_file),
                                get(j.value(), "max_total_bytes", o.max_total_bytes),
                                get(j.value(), "max_files", o.max_files)});
        if (s.is_ok() && format != "manifest" && format != "zip") {
            s = Status::invalid_argument("option 'format' must be \"manifest\" or \"zip\"");
        }
        if (!s.is_ok()) {
            return capi::fail(RN_E_INVALID_ARGUMENT, std::string(kFn) + ": " + s.message());
        }
        o.workspace_root = ws;
        o.format =
            format == "zip" ? runicorn::SnapshotFormat::kZip : runicorn::SnapshotFormat::kManifest;
        auto r = run->run.snapshot_code(o);
        if (!r.has_value()) {
            return capi::from_status(r.error());
        }
        return capi::write_out(r.value().dump(), out_json, out_cap, out_needed, kFn,
                               "the snapshot was taken");
    } catch (...) {
        return capi::internal_error(kFn);
    }
}

int rn_scan_outputs_once(rn_run* run, const char* options_json, char* out_json, size_t out_cap,
                         size_t* out_needed) {
    constexpr const char* kFn = "rn_scan_outputs_once";
    try {
        if (run == nullptr) {
            return null_run(kFn);
        }
        auto j = options_of(options_json, kFn);
        if (!j.has_value()) {
            return capi::from_status(j.error());
        }
        auto o = outputs_options(j.value());
        if (!o.has_value()) {
            return capi::fail(RN_E_INVALID_ARGUMENT, std::string(kFn) + ": " + o.error().message());
        }
        auto r = run->run.scan_outputs_once(o.value());
        if (!r.has_value()) {
            return capi::from_status(r.error());
        }
        t_last_scan = scan_json(r.value());
        return capi::write_out(t_last_scan, out_json, out_cap, out_needed, kFn,
                               "the scan happened; rn_last_scan_result returns its result");
    } catch (...) {
        return capi::internal_error(kFn);
    }
}

int rn_last_scan_result(char* out_json, size_t out_cap, size_t* out_needed) {
    try {
        return capi::write_out(t_last_scan, out_json, out_cap, out_needed, "rn_last_scan_result",
                               "nothing changed");
    } catch (...) {
        return capi::internal_error("rn_last_scan_result");
    }
}

int rn_watch_outputs(rn_run* run, const char* options_json, uint32_t interval_ms) {
    constexpr const char* kFn = "rn_watch_outputs";
    try {
        if (run == nullptr) {
            return null_run(kFn);
        }
        auto j = options_of(options_json, kFn);
        if (!j.has_value()) {
            return capi::from_status(j.error());
        }
        auto o = outputs_options(j.value());
        if (!o.has_value()) {
            return capi::fail(RN_E_INVALID_ARGUMENT, std::string(kFn) + ": " + o.error().message());
        }
        return capi::from_status(
            run->run.watch_outputs(o.value(), std::chrono::milliseconds(interval_ms)));
    } catch (...) {
        return capi::internal_error(kFn);
    }
}

int rn_stop_outputs_watch(rn_run* run) {
    try {
        if (run == nullptr) {
            return null_run("rn_stop_outputs_watch");
        }
        run->run.stop_outputs_watch();
        return RN_OK;
    } catch (...) {
        return capi::internal_error("rn_stop_outputs_watch");
    }
}

}  // extern "C"
