// The C ABI (runicorn/c/runicorn.h) over the C++ SDK. Every function catches everything: nothing
// unwinds into C. Errors set the thread-local message that rn_last_error() returns.

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <runicorn/c/runicorn.h>
#include <runicorn/runicorn.hpp>

#include "c_api_internal.hpp"
#include "run_core.hpp"
#include "runicorn_version.hpp"
#include "sdk_internal.hpp"
#include "warnings.hpp"

namespace {

using runicorn::Status;
using runicorn::StatusCode;
using runicorn::sdk::Enqueued;
using runicorn::sdk::RunAccess;
using runicorn::sdk::RunCore;

thread_local std::string t_last_error;

int fail(int code, std::string_view message) noexcept {
    try {
        t_last_error.assign(message);
    } catch (...) {
        t_last_error.clear();
    }
    return code;
}

int code_of(StatusCode c) noexcept {
    switch (c) {
        case StatusCode::kOk:
            return RN_OK;
        case StatusCode::kInvalidArgument:
            return RN_E_INVALID_ARGUMENT;
        case StatusCode::kNotFound:
            return RN_E_NOT_FOUND;
        case StatusCode::kAlreadyExists:
            return RN_E_ALREADY_EXISTS;
        case StatusCode::kPermissionDenied:
            return RN_E_PERMISSION_DENIED;
        case StatusCode::kResourceExhausted:
            return RN_E_RESOURCE_EXHAUSTED;
        case StatusCode::kFailedPrecondition:
            return RN_E_FAILED_PRECONDITION;
        case StatusCode::kUnavailable:
            return RN_E_UNAVAILABLE;
        case StatusCode::kDeadlineExceeded:
            return RN_E_DEADLINE_EXCEEDED;
        case StatusCode::kDataLoss:
            return RN_E_DATA_LOSS;
        case StatusCode::kUnimplemented:
            return RN_E_UNIMPLEMENTED;
        default:
            return RN_E_INTERNAL;
    }
}

int from_status(const Status& s) noexcept {
    return s.is_ok() ? RN_OK : fail(code_of(s.code()), s.message());
}

int internal_error(const char* fn) noexcept {
    return fail(RN_E_INTERNAL, std::string(fn) + ": unexpected exception");
}

int from_enqueued(RunCore& core, Enqueued e, const char* fn) {
    switch (e) {
        case Enqueued::kQueued:
            return RN_OK;
        case Enqueued::kDropped:
            return fail(RN_E_RESOURCE_EXHAUSTED,
                        std::string(fn) + ": run '" + core.identity().id +
                            "': the record was dropped (queue full or out of memory)");
        case Enqueued::kRejected:
            break;
    }
    return fail(RN_E_FAILED_PRECONDITION,
                std::string(fn) + ": run '" + core.identity().id + "' is already finished");
}

int null_run(const char* fn) {
    return fail(RN_E_INVALID_ARGUMENT, std::string(fn) + ": run is NULL");
}

/// Copies `text` and its NUL into a caller buffer (SDK.md §3 buffer protocol).
int write_out(const std::string& text, char* out, std::size_t cap, std::size_t* needed,
              const char* fn, const char* what_happened) {
    const std::size_t n = text.size() + 1;
    if (needed != nullptr) {
        *needed = n;
    }
    if (out == nullptr && cap == 0) {
        return RN_OK;
    }
    if (out == nullptr || cap < n) {
        return fail(RN_E_BUFFER_TOO_SMALL, std::string(fn) + ": the output buffer holds " +
                                               std::to_string(out == nullptr ? 0 : cap) +
                                               " bytes, " + std::to_string(n) + " needed (" +
                                               what_happened + ")");
    }
    std::memcpy(out, text.c_str(), n);
    return RN_OK;
}

using runicorn::sdk::capi::copy_in;
using runicorn::sdk::capi::copy_out;

runicorn::Result<runicorn::Json> parse_object(const char* text, const char* what) {
    auto j = runicorn::Json::parse(text);
    if (!j.has_value()) {
        return j.error().with_context(what);
    }
    if (!j->is_object()) {
        return Status::invalid_argument(std::string(what) + ": expected a JSON object");
    }
    return j;
}

std::optional<std::int64_t> step_arg(std::int64_t step) {
    return step == RN_AUTO_STEP ? std::nullopt : std::optional<std::int64_t>(step);
}

}  // namespace

