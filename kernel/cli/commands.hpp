#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <spdlog/common.h>

#include <runicorn/result.hpp>

#include "config.hpp"
#include "logging.hpp"
#include "plugin_host.hpp"

namespace runicorn::cli {

/// Options every subcommand accepts (before or after the subcommand name).
struct GlobalOptions {
    kernel::CliOverrides overrides;
};

struct ViewerOptions {
    std::optional<std::string> host;
    std::optional<int> port;
    bool remote_mode = false;
    std::optional<std::string> token;  ///< --token (else RUNICORN_TOKEN, else generated if needed)
};

/// A loaded configuration and a plugin host built from it (not yet loaded). Members are
/// destroyed host first, then the logs it uses.
/// Thread safety: externally synchronized.
struct Session {
    kernel::KernelConfig cfg;
    std::unique_ptr<kernel::LogHub> logs;
    std::unique_ptr<kernel::PluginHost> host;
};

/// Loads the configuration and builds the plugin host. `default_enabled` replaces the configured
/// plugin list unless --plugins was given (the run commands load only "storage").
Result<Session> open_session(
    const GlobalOptions& g, spdlog::level::level_enum default_level,
    const boost::json::object& extra_http_config = {},
    std::optional<std::vector<std::string>> default_enabled = std::nullopt);

/// Prints "runicorn: error: <message>" on stderr and returns `code`.
int fail(const std::string& message, int code = 1);

/// Each command prints to stdout/stderr and returns the process exit code:
/// 0 success, 1 failure (the message says why), 2 bad configuration or usage.
int run_version(const GlobalOptions& g, bool as_json);
int run_plugins(const GlobalOptions& g, bool as_json);
int run_config_show(const GlobalOptions& g);
int run_config_set_user_root(const GlobalOptions& g, const std::string& path);
int run_viewer(const GlobalOptions& g, const ViewerOptions& v);

}  // namespace runicorn::cli
