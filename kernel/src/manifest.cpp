#include "manifest.hpp"

#include <charconv>

#include <boost/json.hpp>

#include "json_text.hpp"

namespace runicorn::kernel {
namespace {

namespace json = boost::json;

bool is_valid_plugin_id(std::string_view id) {
    if (id.empty() || id.size() > 64 || !(id[0] >= 'a' && id[0] <= 'z')) {
        return false;
    }
    for (char c : id) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

std::optional<plugin::AbiVersion> parse_abi(std::string_view text) {
    const auto dot = text.find('.');
    if (dot == std::string_view::npos) {
        return std::nullopt;
    }
    unsigned major = 0;
    unsigned minor = 0;
    const char* end = text.data() + text.size();
    auto r1 = std::from_chars(text.data(), text.data() + dot, major);
    auto r2 = std::from_chars(text.data() + dot + 1, end, minor);
    if (r1.ec != std::errc() || r1.ptr != text.data() + dot || r2.ec != std::errc() ||
        r2.ptr != end || dot == 0 || major > 0xFFFF || minor > 0xFFFF) {
        return std::nullopt;
    }
    return plugin::AbiVersion{static_cast<std::uint16_t>(major), static_cast<std::uint16_t>(minor)};
}

Result<std::vector<std::string>> service_list(const json::object& obj, std::string_view key) {
    std::vector<std::string> out;
    const auto* v = obj.if_contains(key);
    if (v == nullptr) {
        return out;
    }
    if (!v->is_array()) {
        return Status::invalid_argument("\"" + std::string(key) + "\" must be an array of strings");
    }
    for (const auto& item : v->get_array()) {
        if (!item.is_string() || !is_valid_service_id(item.get_string())) {
            return Status::invalid_argument("\"" + std::string(key) + "\" holds " +
                                            json::serialize(item) +
                                            ", not a service id like \"runicorn.run_store/1\"");
        }
        out.emplace_back(item.get_string());
    }
    return out;
}

Result<std::string> required_string(const json::object& obj, std::string_view key) {
    const auto* v = obj.if_contains(key);
    if (v == nullptr) {
        return Status::invalid_argument("missing \"" + std::string(key) + "\"");
    }
    if (!v->is_string() || v->get_string().empty()) {
        return Status::invalid_argument("\"" + std::string(key) + "\" must be a non-empty string");
    }
    return std::string(v->get_string());
}

}  // namespace

bool is_valid_service_id(std::string_view id) {
    const auto slash = id.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == id.size()) {
        return false;
    }
    for (char c : id.substr(0, slash)) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) {
            return false;
        }
    }
    for (char c : id.substr(slash + 1)) {
        if (!(c >= '0' && c <= '9')) {
            return false;
        }
    }
    return true;
}

Result<PluginManifest> read_manifest(const std::filesystem::path& dir) {
    const auto file = dir / "plugin.json";
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        return Status::not_found("missing manifest: no plugin.json in '" + dir.string() + "'");
    }
    auto parsed = read_json_file(file);
    if (!parsed) {
        return Status::invalid_argument("invalid manifest: " + parsed.error().message());
    }
    if (!parsed->is_object()) {
        return Status::invalid_argument("invalid manifest '" + file.string() +
                                        "': the top level must be an object");
    }
    const auto& obj = parsed->get_object();
    const auto bad = [&file](const Status& s) {
        return Status::invalid_argument("invalid manifest '" + file.string() + "': " + s.message());
    };

    PluginManifest m;
    m.dir = dir;
    auto id = required_string(obj, "id");
    if (!id) {
        return bad(id.error());
    }
    if (!is_valid_plugin_id(*id)) {
        return bad(Status::invalid_argument("\"id\" must match [a-z][a-z0-9_-]{0,63}, got \"" +
                                            *id + "\""));
    }
    m.id = *id;
    auto version = required_string(obj, "version");
    if (!version) {
        return bad(version.error());
    }
    m.version = *version;
    auto abi_text = required_string(obj, "abi");
    if (!abi_text) {
        return bad(abi_text.error());
    }
    auto abi = parse_abi(*abi_text);
    if (!abi) {
        return bad(
            Status::invalid_argument("\"abi\" must be \"MAJOR.MINOR\", got \"" + *abi_text + "\""));
    }
    m.abi = *abi;

    const auto* lib = obj.if_contains("library");
    if (lib == nullptr) {
        return bad(Status::invalid_argument(
            "missing \"library\" (a file name, or null for a data-only plugin)"));
    }
    if (lib->is_string() && !lib->get_string().empty()) {
        m.library = std::string(lib->get_string());
    } else if (!lib->is_null()) {
        return bad(Status::invalid_argument("\"library\" must be a file name or null"));
    }

    auto provides = service_list(obj, "provides");
    if (!provides) {
        return bad(provides.error());
    }
    m.provides = std::move(*provides);
    auto requires_services = service_list(obj, "requires");
    if (!requires_services) {
        return bad(requires_services.error());
    }
    m.requires_services = std::move(*requires_services);
    auto uses = service_list(obj, "uses");
    if (!uses) {
        return bad(uses.error());
    }
    m.uses = std::move(*uses);
    if (const auto* d = obj.if_contains("description"); d != nullptr && d->is_string()) {
        m.description = std::string(d->get_string());
    }
    return m;
}

}  // namespace runicorn::kernel