extern "C" {

uint32_t rn_abi_version(void) { return (RN_ABI_VERSION_MAJOR << 16) | RN_ABI_VERSION_MINOR; }

const char* rn_version(void) { return runicorn::kernel::kVersion; }

const char* rn_last_error(void) { return t_last_error.c_str(); }

const char* rn_status_name(int status) {
    switch (status) {
        case RN_OK:
            return "OK";
        case RN_E_INVALID_ARGUMENT:
            return "INVALID_ARGUMENT";
        case RN_E_NOT_FOUND:
            return "NOT_FOUND";
        case RN_E_ALREADY_EXISTS:
            return "ALREADY_EXISTS";
        case RN_E_PERMISSION_DENIED:
            return "PERMISSION_DENIED";
        case RN_E_RESOURCE_EXHAUSTED:
            return "RESOURCE_EXHAUSTED";
        case RN_E_FAILED_PRECONDITION:
            return "FAILED_PRECONDITION";
        case RN_E_UNAVAILABLE:
            return "UNAVAILABLE";
        case RN_E_DEADLINE_EXCEEDED:
            return "DEADLINE_EXCEEDED";
        case RN_E_DATA_LOSS:
            return "DATA_LOSS";
        case RN_E_UNIMPLEMENTED:
            return "UNIMPLEMENTED";
        case RN_E_INTERNAL:
            return "INTERNAL";
        case RN_E_BUFFER_TOO_SMALL:
            return "BUFFER_TOO_SMALL";
        default:
            return "UNKNOWN";
    }
}

void rn_init_options_default(rn_init_options* o) {
    if (o == nullptr) {
        return;
    }
    std::memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->resume = RN_RESUME_NEVER;
    o->snapshot_format = RN_SNAPSHOT_MANIFEST;
    o->tqdm_mode = RN_TQDM_SMART;
    o->durability = RN_DURABILITY_BUFFERED;
    o->flush_interval_ms = 50;
    o->sync_interval_ms = 5000;
    o->max_block_ms = 0;
    o->heartbeat_interval_s = 10;
    o->queue_capacity_bytes = std::uint64_t{64} << 20;
    o->handle_signals = 0;
}

int rn_init(const rn_init_options* in, rn_run** out) {
    try {
        if (out == nullptr) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_init: out is NULL");
        }
        *out = nullptr;
        rn_init_options o;
        rn_init_options_default(&o);
        if (in != nullptr && !copy_in(in, o)) {
            return fail(RN_E_INVALID_ARGUMENT,
                        "rn_init: options->struct_size is too small; call rn_init_options_default "
                        "first");
        }
        if (o.capture_env != 0) {
            return fail(RN_E_UNIMPLEMENTED, "rn_init: capture_env is not supported yet");
        }
        if (o.capture_fd != 0) {
            return fail(RN_E_UNIMPLEMENTED, "rn_init: capture_fd is not supported yet");
        }
        runicorn::InitOptions opts;
        if (o.path != nullptr) {
            opts.path = o.path;
        }
        opts.project = o.project != nullptr ? o.project : "";
        opts.name = o.name != nullptr ? o.name : "";
        opts.storage = o.storage != nullptr ? o.storage : "";
        opts.run_id = o.run_id != nullptr ? o.run_id : "";
        if (o.alias != nullptr) {
            opts.alias = o.alias;
        }
        if (o.tag_count > 0 && o.tags == nullptr) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_init: tags is NULL but tag_count is not 0");
        }
        for (std::size_t i = 0; i < o.tag_count; ++i) {
            if (o.tags[i] == nullptr) {
                return fail(RN_E_INVALID_ARGUMENT,
                            "rn_init: tags[" + std::to_string(i) + "] is NULL");
            }
            opts.tags.emplace_back(o.tags[i]);
        }
        switch (o.resume) {
            case RN_RESUME_NEVER:
                opts.resume = runicorn::Resume::kNever;
                break;
            case RN_RESUME_ALLOW:
                opts.resume = runicorn::Resume::kAllow;
                break;
            case RN_RESUME_MUST:
                opts.resume = runicorn::Resume::kMust;
                break;
            default:
                return fail(RN_E_INVALID_ARGUMENT,
                            "rn_init: invalid resume " + std::to_string(o.resume));
        }
        opts.workspace_root = o.workspace_root != nullptr ? o.workspace_root : "";
        // sdk-docs: the code snapshot at init (InitOptions::snapshot_code).
        opts.snapshot_code = o.snapshot_code != 0;
        switch (o.snapshot_format) {
            case RN_SNAPSHOT_MANIFEST:
                opts.snapshot_format = runicorn::SnapshotFormat::kManifest;
                break;
            case RN_SNAPSHOT_ZIP:
                opts.snapshot_format = runicorn::SnapshotFormat::kZip;
                break;
            default:
                return fail(RN_E_INVALID_ARGUMENT, "rn_init: invalid snapshot_format " +
                                                       std::to_string(o.snapshot_format));
        }
        opts.force_snapshot = o.force_snapshot != 0;
        switch (o.durability) {
            case RN_DURABILITY_BUFFERED:
                opts.durability = runicorn::Durability::kBuffered;
                break;
            case RN_DURABILITY_FLUSH:
                opts.durability = runicorn::Durability::kFlush;
                break;
            case RN_DURABILITY_NONE:
                opts.durability = runicorn::Durability::kNone;
                break;
            default:
                return fail(RN_E_INVALID_ARGUMENT,
                            "rn_init: invalid durability " + std::to_string(o.durability));
        }
        opts.flush_interval = std::chrono::milliseconds(o.flush_interval_ms);
        opts.sync_interval = std::chrono::milliseconds(o.sync_interval_ms);
        opts.max_block = std::chrono::milliseconds(o.max_block_ms);
        opts.heartbeat_interval = std::chrono::seconds(o.heartbeat_interval_s);
        opts.queue_capacity = static_cast<std::size_t>(o.queue_capacity_bytes);
        opts.handle_signals = o.handle_signals != 0;
        std::string language = "c";
        if (o.writer_language != nullptr) {
            language = o.writer_language;
            if (language != "c" && language != "cpp" && language != "python") {
                return fail(RN_E_INVALID_ARGUMENT, "rn_init: invalid writer_language '" + language +
                                                       "' (c, cpp or python)");
            }
        }
        std::optional<std::string> python_version;
        if (o.python_version != nullptr) {
            python_version = o.python_version;
        }

        auto r = runicorn::sdk::init_as(std::move(opts), language, python_version);
        if (!r.has_value()) {
            return from_status(r.error());
        }
        auto h = std::make_unique<rn_run>();
        h->run = std::move(*r);
        h->run_dir = h->run.run_dir().string();
        h->storage_root = h->run.storage_root().string();
        *out = h.release();
        return RN_OK;
    } catch (...) {
        return internal_error("rn_init");
    }
}

