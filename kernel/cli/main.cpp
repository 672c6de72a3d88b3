#include <iostream>
#include <utility>

#include "commands.hpp"
#include "runicorn_version.hpp"
#include <CLI/CLI.hpp>

namespace {

/// The first positional argument when it names no subcommand of `app`, else "". Values of the
/// global options that take one are skipped.
std::string unknown_command(int argc, char** argv, CLI::App& app) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--") {
            return "";
        }
        if (arg.rfind("-", 0) == 0) {
            auto* opt = arg.find('=') == std::string::npos ? app.get_option_no_throw(arg) : nullptr;
            if (opt != nullptr && opt->get_type_size() != 0) {
                ++i;  // its value
            }
            continue;
        }
        for (const auto* sub : std::as_const(app).get_subcommands({})) {
            if (sub->check_name(arg)) {
                return "";
            }
        }
        return arg;
    }
    return "";
}

}  // namespace

int main(int argc, char** argv) {
    using runicorn::cli::GlobalOptions;
    GlobalOptions g;
    CLI::App app{"Runicorn: a local-first experiment tracker.", "runicorn"};
    app.require_subcommand(1);
    app.fallthrough();
    app.set_version_flag("--version", runicorn::kernel::kVersion);
    app.add_option("--storage,--logdir", g.overrides.storage,
                   "Storage root (default: RUNICORN_DIR, then user_root_dir in config.json, then "
                   "./.runicorn)");
    app.add_option("--plugin-path", g.overrides.plugin_paths,
                   "Extra plugin directory (repeatable; also RUNICORN_PLUGIN_PATH)");
    app.add_option("--plugins", g.overrides.plugins,
                   "Comma-separated plugin ids to load, e.g. storage,http (default: all)");
    app.add_option("--log-level", g.overrides.log_level,
                   "trace, debug, info, warn, error, critical or off (default: info)");

    bool json = false;
    auto* version = app.add_subcommand("version", "Print the version and the plugin ABI");
    version->add_flag("--json", json, "Print JSON");

    auto* plugins = app.add_subcommand("plugins",
                                       "List the plugins found: loaded, refused (and why) "
                                       "or disabled");
    plugins->add_flag("--json", json, "Print JSON");

    auto* config = app.add_subcommand("config", "Show or change the per-user configuration");
    bool show = false;
    std::string user_root;
    auto* show_opt = config->add_flag("--show", show, "Print the effective configuration");
    auto* set_opt = config->add_option("--set-user-root", user_root,
                                       "Store PATH as the default storage root (user_root_dir)");
    show_opt->excludes(set_opt);
    config->require_option(1);

    runicorn::cli::ViewerOptions v;
    auto* viewer = app.add_subcommand("viewer",
                                      "Start the viewer (web UI and REST API) until "
                                      "Ctrl-C or SIGTERM");
    viewer->add_option("--host", v.host, "Address to bind (default 127.0.0.1)");
    viewer->add_option("--port", v.port, "Port to listen on (default 23300)")
        ->check(CLI::Range(0, 65535));
    viewer->add_flag("--remote-mode", v.remote_mode,
                     "Started on a GPU server by the remote viewer (binds 127.0.0.1)");
    bool reload = false;
    viewer->add_flag("--reload", reload, "Accepted for compatibility with Runicorn v0.6; ignored");

    // CLI11 reports a mistyped command as a missing one; name it instead.
    if (auto unknown = unknown_command(argc, argv, app); !unknown.empty()) {
        std::cerr << "runicorn: error: unknown command '" << unknown << "' (see runicorn --help)\n";
        return 2;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    if (version->parsed()) {
        return runicorn::cli::run_version(g, json);
    }
    if (plugins->parsed()) {
        return runicorn::cli::run_plugins(g, json);
    }
    if (config->parsed()) {
        return show ? runicorn::cli::run_config_show(g)
                    : runicorn::cli::run_config_set_user_root(g, user_root);
    }
    if (viewer->parsed()) {
        return runicorn::cli::run_viewer(g, v);
    }
    std::cerr << app.help();
    return 2;
}
