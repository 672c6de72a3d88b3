#include "config_routes.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "../responses.hpp"
#include "api_common.hpp"
#include "prefs_file.hpp"
#include "run_json.hpp"
#include <unistd.h>

namespace runicorn::http_plugin::api {
namespace {

namespace fs = std::filesystem;
using plugin::HttpRequest;
using plugin::HttpResponse;

constexpr char kConfigFile[] = "config.json";
constexpr char kPrefsFile[] = "ui_preferences.json";

fs::path config_file(const ApiState& state) { return state.config_dir() / kConfigFile; }
fs::path prefs_file(const ApiState& state) { return state.config_dir() / kPrefsFile; }

HttpResponse ok_message(std::string_view message) {
    boost::json::object out;
    out["ok"] = true;
    out["message"] = message;
    return json_response(200, out);
}

/// The same place as `p` after ~ expansion, made absolute and with symlinks resolved as far as
/// they exist.
fs::path resolved(const std::string& p) {
    std::error_code ec;
    fs::path abs = fs::absolute(fs::path(expand_user_path(p)), ec);
    if (ec) {
        return fs::path(p).lexically_normal();
    }
    fs::path canon = fs::weakly_canonical(abs, ec);
    return ec ? abs.lexically_normal() : canon;
}

/// The root served now: the run store's (it may have switched), else the one of the start.
fs::path current_root(const ApiState& state) {
    return state.store() != nullptr ? state.store()->root() : state.storage_root();
}

std::string storage_source(const ApiState& state, const boost::json::object& config) {
    const fs::path root = resolved(current_root(state).string());
    // NOLINTNEXTLINE(concurrency-mt-unsafe): nothing in the viewer calls setenv.
    const char* env = std::getenv("RUNICORN_DIR");
    if (env != nullptr && *env != '\0' && resolved(env) == root) {
        return "env";
    }
    const boost::json::value* user = config.if_contains("user_root_dir");
    if (user != nullptr && user->is_string() && !user->as_string().empty() &&
        resolved(std::string(user->as_string())) == root) {
        return "config";
    }
    if (resolved(".runicorn") == root) {
        return "default";
    }
    return "flag";
}

HttpResponse get_config(ApiState& state, const HttpRequest& /*request*/) {
    Result<boost::json::object> config = read_object_file(config_file(state));
    boost::json::object cfg = config ? std::move(*config) : boost::json::object();
    const boost::json::value* user = cfg.if_contains("user_root_dir");
    boost::json::object out;
    out["user_root_dir"] =
        (user != nullptr && user->is_string()) ? boost::json::value(user->as_string()) : "";
    const fs::path root = current_root(state);
    out["storage"] = root.string();
    out["config_file"] = config_file(state).string();
    out["config_dir"] = state.config_dir().string();
    out["storage_source"] = storage_source(state, cfg);
    out["storage_writable"] = ::access(root.c_str(), W_OK) == 0;
    return json_response(200, out);
}

/// A required string field of a body; the 422 response otherwise.
std::optional<HttpResponse> body_string(const boost::json::object& body, std::string_view name,
                                        std::string& out) {
    const boost::json::value* v = body.if_contains(name);
    if (v == nullptr) {
        return validation_error({"body", std::string(name)}, "field required",
                                "value_error.missing");
    }
    if (v->is_string()) {
        out = std::string(v->as_string());
    } else if (v->is_int64() || v->is_uint64()) {
        out = boost::json::serialize(*v);
    } else {
        return validation_error({"body", std::string(name)}, "str type expected", "type_error.str");
    }
    return std::nullopt;
}

HttpResponse invalid_root(const std::string& reason) {
    return error_response(400, "INVALID_PATH", "Invalid path or permission error: " + reason);
}

HttpResponse set_user_root_dir(ApiState& state, const HttpRequest& request) {
    boost::json::object body;
    if (auto err = object_body(request, body)) {
        return err.value();
    }
    std::string raw;
    if (auto err = body_string(body, "path", raw)) {
        return err.value();
    }
    if (raw.find_first_not_of(" \t") == std::string::npos) {
        return invalid_root("empty path");
    }
    if (raw.find('\0') != std::string::npos) {
        return invalid_root("path contains NUL");
    }
    std::error_code ec;
    fs::path target = fs::absolute(fs::path(expand_user_path(raw)), ec).lexically_normal();
    if (ec) {
        return invalid_root(ec.message());
    }
    if (target.has_filename() == false && target.has_parent_path()) {
        target = target.parent_path();  // drop a trailing separator
    }
    if (target == target.root_path()) {
        return invalid_root("the filesystem root cannot be the storage root");
    }
    const fs::path config_dir = resolved(state.config_dir().string());
    fs::create_directories(target, ec);
    if (ec) {
        return invalid_root(ec.message());
    }
    const fs::path canon = resolved(target.string());
    auto [a, b] = std::mismatch(config_dir.begin(), config_dir.end(), canon.begin(), canon.end());
    if (a == config_dir.end()) {
        return invalid_root("the storage root cannot be inside the config directory");
    }
    if (::access(canon.c_str(), W_OK) != 0) {
        return invalid_root("directory is not writable");
    }
    const std::string value = canon.string();
    Status saved;
    {
        const std::lock_guard lock(state.prefs_mutex());
        saved = update_object_file(config_file(state), [&value](boost::json::object& cfg) {
            cfg["user_root_dir"] = value;
        });
    }
    if (!saved.is_ok()) {
        if (state.logger() != nullptr) {
            state.logger()->error("saving user_root_dir: {}", saved.to_string());
        }
        return invalid_root("cannot save the configuration");
    }
    boost::json::object out;
    out["ok"] = true;
    out["user_root_dir"] = value;
    // The switch at once (API.md §2.5) when the run store can do it; else at the next start.
    Status switched = Status::unimplemented("no run store");
    if (state.store() != nullptr) {
        switched = state.store()->switch_root(canon);
    }
    if (switched.is_ok()) {
        out["storage"] = current_root(state).string();
        out["restart_required"] = false;
        out["message"] = "Saved; the viewer now serves the new storage root";
        return json_response(200, out);
    }
    if (switched.code() != StatusCode::kUnimplemented && state.logger() != nullptr) {
        state.logger()->warn("switching to the storage root '{}': {}", value, switched.to_string());
    }
    out["storage"] = current_root(state).string();
    out["restart_required"] = true;
    out["message"] = "Saved; restart the viewer to serve the new storage root";
    return json_response(200, out);
}

/// Reads ui_preferences.json for a GET (damaged or missing: {}).
boost::json::object read_prefs(const ApiState& state) {
    const std::lock_guard lock(state.prefs_mutex());
    Result<boost::json::object> prefs = read_object_file(prefs_file(state));
    return prefs ? std::move(*prefs) : boost::json::object();
}

HttpResponse update_prefs(ApiState& state, const std::function<void(boost::json::object&)>& fn,
                          std::string_view message) {
    Status s;
    {
        const std::lock_guard lock(state.prefs_mutex());
        s = update_object_file(prefs_file(state), fn);
    }
    if (!s.is_ok()) {
        return store_failure(state, "updating ui_preferences.json", Status::internal(s.message()));
    }
    return ok_message(message);
}

boost::json::object& object_member(boost::json::object& obj, std::string_view key) {
    boost::json::value& v = obj[key];
    if (!v.is_object()) {
        v = boost::json::object();
    }
    return v.as_object();
}

boost::json::array& array_member(boost::json::object& obj, std::string_view key) {
    boost::json::value& v = obj[key];
    if (!v.is_array()) {
        v = boost::json::array();
    }
    return v.as_array();
}

std::optional<HttpResponse> required_query(const HttpRequest& request, std::string_view name,
                                           std::string& out) {
    std::optional<std::string> v = request.query_value(name);
    if (!v) {
        return validation_error({"query", std::string(name)}, "field required",
                                "value_error.missing");
    }
    out = std::move(*v);
    return std::nullopt;
}

HttpResponse get_widths(ApiState& state, const HttpRequest& request) {
    std::string table;
    std::string size;
    if (auto err = required_query(request, "table", table)) {
        return err.value();
    }
    if (auto err = required_query(request, "size", size)) {
        return err.value();
    }
    boost::json::object prefs = read_prefs(state);
    boost::json::value widths = boost::json::object();
    if (const auto* all = prefs.if_contains("column_widths"); all != nullptr && all->is_object()) {
        if (const auto* entry = all->as_object().if_contains(table + "@" + size);
            entry != nullptr && entry->is_object()) {
            if (const auto* w = entry->as_object().if_contains("widths");
                w != nullptr && w->is_object()) {
                widths = *w;
            }
        }
    }
    boost::json::object out;
    out["table"] = table;
    out["size"] = size;
    out["widths"] = std::move(widths);
    return json_response(200, out);
}

HttpResponse post_widths(ApiState& state, const HttpRequest& request) {
    boost::json::object body;
    if (auto err = object_body(request, body)) {
        return err.value();
    }
    std::string table;
    std::string size;
    if (auto err = body_string(body, "table", table)) {
        return err.value();
    }
    if (auto err = body_string(body, "size", size)) {
        return err.value();
    }
    const boost::json::value* widths = body.if_contains("widths");
    if (widths == nullptr) {
        return validation_error({"body", "widths"}, "field required", "value_error.missing");
    }
    if (!widths->is_object()) {
        return validation_error({"body", "widths"}, "value is not a valid dict", "type_error.dict");
    }
    boost::json::object clean;
    for (const auto& kv : widths->as_object()) {
        const boost::json::value& w = kv.value();
        if (w.is_int64() || w.is_uint64()) {
            clean[kv.key()] = w;
        } else if (w.is_double() &&
                   w.as_double() == static_cast<double>(static_cast<std::int64_t>(w.as_double()))) {
            clean[kv.key()] = static_cast<std::int64_t>(w.as_double());
        } else {
            return validation_error({"body", "widths", std::string(kv.key())},
                                    "value is not a valid integer", "type_error.integer");
        }
    }
    boost::json::object entry;
    entry["widths"] = std::move(clean);
    for (const char* key : {"window_width", "window_height"}) {
        const boost::json::value* v = body.if_contains(key);
        if (v == nullptr || v->is_null()) {
            entry[key] = nullptr;
        } else if (v->is_int64() || v->is_uint64()) {
            entry[key] = *v;
        } else {
            return validation_error({"body", key}, "value is not a valid integer",
                                    "type_error.integer");
        }
    }
    entry["updated_at"] = unix_now();
    const std::string key = table + "@" + size;
    return update_prefs(
        state,
        [&](boost::json::object& prefs) { object_member(prefs, "column_widths")[key] = entry; },
        "Column width preferences saved");
}

HttpResponse reset_widths(ApiState& state, const HttpRequest& request) {
    std::string table;
    if (auto err = required_query(request, "table", table)) {
        return err.value();
    }
    const std::optional<std::string> size = request.query_value("size");
    return update_prefs(
        state,
        [&](boost::json::object& prefs) {
            boost::json::object& all = object_member(prefs, "column_widths");
            if (size) {
                all.erase(table + "@" + *size);
                return;
            }
            const std::string prefix = table + "@";
            std::vector<std::string> doomed;
            for (const auto& kv : all) {
                if (std::string_view(kv.key()).starts_with(prefix)) {
                    doomed.emplace_back(kv.key());
                }
            }
            for (const std::string& k : doomed) {
                all.erase(k);
            }
        },
        "Column width preferences reset");
}

HttpResponse get_alerts(ApiState& state, const HttpRequest& /*request*/) {
    boost::json::object prefs = read_prefs(state);
    boost::json::array ids;
    if (const auto* list = prefs.if_contains("dismissed_alerts");
        list != nullptr && list->is_array()) {
        for (const auto& id : list->as_array()) {
            if (id.is_string()) {
                ids.push_back(id);
            }
        }
    }
    boost::json::object out;
    out["dismissed_alerts"] = std::move(ids);
    return json_response(200, out);
}

HttpResponse change_alert(ApiState& state, const HttpRequest& request, bool dismiss) {
    boost::json::object body;
    if (auto err = object_body(request, body)) {
        return err.value();
    }
    std::string id;
    if (auto err = body_string(body, "alert_id", id)) {
        return err.value();
    }
    return update_prefs(
        state,
        [&](boost::json::object& prefs) {
            boost::json::array& list = array_member(prefs, "dismissed_alerts");
            auto it = std::find_if(list.begin(), list.end(), [&](const boost::json::value& v) {
                return v.is_string() && v.as_string() == id;
            });
            if (dismiss && it == list.end()) {
                list.emplace_back(id);
            } else if (!dismiss) {
                list.erase(std::remove_if(list.begin(), list.end(),
                                          [&](const boost::json::value& v) {
                                              return v.is_string() && v.as_string() == id;
                                          }),
                           list.end());
            }
        },
        "Alert '" + id + (dismiss ? "' dismissed" : "' restored"));
}

Handler bind(const std::shared_ptr<ApiState>& state,
             HttpResponse (*fn)(ApiState&, const HttpRequest&)) {
    return [state, fn](const HttpRequest& request) { return fn(*state, request); };
}

}  // namespace

Status add_config_routes(plugin::HttpRoutes& routes, const std::shared_ptr<ApiState>& state) {
    RUNICORN_RETURN_IF_ERROR(add_route(routes,
                                       {"GET", "/api/config", "Storage root and config file", true},
                                       bind(state, get_config)));
    RUNICORN_RETURN_IF_ERROR(add_route(
        routes, {"POST", "/api/config/user_root_dir", "Save the storage root setting", true},
        bind(state, set_user_root_dir)));
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"GET", "/api/config/column-widths", "Saved column widths", true},
                  bind(state, get_widths)));
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"POST", "/api/config/column-widths", "Save column widths", true},
                  bind(state, post_widths)));
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"DELETE", "/api/config/column-widths", "Reset column widths", true},
                  bind(state, reset_widths)));
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"POST", "/api/config/column-widths/reset", "Reset column widths", true},
                  bind(state, reset_widths)));
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"GET", "/api/config/dismissed-alerts", "Dismissed alerts", true},
                  bind(state, get_alerts)));
    RUNICORN_RETURN_IF_ERROR(add_route(
        routes, {"POST", "/api/config/dismissed-alerts/dismiss", "Dismiss an alert", true},
        [state](const HttpRequest& request) { return change_alert(*state, request, true); }));
    RUNICORN_RETURN_IF_ERROR(add_route(
        routes, {"POST", "/api/config/dismissed-alerts/undismiss", "Restore an alert", true},
        [state](const HttpRequest& request) { return change_alert(*state, request, false); }));
    RUNICORN_RETURN_IF_ERROR(add_route(
        routes, {"POST", "/api/config/dismissed-alerts/clear", "Clear dismissed alerts", true},
        [state](const HttpRequest& /*request*/) {
            return update_prefs(
                *state,
                [](boost::json::object& prefs) {
                    prefs["dismissed_alerts"] = boost::json::array();
                },
                "All dismissed alerts cleared");
        }));
    return Status::ok();
}

}  // namespace runicorn::http_plugin::api