int rn_run_release(rn_run* run) {
    if (run == nullptr) {
        return RN_OK;
    }
    int rc = RN_OK;
    try {
        if (run->run.enabled() && !run->run.finished()) {
            rc = from_status(run->run.finish("finished"));
        }
    } catch (...) {
        rc = internal_error("rn_run_release");
    }
    delete run;
    return rc;
}

int rn_log(rn_run* run, const rn_kv* items, size_t n, int64_t step, const char* stage) {
    try {
        if (run == nullptr) {
            return null_run("rn_log");
        }
        if (items == nullptr && n > 0) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_log: items is NULL but n is not 0");
        }
        RunCore* core = RunAccess::core(run->run);
        if (core == nullptr) {
            return RN_OK;  // no-op run
        }
        thread_local std::vector<runicorn::Field> fields;
        fields.clear();
        for (std::size_t i = 0; i < n; ++i) {
            const rn_kv& kv = items[i];
            if (kv.key == nullptr) {
                return fail(RN_E_INVALID_ARGUMENT,
                            "rn_log: items[" + std::to_string(i) + "].key is NULL");
            }
            runicorn::MetricValue v;
            switch (kv.type) {
                case RN_VAL_NULL:
                    break;
                case RN_VAL_F64:
                    v = kv.v.f64;
                    break;
                case RN_VAL_I64:
                    v = kv.v.i64;
                    break;
                case RN_VAL_BOOL:
                    v = kv.v.boolean != 0;
                    break;
                case RN_VAL_STR:
                    if (kv.v.str.ptr == nullptr && kv.v.str.len > 0) {
                        return fail(RN_E_INVALID_ARGUMENT,
                                    "rn_log: items[" + std::to_string(i) + "].v.str.ptr is NULL");
                    }
                    v = std::string_view(kv.v.str.ptr == nullptr ? "" : kv.v.str.ptr, kv.v.str.len);
                    break;
                default:
                    return fail(RN_E_INVALID_ARGUMENT, "rn_log: items[" + std::to_string(i) +
                                                           "].type " + std::to_string(kv.type) +
                                                           " is not an RN_VAL_* value");
            }
            fields.push_back(runicorn::Field{kv.key, std::move(v)});
        }
        std::optional<std::string_view> st;
        if (stage != nullptr) {
            st = stage;
        }
        return from_enqueued(*core, core->log(fields, step_arg(step), st), "rn_log");
    } catch (...) {
        return internal_error("rn_log");
    }
}

