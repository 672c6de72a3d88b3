#include "ssh_config_routes.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "../responses.hpp"
#include "api_common.hpp"
#include "prefs_file.hpp"

namespace runicorn::http_plugin::api {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using plugin::HttpRequest;
using plugin::HttpResponse;

constexpr std::size_t kMaxConnections = 10;
constexpr char kConfigFile[] = "config.json";
constexpr std::array<std::string_view, 3> kSecretFields = {"password", "passphrase", "private_key"};

fs::path config_file(const ApiState& state) { return state.config_dir() / kConfigFile; }

/// Standard base64 (padding optional); nullopt on any other character.
std::optional<std::string> base64_decode(std::string_view in) {
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : in) {
        int v = -1;
        if (c >= 'A' && c <= 'Z') {
            v = c - 'A';
        } else if (c >= 'a' && c <= 'z') {
            v = c - 'a' + 26;
        } else if (c >= '0' && c <= '9') {
            v = c - '0' + 52;
        } else if (c == '+') {
            v = 62;
        } else if (c == '/') {
            v = 63;
        } else if (c == '=') {
            break;
        } else {
            return std::nullopt;
        }
        acc = (acc << 6U) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU));
        }
    }
    return out;
}

/// The secret a field holds: a readable ENC: value, or any other non-empty string (plain text
/// from an older writer). Never sent anywhere; only "is there one" is reported.
bool holds_secret(const json::object& entry, std::string_view field, const fs::path& config_dir) {
    const json::value* v = entry.if_contains(field);
    if (v == nullptr || !v->is_string() || v->as_string().empty()) {
        return false;
    }
    const std::string_view s = v->as_string();
    if (s.starts_with("ENC:")) {
        return decode_legacy_secret(s, config_dir).has_value();
    }
    return true;
}

std::string string_field(const json::object& o, std::string_view key, std::string fallback = "") {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : fallback;
}

std::int64_t port_of(const json::object& o) {
    const json::value* v = o.if_contains("port");
    if (v != nullptr && v->is_int64()) {
        return v->as_int64();
    }
    if (v != nullptr && v->is_uint64()) {
        return static_cast<std::int64_t>(v->as_uint64());
    }
    return 22;
}

std::string key_of(const json::object& o) {
    const std::string key = string_field(o, "key");
    if (!key.empty()) {
        return key;
    }
    return string_field(o, "host") + ":" + std::to_string(port_of(o)) + "@" +
           string_field(o, "username");
}

/// A saved entry as the API shows it: no secret, only whether one is stored.
json::object public_item(const json::object& e, const fs::path& config_dir) {
    json::object out;
    out["host"] = string_field(e, "host");
    out["port"] = port_of(e);
    out["username"] = string_field(e, "username");
    out["name"] = string_field(e, "name");
    const json::value* remember = e.if_contains("remember_password");
    out["remember_password"] = remember != nullptr && remember->is_bool() && remember->as_bool();
    out["auth_method"] = string_field(e, "auth_method", "password");
    if (const json::value* p = e.if_contains("private_key_path"); p != nullptr && p->is_string()) {
        out["private_key_path"] = *p;
    }
    out["key"] = key_of(e);
    const json::value* ref = e.if_contains("secret_ref");
    const bool has_ref = ref != nullptr && ref->is_string() && !ref->as_string().empty();
    out["has_password"] = has_ref || holds_secret(e, "password", config_dir);
    out["has_private_key"] = holds_secret(e, "private_key", config_dir);
    out["has_passphrase"] = holds_secret(e, "passphrase", config_dir);
    return out;
}

/// config.json's ssh_connections entries (objects only); {} when the file is missing.
Result<std::vector<json::object>> saved_entries(const ApiState& state) {
    RUNICORN_ASSIGN_OR_RETURN(json::object cfg, read_object_file(config_file(state)));
    std::vector<json::object> out;
    if (const json::value* list = cfg.if_contains("ssh_connections");
        list != nullptr && list->is_array()) {
        for (const json::value& e : list->as_array()) {
            if (e.is_object()) {
                out.push_back(e.as_object());
            }
        }
    }
    return out;
}

