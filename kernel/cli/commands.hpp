#pragma once

#include <optional>
#include <string>

#include "config.hpp"

namespace runicorn::cli {

/// Options every subcommand accepts (before or after the subcommand name).
struct GlobalOptions {
    kernel::CliOverrides overrides;
};

struct ViewerOptions {
    std::optional<std::string> host;
    std::optional<int> port;
    bool remote_mode = false;
};

/// Each command prints to stdout/stderr and returns the process exit code:
/// 0 success, 1 failure (the message says why), 2 bad configuration or usage.
int run_version(const GlobalOptions& g, bool as_json);
int run_plugins(const GlobalOptions& g, bool as_json);
int run_config_show(const GlobalOptions& g);
int run_config_set_user_root(const GlobalOptions& g, const std::string& path);
int run_viewer(const GlobalOptions& g, const ViewerOptions& v);

}  // namespace runicorn::cli