int rn_log_f64(rn_run* run, const char* const* keys, const double* values, size_t n, int64_t step,
               const char* stage) {
    try {
        if (run == nullptr) {
            return null_run("rn_log_f64");
        }
        if (n > 0 && (keys == nullptr || values == nullptr)) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_log_f64: keys or values is NULL but n is not 0");
        }
        RunCore* core = RunAccess::core(run->run);
        if (core == nullptr) {
            return RN_OK;
        }
        thread_local std::vector<runicorn::Field> fields;
        fields.clear();
        for (std::size_t i = 0; i < n; ++i) {
            if (keys[i] == nullptr) {
                return fail(RN_E_INVALID_ARGUMENT,
                            "rn_log_f64: keys[" + std::to_string(i) + "] is NULL");
            }
            fields.push_back(runicorn::Field{keys[i], values[i]});
        }
        std::optional<std::string_view> st;
        if (stage != nullptr) {
            st = stage;
        }
        return from_enqueued(*core, core->log(fields, step_arg(step), st), "rn_log_f64");
    } catch (...) {
        return internal_error("rn_log_f64");
    }
}

int rn_log_text(rn_run* run, const char* utf8, size_t len) {
    try {
        if (run == nullptr) {
            return null_run("rn_log_text");
        }
        if (utf8 == nullptr && len > 0) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_log_text: utf8 is NULL but len is not 0");
        }
        RunCore* core = RunAccess::core(run->run);
        if (core == nullptr) {
            return RN_OK;
        }
        return from_enqueued(*core, core->log_text(std::string_view(utf8 ? utf8 : "", len)),
                             "rn_log_text");
    } catch (...) {
        return internal_error("rn_log_text");
    }
}

namespace {

int log_image_impl(rn_run* run, const char* key, std::span<const std::byte> bytes, int64_t step,
                   const char* caption, const char* format, char* out_path, size_t out_cap,
                   size_t* out_needed, const char* fn) {
    RunCore* core = RunAccess::core(run->run);
    if (core == nullptr) {
        return write_out("", out_path, out_cap, out_needed, fn, "no-op run");
    }
    runicorn::ImageOptions o;
    if (step != RN_NO_STEP) {
        o.step = step;
    }
    if (caption != nullptr) {
        o.caption = caption;
    }
    if (format != nullptr) {
        o.format = format;
    }
    auto r = core->log_image(key, bytes, o);
    if (!r.has_value()) {
        return from_status(r.error());
    }
    return write_out(*r, out_path, out_cap, out_needed, fn, "the image was logged");
}

}  // namespace

int rn_log_image(rn_run* run, const char* key, const void* bytes, size_t len, int64_t step,
                 const char* caption, const char* format, char* out_path, size_t out_cap,
                 size_t* out_needed) {
    try {
        if (run == nullptr) {
            return null_run("rn_log_image");
        }
        if (key == nullptr) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_log_image: key is NULL");
        }
        if (bytes == nullptr && len > 0) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_log_image: bytes is NULL but len is not 0");
        }
        const std::span<const std::byte> data(static_cast<const std::byte*>(bytes), len);
        return log_image_impl(run, key, data, step, caption, format, out_path, out_cap, out_needed,
                              "rn_log_image");
    } catch (...) {
        return internal_error("rn_log_image");
    }
}

