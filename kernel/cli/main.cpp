#include <iostream>
#include <utility>

#include "blob_commands.hpp"
#include "cli_language.hpp"
#include "cli_messages.hpp"
#include "commands.hpp"
#include "demo_command.hpp"
#include "runicorn_version.hpp"
#include "runs_commands.hpp"
#include <CLI/CLI.hpp>

namespace {

/// The first positional argument when it names no subcommand of `app`, else "". Values of the
/// global options that take one are skipped.
std::string unknown_command(int argc, char** argv, CLI::App& app) {
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--") {
            return "";
        }
        if (arg.rfind('-', 0) == 0) {
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

int run_cli(int argc, char** argv) {
    using runicorn::cli::GlobalOptions;
    using runicorn::cli::tr;
    // Messages are chosen first, from a scan of argv, so that even a usage error speaks the
    // user's language; the scope keeps the i18n plugin loaded until the command returns.
    GlobalOptions message_options;
    std::string lang = runicorn::cli::scan_message_options(argc, argv, message_options);
    const runicorn::cli::MessagesScope messages_scope =
        runicorn::cli::setup_messages(message_options, lang);
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
    app.add_option("--lang", lang,
                   "Language of messages, e.g. en, zh-CN (default: RUNICORN_LANG, LC_ALL, LANG)");

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
    viewer->add_option("--token", v.token,
                       "Access token to require (default: RUNICORN_TOKEN, else one generated per "
                       "launch when needed)");
    bool reload = false;
    viewer->add_flag("--reload", reload, "Accepted for compatibility with Runicorn v0.6; ignored");

    runicorn::cli::LsOptions ls;
    auto* ls_cmd = app.add_subcommand("ls", "List runs (filters, sorting, pages; --json)");
    ls_cmd->add_option("--path", ls.path,
                       "Runs at this path or below it (\"/\" for root-path runs)");
    ls_cmd->add_flag("--exact", ls.exact, "Only runs exactly at --path");
    ls_cmd->add_option("--status", ls.statuses, "Comma-separated statuses, e.g. running,failed");
    ls_cmd->add_option("--tag", ls.tags, "Only runs carrying this tag (repeatable: all of them)");
    ls_cmd->add_option("--text", ls.text, "Case-insensitive text in the id, alias, path or tags");
    ls_cmd->add_option("-q,--filter", ls.filter,
                       "Filter expression, e.g. 'summary.acc > 0.9 AND tags HAS \"baseline\"' "
                       "(docs: API.md section 4.2)");
    ls_cmd->add_option("--since", ls.since,
                       "Created at or after: ISO date, date and time, or epoch seconds");
    ls_cmd->add_option("--until", ls.until, "Created before (same forms as --since)");
    ls_cmd->add_flag("--deleted", ls.deleted, "Only soft-deleted runs (the recycle bin)");
    ls_cmd->add_option("--sort", ls.sort,
                       "created, started, ended, duration, path, status, alias, best, id, "
                       "summary.<key> or discovery (default)");
    auto* asc = ls_cmd->add_flag("--asc", ls.asc, "Ascending order");
    auto* desc = ls_cmd->add_flag("--desc", ls.desc, "Descending order");
    asc->excludes(desc);
    ls_cmd->add_option("--limit", ls.limit, "Page size (default: every match)");
    ls_cmd->add_option("--cursor", ls.cursor, "Continue after a page (from next_cursor)");
    ls_cmd->add_flag("--json", ls.json, "Print JSON");

    std::string show_id;
    auto* show_cmd = app.add_subcommand("show", "Show everything about one run");
    show_cmd->add_option("RUN_ID", show_id, "The run id")->required();
    show_cmd->add_flag("--json", json, "Print JSON");

    auto* reindex_cmd =
        app.add_subcommand("reindex",
                           "Rebuild the run catalog (index/catalog.sqlite) from the "
                           "run folders");

    bool repair = false;
    auto* fsck_cmd = app.add_subcommand(
        "fsck", "Check every run folder (exit 0 clean, 1 problems found, 2 could not run)");
    fsck_cmd->add_flag("--repair", repair,
                       "Fix what can be fixed safely (torn tails, missing assets.json and media/, "
                       "unparsable files moved aside, old temp files)");

    std::vector<std::string> delete_ids;
    bool permanent = false;
    auto* delete_cmd = app.add_subcommand("delete", "Soft-delete runs (restore brings them back)");
    delete_cmd->add_option("RUN_ID", delete_ids, "Run ids")->required();
    delete_cmd->add_flag("--permanent", permanent,
                         "Remove the run folders and their rolling outputs for good");

    std::vector<std::string> restore_ids;
    auto* restore_cmd = app.add_subcommand("restore", "Restore soft-deleted runs");
    restore_cmd->add_option("RUN_ID", restore_ids, "Run ids")->required();

    runicorn::cli::DemoOptions demo;
    int demo_seconds = 60;
    auto* demo_cmd = app.add_subcommand(
        "demo",
        "Log a simulated training run (live metrics and console lines) to watch in the viewer");
    demo_cmd->add_option("--seconds", demo_seconds, "How long it runs (default 60)")
        ->check(CLI::Range(1, 86400));
    demo_cmd->add_option("--path", demo.path, "Run path (default demo/quickstart)");

    const runicorn::cli::BlobCommands blob_commands(app);  // gc, verify, du, artifacts

    // CLI11 reports a mistyped command as a missing one; name it instead.
    if (auto unknown = unknown_command(argc, argv, app); !unknown.empty()) {
        return runicorn::cli::fail(tr("unknown_command", {{"command", unknown}}), 2);
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    if (auto rc = blob_commands.run(g)) {
        return *rc;
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
    if (ls_cmd->parsed()) {
        return runicorn::cli::run_ls(g, ls);
    }
    if (show_cmd->parsed()) {
        return runicorn::cli::run_show(g, show_id, json);
    }
    if (reindex_cmd->parsed()) {
        return runicorn::cli::run_reindex(g);
    }
    if (fsck_cmd->parsed()) {
        return runicorn::cli::run_fsck(g, repair);
    }
    if (delete_cmd->parsed()) {
        return runicorn::cli::run_delete(g, delete_ids, permanent);
    }
    if (restore_cmd->parsed()) {
        return runicorn::cli::run_restore(g, restore_ids);
    }
    if (demo_cmd->parsed()) {
        demo.duration = std::chrono::seconds(demo_seconds);
        return runicorn::cli::run_demo(g, demo);
    }
    std::cerr << app.help();
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    // Commands report failures as messages; anything thrown (out of memory, a library bug) still
    // ends with a message and a non-zero exit instead of std::terminate.
    try {
        return run_cli(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << runicorn::cli::tr("internal_error_what", {{"what", e.what()}}) << "\n";
    } catch (...) {
        std::cerr << runicorn::cli::tr("internal_error") << "\n";
    }
    return 70;  // EX_SOFTWARE
}