HttpResponse config_failure(const ApiState& state, const Status& status) {
    if (state.logger() != nullptr) {
        state.logger()->error("config.json: {}", status.to_string());
    }
    return error_response(500, "INTERNAL", "Internal error");
}

HttpResponse list_connections(ApiState& state, const HttpRequest& /*request*/) {
    auto entries = saved_entries(state);
    if (!entries) {
        return config_failure(state, entries.error());
    }
    json::array items;
    for (const auto& e : *entries) {
        items.emplace_back(public_item(e, state.config_dir()));
    }
    json::object out;
    out["connections"] = std::move(items);
    return json_response(200, out);
}

std::optional<HttpResponse> required_string(const json::object& body, std::string_view name,
                                            std::string& out) {
    const json::value* v = body.if_contains(name);
    if (v == nullptr) {
        return validation_error({"body", std::string(name)}, "field required",
                                "value_error.missing");
    }
    if (!v->is_string()) {
        return validation_error({"body", std::string(name)}, "str type expected", "type_error.str");
    }
    out = std::string(v->as_string());
    return std::nullopt;
}

std::optional<HttpResponse> optional_string(const json::object& body, std::string_view name,
                                            std::optional<std::string>& out) {
    const json::value* v = body.if_contains(name);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_string()) {
        return validation_error({"body", std::string(name)}, "str type expected", "type_error.str");
    }
    out = std::string(v->as_string());
    return std::nullopt;
}

HttpResponse save_connection(ApiState& state, const HttpRequest& request) {
    json::object body;
    if (auto err = object_body(request, body)) {
        return *err;
    }
    std::string host;
    std::string username;
    if (auto err = required_string(body, "host", host)) {
        return *err;
    }
    if (auto err = required_string(body, "username", username)) {
        return *err;
    }
    if (host.empty() || username.empty()) {
        return validation_error({"body", host.empty() ? "host" : "username"},
                                "ensure this value has at least 1 characters",
                                "value_error.any_str.min_length");
    }
    std::int64_t port = 22;
    if (const json::value* p = body.if_contains("port"); p != nullptr && !p->is_null()) {
        if (!p->is_int64() || p->as_int64() < 1 || p->as_int64() > 65535) {
            return validation_error({"body", "port"}, "port must be an integer in 1..65535",
                                    "type_error.integer");
        }
        port = p->as_int64();
    }
    std::optional<std::string> name;
    std::optional<std::string> auth_method;
    std::optional<std::string> key_path;
    std::array<std::optional<std::string>, 3> secrets;
    if (auto err = optional_string(body, "name", name)) {
        return *err;
    }
    if (auto err = optional_string(body, "auth_method", auth_method)) {
        return *err;
    }
    if (auto err = optional_string(body, "private_key_path", key_path)) {
        return *err;
    }
    for (std::size_t i = 0; i < kSecretFields.size(); ++i) {
        if (auto err = optional_string(body, kSecretFields[i], secrets[i])) {
            return *err;
        }
    }
    bool remember = false;
    if (const json::value* r = body.if_contains("remember_password");
        r != nullptr && !r->is_null()) {
        if (!r->is_bool()) {
            return validation_error({"body", "remember_password"},
                                    "value could not be parsed "
                                    "to a boolean",
                                    "type_error.bool");
        }
        remember = r->as_bool();
    }
    const std::string key = host + ":" + std::to_string(port) + "@" + username;
    json::object entry;
    entry["host"] = host;
    entry["port"] = port;
    entry["username"] = username;
    entry["name"] = name.value_or("");
    entry["remember_password"] = remember;
    entry["auth_method"] = auth_method.value_or("password");
    if (key_path) {
        entry["private_key_path"] = *key_path;
    }
    // FORMAT.md §1.3: no OS keyring and no user-supplied key here, so no secret is stored (and
    // a v0.6 secret of the entry being replaced is dropped with it).
    for (const auto field : kSecretFields) {
        entry[field] = nullptr;
    }
    entry["key"] = key;
    Status saved;
    {
        const std::lock_guard lock(state.prefs_mutex());
        saved = update_object_file(config_file(state), [&](json::object& cfg) {
            json::array list;
            list.emplace_back(entry);
            if (const json::value* old = cfg.if_contains("ssh_connections");
                old != nullptr && old->is_array()) {
                for (const json::value& e : old->as_array()) {
                    if (list.size() == kMaxConnections) {
                        break;
                    }
                    if (e.is_object() && key_of(e.as_object()) != key) {
                        list.push_back(e);
                    }
                }
            }
            cfg["ssh_connections"] = std::move(list);
        });
    }
    if (!saved.is_ok()) {
        return config_failure(state, saved);
    }
    const bool secret_given = std::any_of(
        secrets.begin(), secrets.end(), [](const auto& s) { return s.has_value() && !s->empty(); });
    json::object out;
    out["ok"] = true;
    out["message"] = "SSH connection saved";
    out["secret_stored"] = false;
    out["secret_store"] = nullptr;
    if (remember && secret_given) {
        out["secret_note"] =
            "No OS keyring and no user key are available: the secret was not stored";
    } else {
        out["secret_note"] = nullptr;
    }
    return json_response(200, out);
}