int rn_log_image_file(rn_run* run, const char* key, const char* file, int64_t step,
                      const char* caption, char* out_path, size_t out_cap, size_t* out_needed) {
    try {
        if (run == nullptr) {
            return null_run("rn_log_image_file");
        }
        if (key == nullptr || file == nullptr) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_log_image_file: key or file is NULL");
        }
        if (RunAccess::core(run->run) == nullptr) {
            return write_out("", out_path, out_cap, out_needed, "rn_log_image_file", "no-op run");
        }
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            return fail(RN_E_NOT_FOUND,
                        std::string("rn_log_image_file: cannot open '") + file + "'");
        }
        const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                      std::istreambuf_iterator<char>());
        // The extension follows the file's signature; an unknown one falls back to the file's.
        const std::string path(file);
        const auto dot = path.find_last_of('.');
        const auto slash = path.find_last_of('/');
        std::string ext = "png";
        if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) {
            ext = path.substr(dot + 1);
        }
        return log_image_impl(run, key, std::as_bytes(std::span<const char>(bytes)), step, caption,
                              ext.c_str(), out_path, out_cap, out_needed, "rn_log_image_file");
    } catch (...) {
        return internal_error("rn_log_image_file");
    }
}

int rn_set_primary_metric(rn_run* run, const char* name, int mode) {
    try {
        if (run == nullptr) {
            return null_run("rn_set_primary_metric");
        }
        if (name == nullptr) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_set_primary_metric: name is NULL");
        }
        if (mode != RN_MODE_MAX && mode != RN_MODE_MIN) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_set_primary_metric: invalid mode " +
                                                   std::to_string(mode) +
                                                   " (RN_MODE_MAX or RN_MODE_MIN)");
        }
        return from_status(run->run.set_primary_metric(
            name, mode == RN_MODE_MAX ? runicorn::Mode::kMax : runicorn::Mode::kMin));
    } catch (...) {
        return internal_error("rn_set_primary_metric");
    }
}

int rn_summary_json(rn_run* run, const char* json_object) {
    try {
        if (run == nullptr) {
            return null_run("rn_summary_json");
        }
        if (json_object == nullptr) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_summary_json: json_object is NULL");
        }
        auto j = parse_object(json_object, "rn_summary_json");
        if (!j.has_value()) {
            return from_status(j.error());
        }
        return from_status(run->run.summary(*j));
    } catch (...) {
        return internal_error("rn_summary_json");
    }
}

int rn_log_config_json(rn_run* run, const char* args_json, const char* extra_json,
                       const char* const* config_files, size_t n_files) {
    try {
        if (run == nullptr) {
            return null_run("rn_log_config_json");
        }
        runicorn::ConfigOptions o;
        if (args_json != nullptr) {
            auto j = parse_object(args_json, "rn_log_config_json: args_json");
            if (!j.has_value()) {
                return from_status(j.error());
            }
            o.args = std::move(*j);
        }
        if (extra_json != nullptr) {
            auto j = parse_object(extra_json, "rn_log_config_json: extra_json");
            if (!j.has_value()) {
                return from_status(j.error());
            }
            o.extra = std::move(*j);
        }
        if (config_files == nullptr && n_files > 0) {
            return fail(RN_E_INVALID_ARGUMENT,
                        "rn_log_config_json: config_files is NULL but n_files is not 0");
        }
        if (config_files != nullptr) {
            o.config_files.emplace();
            for (std::size_t i = 0; i < n_files; ++i) {
                if (config_files[i] == nullptr) {
                    return fail(RN_E_INVALID_ARGUMENT, "rn_log_config_json: config_files[" +
                                                           std::to_string(i) + "] is NULL");
                }
                o.config_files->emplace_back(config_files[i]);
            }
        }
        return from_status(run->run.log_config(o));
    } catch (...) {
        return internal_error("rn_log_config_json");
    }
}

int rn_flush(rn_run* run, uint32_t timeout_ms) {
    try {
        if (run == nullptr) {
            return null_run("rn_flush");
        }
        return from_status(run->run.flush(std::chrono::milliseconds(timeout_ms)));
    } catch (...) {
        return internal_error("rn_flush");
    }
}

int rn_finish(rn_run* run, const char* status) {
    try {
        if (run == nullptr) {
            return null_run("rn_finish");
        }
        return from_status(run->run.finish(status == nullptr ? "finished" : status));
    } catch (...) {
        return internal_error("rn_finish");
    }
}

