#include "config.hpp"

#include <cstdlib>

#include <boost/json.hpp>

#include "fs_util.hpp"
#include "json_text.hpp"
#include "logging.hpp"
#include <sys/stat.h>

namespace runicorn::kernel {
namespace fs = std::filesystem;
namespace json = boost::json;

EnvLookup process_env() {
    return [](const std::string& name) -> std::optional<std::string> {
        // The CLI reads the environment once, at start, before any thread exists.
        const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
        if (v == nullptr) {
            return std::nullopt;
        }
        return std::string(v);
    };
}

namespace {

std::optional<std::string> non_empty(const EnvLookup& env, const std::string& name) {
    auto v = env(name);
    if (v && v->empty()) {
        return std::nullopt;
    }
    return v;
}

std::optional<fs::path> home_dir(const EnvLookup& env) {
    if (auto h = non_empty(env, "HOME")) {
        return fs::path(*h);
    }
    return std::nullopt;
}

Result<std::vector<std::string>> string_array(const json::object& obj, std::string_view key,
                                              const std::string& pointer, const fs::path& file) {
    std::vector<std::string> out;
    const auto* v = obj.if_contains(key);
    if (v == nullptr) {
        return out;
    }
    const auto bad = [&] {
        return Status::invalid_argument("'" + file.string() + "': " + pointer + "/" +
                                        std::string(key) + " must be an array of strings");
    };
    if (!v->is_array()) {
        return bad();
    }
    for (const auto& item : v->get_array()) {
        if (!item.is_string()) {
            return bad();
        }
        out.emplace_back(item.get_string());
    }
    return out;
}

Result<json::object> object_member(const json::object& obj, std::string_view key,
                                   const std::string& pointer, const fs::path& file) {
    const auto* v = obj.if_contains(key);
    if (v == nullptr) {
        return json::object{};
    }
    if (!v->is_object()) {
        return Status::invalid_argument("'" + file.string() + "': " + pointer + "/" +
                                        std::string(key) + " must be an object");
    }
    return v->get_object();
}

}  // namespace

std::vector<std::string> split_list(const std::string& text, std::string_view separators) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : text) {
        if (separators.find(c) != std::string_view::npos) {
            if (!cur.empty()) {
                out.push_back(cur);
            }
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    if (!cur.empty()) {
        out.push_back(cur);
    }
    return out;
}

fs::path config_dir(const EnvLookup& env) {
    if (auto d = non_empty(env, "RUNICORN_CONFIG_DIR")) {
        return fs::path(*d);
    }
    if (auto x = non_empty(env, "XDG_CONFIG_HOME")) {
        return fs::path(*x) / "runicorn";  // used as given, even if relative (v0.6 does the same)
    }
    if (auto h = home_dir(env)) {
        return *h / ".config" / "runicorn";
    }
    return fs::path("~") / ".runicorn_config";
}

fs::path normalize_root(const std::string& value, const EnvLookup& env) {
    std::string expanded = value;
    if (!expanded.empty() && expanded[0] == '~' && (expanded.size() == 1 || expanded[1] == '/')) {
        if (auto h = home_dir(env)) {
            expanded = h->string() + expanded.substr(1);
        }
    }
    std::error_code ec;
    fs::path p = fs::absolute(fs::path(expanded), ec);
    if (ec) {
        p = fs::path(expanded);
    }
    fs::path canonical = fs::weakly_canonical(p, ec);
    return ec ? p.lexically_normal() : canonical;
}

Result<KernelConfig> load_config(const CliOverrides& cli, const EnvLookup& env) {
    KernelConfig cfg;
    cfg.config_dir = config_dir(env);
    cfg.config_file = cfg.config_dir / "config.json";

    std::error_code ec;
    cfg.config_file_exists = fs::exists(cfg.config_file, ec);
    if (cfg.config_file_exists) {
        auto parsed = read_json_file(cfg.config_file);
        if (!parsed) {
            return parsed.error();
        }
        if (!parsed->is_object()) {
            return Status::invalid_argument("'" + cfg.config_file.string() +
                                            "': the top level must be an object");
        }
        cfg.file = std::move(parsed->get_object());
    }

    // Our settings live under runicorn_cpp (FORMAT.md §1.3); v0.6 keeps that subtree intact.
    RUNICORN_ASSIGN_OR_RETURN(json::object ours,
                              object_member(cfg.file, "runicorn_cpp", "", cfg.config_file));
    RUNICORN_ASSIGN_OR_RETURN(json::object kernel,
                              object_member(ours, "kernel", "/runicorn_cpp", cfg.config_file));
    RUNICORN_ASSIGN_OR_RETURN(cfg.plugin_configs,
                              object_member(ours, "plugins", "/runicorn_cpp", cfg.config_file));
    RUNICORN_ASSIGN_OR_RETURN(cfg.viewer,
                              object_member(ours, "viewer", "/runicorn_cpp", cfg.config_file));
    RUNICORN_ASSIGN_OR_RETURN(
        auto config_paths,
        string_array(kernel, "plugin_paths", "/runicorn_cpp/kernel", cfg.config_file));
    RUNICORN_ASSIGN_OR_RETURN(
        auto config_plugins,
        string_array(kernel, "plugins", "/runicorn_cpp/kernel", cfg.config_file));

    // Storage root, FORMAT.md §1.1: explicit > RUNICORN_DIR > user_root_dir > ./.runicorn.
    std::string root;
    if (cli.storage && !cli.storage->empty()) {
        root = *cli.storage;
        cfg.storage_root_source = "--storage";
    } else if (auto d = non_empty(env, "RUNICORN_DIR")) {
        root = *d;
        cfg.storage_root_source = "RUNICORN_DIR";
    } else if (const auto* u = cfg.file.if_contains("user_root_dir");
               u != nullptr && u->is_string() && !u->get_string().empty()) {
        root = std::string(u->get_string());
        cfg.storage_root_source = "user_root_dir in " + cfg.config_file.string();
    } else {
        root = "./.runicorn";
        cfg.storage_root_source = "default (./.runicorn)";
    }
    cfg.storage_root = normalize_root(root, env);

    for (const auto& p : config_paths) {
        cfg.plugin_dirs.emplace_back(normalize_root(p, env));
    }
    if (auto pp = non_empty(env, "RUNICORN_PLUGIN_PATH")) {
        for (const auto& p : split_list(*pp, ":;")) {
            cfg.plugin_dirs.emplace_back(normalize_root(p, env));
        }
    }
    for (const auto& p : cli.plugin_paths) {
        cfg.plugin_dirs.emplace_back(normalize_root(p, env));
    }

    if (kernel.if_contains("plugins") != nullptr) {
        cfg.enabled_plugins = config_plugins;
    }
    if (auto e = non_empty(env, "RUNICORN_PLUGINS")) {
        cfg.enabled_plugins = split_list(*e, ",");
    }
    if (cli.plugins) {
        cfg.enabled_plugins = split_list(*cli.plugins, ",");
    }

    std::optional<std::string> level;
    if (const auto* l = kernel.if_contains("log_level")) {
        if (!l->is_string()) {
            return Status::invalid_argument("'" + cfg.config_file.string() +
                                            "': /runicorn_cpp/kernel/log_level must be a string");
        }
        level = std::string(l->get_string());
    }
    if (auto e = non_empty(env, "RUNICORN_LOG_LEVEL")) {
        level = *e;
    }
    if (cli.log_level) {
        level = *cli.log_level;
    }
    if (level) {
        RUNICORN_ASSIGN_OR_RETURN(cfg.log_level, parse_log_level(*level));
    }
    return cfg;
}

Result<fs::path> set_user_root(const fs::path& dir, const std::string& root, const EnvLookup& env) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec) {
            return Status::permission_denied("cannot create the config directory '" + dir.string() +
                                             "': " + ec.message());
        }
        ::chmod(dir.c_str(), 0700);
    }
    FileLock lock(dir / "config.json.lock");
    RUNICORN_RETURN_IF_ERROR(lock.status());

    const auto file = dir / "config.json";
    json::object obj;
    if (fs::exists(file, ec)) {
        auto parsed = read_json_file(file);
        if (!parsed) {
            return parsed.error().with_context("not changing the config");
        }
        if (!parsed->is_object()) {
            return Status::invalid_argument("not changing the config: '" + file.string() +
                                            "': the top level must be an object");
        }
        obj = std::move(parsed->get_object());
    }
    const fs::path absolute = normalize_root(root, env);
    obj["user_root_dir"] = absolute.string();
    RUNICORN_RETURN_IF_ERROR(write_file_atomic(file, pretty_json(obj), 0600));
    return absolute;
}

}  // namespace runicorn::kernel