HttpResponse connection_details(ApiState& state, const HttpRequest& request) {
    const std::string key = request.param("key").value_or("");
    auto entries = saved_entries(state);
    if (!entries) {
        return config_failure(state, entries.error());
    }
    for (const auto& e : *entries) {
        if (key_of(e) == key) {
            json::object out;
            out["ok"] = true;
            out["connection"] = public_item(e, state.config_dir());
            return json_response(200, out);
        }
    }
    return error_response(404, "NOT_FOUND", "SSH connection not found");
}

HttpResponse delete_connection(ApiState& state, const HttpRequest& request) {
    const std::string key = request.param("key").value_or("");
    Status saved;
    {
        const std::lock_guard lock(state.prefs_mutex());
        saved = update_object_file(config_file(state), [&key](json::object& cfg) {
            json::value* old = cfg.if_contains("ssh_connections");
            if (old == nullptr || !old->is_array()) {
                return;
            }
            json::array kept;
            for (const json::value& e : old->as_array()) {
                if (!e.is_object() || key_of(e.as_object()) != key) {
                    kept.push_back(e);
                }
            }
            *old = std::move(kept);
        });
    }
    if (!saved.is_ok()) {
        return config_failure(state, saved);
    }
    json::object out;
    out["ok"] = true;
    out["message"] = "SSH connection removed";
    return json_response(200, out);
}

std::function<HttpResponse(const HttpRequest&)> bind(const std::shared_ptr<ApiState>& state,
                                                     HttpResponse (*fn)(ApiState&,
                                                                        const HttpRequest&)) {
    return [state, fn](const HttpRequest& request) { return fn(*state, request); };
}

}  // namespace

std::optional<std::string> decode_legacy_secret(std::string_view value,
                                                const fs::path& config_dir) {
    if (!value.starts_with("ENC:")) {
        return std::nullopt;
    }
    auto bytes = base64_decode(value.substr(4));
    if (!bytes) {
        return std::nullopt;
    }
    std::ifstream in(config_dir / ".credential_key", std::ios::binary);
    const std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (key.size() != 32) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < bytes->size(); ++i) {
        (*bytes)[i] = static_cast<char>((*bytes)[i] ^ key[i % key.size()]);
    }
    return bytes;
}

Status add_ssh_config_routes(plugin::HttpRoutes& routes, const std::shared_ptr<ApiState>& state) {
    RUNICORN_RETURN_IF_ERROR(add_route(
        routes, {"GET", "/api/config/ssh_connections", "Saved SSH connections (no secrets)", true},
        bind(state, list_connections)));
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"POST", "/api/config/ssh_connections", "Save an SSH connection", true},
                  bind(state, save_connection)));
    RUNICORN_RETURN_IF_ERROR(add_route(routes,
                                       {"GET", "/api/config/ssh_connections/:key/details",
                                        "One saved SSH connection (no secrets)", true},
                                       bind(state, connection_details)));
    return add_route(
        routes, {"DELETE", "/api/config/ssh_connections/:key", "Remove an SSH connection", true},
        bind(state, delete_connection));
}

}  // namespace runicorn::http_plugin::api