int rn_finish_ex(rn_run* run, const char* status, const char* exit_reason) {
    try {
        if (run == nullptr) {
            return null_run("rn_finish_ex");
        }
        RunCore* core = RunAccess::core(run->run);
        if (core == nullptr) {
            return RN_OK;  // no-op run
        }
        return from_status(core->finish(status == nullptr ? "finished" : status,
                                        exit_reason == nullptr ? "" : exit_reason, 0, true));
    } catch (...) {
        return internal_error("rn_finish_ex");
    }
}

int rn_log_raw(rn_run* run, const char* utf8, size_t len) {
    try {
        if (run == nullptr) {
            return null_run("rn_log_raw");
        }
        if (utf8 == nullptr && len > 0) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_log_raw: utf8 is NULL but len is not 0");
        }
        RunCore* core = RunAccess::core(run->run);
        if (core == nullptr) {
            return RN_OK;
        }
        return from_enqueued(*core, core->log_raw(std::string_view(utf8 ? utf8 : "", len)),
                             "rn_log_raw");
    } catch (...) {
        return internal_error("rn_log_raw");
    }
}

int rn_run_get_info(rn_run* run, rn_run_info* out) {
    try {
        if (run == nullptr) {
            return null_run("rn_run_get_info");
        }
        if (out == nullptr) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_run_get_info: out is NULL");
        }
        rn_run_info info{};
        info.struct_size = sizeof info;
        info.id = run->run.id().c_str();
        info.path = run->run.path().c_str();
        info.run_dir = run->run_dir.c_str();
        info.storage_root = run->storage_root.c_str();
        info.enabled = run->run.enabled() ? 1 : 0;
        info.finished = run->run.finished() ? 1 : 0;
        if (!copy_out(info, out)) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_run_get_info: out->struct_size is too small");
        }
        return RN_OK;
    } catch (...) {
        return internal_error("rn_run_get_info");
    }
}

int rn_run_get_stats(rn_run* run, rn_run_stats* out) {
    try {
        if (run == nullptr) {
            return null_run("rn_run_get_stats");
        }
        if (out == nullptr) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_run_get_stats: out is NULL");
        }
        const runicorn::RunStats s = run->run.stats();
        rn_run_stats st{};
        st.struct_size = sizeof st;
        st.records_logged = s.records_logged;
        st.records_written = s.records_written;
        st.records_dropped = s.records_dropped;
        st.bytes_written = s.bytes_written;
        st.write_errors = s.write_errors;
        st.queue_bytes = s.queue_bytes;
        if (!copy_out(st, out)) {
            return fail(RN_E_INVALID_ARGUMENT, "rn_run_get_stats: out->struct_size is too small");
        }
        return RN_OK;
    } catch (...) {
        return internal_error("rn_run_get_stats");
    }
}

int rn_set_warning_callback(void (*cb)(int code, const char* kind, const char* message, void* user),
                            void* user) {
    try {
        if (cb == nullptr) {
            runicorn::sdk::set_default_warning_handler({});
            return RN_OK;
        }
        runicorn::sdk::set_default_warning_handler([cb, user](const runicorn::Warning& w) {
            cb(code_of(w.code), w.kind.c_str(), w.message.c_str(), user);
        });
        return RN_OK;
    } catch (...) {
        return internal_error("rn_set_warning_callback");
    }
}

int rn_is_enabled(void) { return runicorn::is_enabled() ? 1 : 0; }
void rn_set_enabled(int enabled) { runicorn::set_enabled(enabled != 0); }
void rn_reset_enabled(void) { runicorn::reset_enabled(); }

}  // extern "C"

// ---- The helpers of c_api_internal.hpp, for the other C ABI translation units ----------------
namespace runicorn::sdk::capi {
int fail(int code, std::string_view message) noexcept { return ::fail(code, message); }
int from_status(const Status& s) noexcept { return ::from_status(s); }
int internal_error(const char* fn) noexcept { return ::internal_error(fn); }
int write_out(const std::string& text, char* out, std::size_t cap, std::size_t* needed,
              const char* fn, const char* what_happened) {
    return ::write_out(text, out, cap, needed, fn, what_happened);
}
}  // namespace runicorn::sdk::capi
