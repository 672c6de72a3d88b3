#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <spdlog/common.h>

#include <runicorn/result.hpp>

namespace runicorn::kernel {

/// Looks up an environment variable; nullopt when unset. Tests pass a map-backed one.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// The process environment (getenv).
EnvLookup process_env();

/// Settings given on the command line: they beat the environment, which beats config.json.
struct CliOverrides {
    std::optional<std::string> storage;     ///< --storage / --logdir
    std::vector<std::string> plugin_paths;  ///< --plugin-path (repeatable)
    std::optional<std::string> plugins;     ///< --plugins storage,http
    std::optional<std::string> log_level;   ///< --log-level
};

/// The kernel's effective configuration: defaults < config.json < environment < command line.
struct KernelConfig {
    std::filesystem::path config_dir;   ///< FORMAT.md §1.2
    std::filesystem::path config_file;  ///< <config_dir>/config.json
    bool config_file_exists = false;
    boost::json::object file;  ///< The whole config.json ({} when absent).

    std::filesystem::path
        storage_root;  ///< FORMAT.md §1.1: absolute, `~` expanded, symlinks resolved
    std::string storage_root_source;  ///< Which rule chose it, e.g. "RUNICORN_DIR".

    /// Extra plugin directories: config, then RUNICORN_PLUGIN_PATH, then --plugin-path.
    std::vector<std::filesystem::path> plugin_dirs;
    /// Plugin ids to load; nullopt loads all.
    std::optional<std::vector<std::string>> enabled_plugins;
    spdlog::level::level_enum log_level = spdlog::level::info;

    boost::json::object plugin_configs;  ///< runicorn_cpp.plugins
    boost::json::object viewer;          ///< runicorn_cpp.viewer
};

/// The per-user config directory: RUNICORN_CONFIG_DIR, else $XDG_CONFIG_HOME/runicorn (as given),
/// else ~/.config/runicorn, else ~/.runicorn_config when no home is known (FORMAT.md §1.2).
std::filesystem::path config_dir(const EnvLookup& env);

/// Expands a leading `~`, makes the path absolute against the CWD and resolves symlinks of the
/// existing part (FORMAT.md §1.1).
std::filesystem::path normalize_root(const std::string& value, const EnvLookup& env);

/// Loads the configuration. INVALID_ARGUMENT when config.json is not valid JSON (the message names
/// the file, line and column) or holds a setting of the wrong type (named by its JSON pointer);
/// INVALID_ARGUMENT for a bad --log-level. A missing config.json is not an error.
Result<KernelConfig> load_config(const CliOverrides& cli, const EnvLookup& env);

/// Sets `user_root_dir` in <config_dir>/config.json (read-modify-write under config.json.lock,
/// temp + rename, unknown keys kept in order, file 0600, directory created 0700). Refuses to touch
/// a config.json that is not valid JSON. Returns the absolute path stored.
Result<std::filesystem::path> set_user_root(const std::filesystem::path& config_dir,
                                            const std::string& root, const EnvLookup& env);

/// Splits "a:b;c" (RUNICORN_PLUGIN_PATH) or "a,b" lists, dropping empty items.
std::vector<std::string> split_list(const std::string& text, std::string_view separators);

}  // namespace runicorn::kernel
