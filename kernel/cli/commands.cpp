#include "commands.hpp"

#include <algorithm>
#include <iostream>
#include <memory>

#include <boost/json.hpp>

#include <runicorn/plugin/abi.hpp>
#include <runicorn/plugin/http_routes.hpp>

#include "cli_messages.hpp"
#include "config.hpp"
#include "display_width.hpp"
#include "json_text.hpp"
#include "logging.hpp"
#include "plugin_dirs.hpp"
#include "plugin_host.hpp"
#include "runicorn_version.hpp"
#include <signal.h>

namespace runicorn::cli {
namespace fs = std::filesystem;
namespace json = boost::json;

int fail(const std::string& message, int code) {
    std::cerr << tr("error", {{"message", message}}) << "\n";
    return code;
}

Result<Session> open_session(const GlobalOptions& g, spdlog::level::level_enum default_level,
                             const json::object& extra_http_config,
                             std::optional<std::vector<std::string>> default_enabled) {
    Session s;
    RUNICORN_ASSIGN_OR_RETURN(s.cfg, kernel::load_config(g.overrides, kernel::process_env()));
    const bool level_given = g.overrides.log_level.has_value() ||
                             kernel::process_env()("RUNICORN_LOG_LEVEL").has_value();
    s.logs = std::make_unique<kernel::LogHub>(level_given ? s.cfg.log_level : default_level);

    kernel::HostOptions opts;
    opts.plugin_dirs = bundled_plugin_dirs();
    opts.plugin_dirs.insert(opts.plugin_dirs.end(), s.cfg.plugin_dirs.begin(),
                            s.cfg.plugin_dirs.end());
    opts.enabled = s.cfg.enabled_plugins;
    if (default_enabled && !g.overrides.plugins) {
        opts.enabled = std::move(default_enabled);
    }
    opts.plugin_configs = s.cfg.plugin_configs;
    // The http plugin's settings: runicorn_cpp.viewer < runicorn_cpp.plugins.http < flags.
    json::object http = s.cfg.viewer;
    if (const auto* p = s.cfg.plugin_configs.if_contains("http"); p != nullptr && p->is_object()) {
        for (const auto& kv : p->get_object()) {
            http[kv.key()] = kv.value();
        }
    }
    for (const auto& kv : extra_http_config) {
        http[kv.key()] = kv.value();
    }
    opts.plugin_configs["http"] = std::move(http);
    opts.storage_root = s.cfg.storage_root;
    opts.config_dir = s.cfg.config_dir;
    opts.version = kernel::kVersion;
    s.host = std::make_unique<kernel::PluginHost>(std::move(opts), *s.logs);
    return s;
}

namespace {

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& i : items) {
        if (!out.empty()) {
            out += sep;
        }
        out += i;
    }
    return out;
}

/// A plugin state ("loaded", "refused", "disabled") in the user's language.
std::string state_text(const std::string& state) {
    if (state == "loaded") {
        return tr("state.loaded");
    }
    if (state == "refused") {
        return tr("state.refused");
    }
    if (state == "disabled") {
        return tr("state.disabled");
    }
    return state;
}

json::value report_json(const plugin::PluginReport& r) {
    json::array provides(r.provides.begin(), r.provides.end());
    json::array requires_services(r.requires_services.begin(), r.requires_services.end());
    return json::object{{"id", r.id},
                        {"version", r.version},
                        {"abi_version", r.abi_version},
                        {"path", r.path},
                        {"state", r.state},
                        {"provides", std::move(provides)},
                        {"requires", std::move(requires_services)},
                        {"error", r.error.empty() ? json::value(nullptr) : json::value(r.error)}};
}

}  // namespace

int run_version(const GlobalOptions& /*g*/, bool as_json) {
    const std::string abi = plugin::kAbiVersion.to_string();
    if (as_json) {
        json::object o{{"version", kernel::kVersion},
                       {"abi_version", abi},
                       {"compat_version", kernel::kCompatVersion},
                       {"build_tag", plugin::kBuildTag}};
        std::cout << kernel::pretty_json(o);
        return 0;
    }
    std::cout << tr("version.line", {{"version", kernel::kVersion},
                                     {"abi", abi},
                                     {"compat", kernel::kCompatVersion}})
              << "\n"
              << tr("version.build", {{"tag", plugin::kBuildTag}}) << "\n";
    return 0;
}

int run_plugins(const GlobalOptions& g, bool as_json) {
    auto session = open_session(g, spdlog::level::off);
    if (!session) {
        return fail(session.error().message(), 2);
    }
    auto& host = *session->host;
    host.load();
    host.init();  // reports init failures and missing services; starts nothing
    const auto reports = host.reports();
    if (as_json) {
        json::array arr;
        for (const auto& r : reports) {
            arr.push_back(report_json(r));
        }
        json::object o{{"plugins", std::move(arr)},
                       {"kernel", json::object{{"version", kernel::kVersion},
                                               {"abi_version", plugin::kAbiVersion.to_string()}}},
                       {"directory_errors", json::array(host.directory_errors().begin(),
                                                        host.directory_errors().end())}};
        std::cout << kernel::pretty_json(o);
        return 0;
    }
    std::vector<std::array<std::string, 6>> rows;
    rows.push_back({tr("plugins.col_id"), tr("plugins.col_version"), tr("plugins.col_abi"),
                    tr("plugins.col_state"), tr("plugins.col_services"), tr("plugins.col_file")});
    for (const auto& r : reports) {
        rows.push_back({r.id, r.version.empty() ? "-" : r.version,
                        r.abi_version.empty() ? "-" : r.abi_version, state_text(r.state),
                        r.provides.empty() ? "-" : join(r.provides, ","), r.path});
    }
    std::array<std::size_t, 6> width{};
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            width[i] = std::max(width[i], display_width(row[i]));
        }
    }
    for (std::size_t n = 0; n < rows.size(); ++n) {
        const auto& row = rows[n];
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) {
                line.append(width[i] - display_width(row[i]) + 2, ' ');
            }
        }
        std::cout << line << "\n";
        if (n > 0 && !reports[n - 1].error.empty() && reports[n - 1].state != "disabled") {
            std::cout << tr("plugins.why", {{"reason", reports[n - 1].error}}) << "\n";
        }
    }
    if (reports.empty()) {
        std::cout << tr("plugins.none_found") << "\n";
    }
    for (const auto& e : host.directory_errors()) {
        std::cout << tr("warning", {{"message", e}}) << "\n";
    }
    return 0;
}

int run_config_show(const GlobalOptions& g) {
    auto cfg = kernel::load_config(g.overrides, kernel::process_env());
    if (!cfg) {
        return fail(cfg.error().message(), 2);
    }
    json::array dirs;
    for (const auto& d : bundled_plugin_dirs()) {
        dirs.emplace_back(d.string());
    }
    for (const auto& d : cfg->plugin_dirs) {
        dirs.emplace_back(d.string());
    }
    json::value enabled = nullptr;
    if (cfg->enabled_plugins) {
        enabled = json::array(cfg->enabled_plugins->begin(), cfg->enabled_plugins->end());
    }
    json::object o{
        {"config_dir", cfg->config_dir.string()},
        {"config_file", cfg->config_file.string()},
        {"config_file_exists", cfg->config_file_exists},
        {"storage_root", cfg->storage_root.string()},
        {"storage_root_source", cfg->storage_root_source},
        {"plugin_dirs", std::move(dirs)},
        {"enabled_plugins", std::move(enabled)},
        {"log_level", std::string(spdlog::level::to_string_view(cfg->log_level).data())},
        {"viewer", cfg->viewer},
        {"plugins", cfg->plugin_configs},
    };
    std::cout << kernel::pretty_json(o);
    return 0;
}

int run_config_set_user_root(const GlobalOptions& /*g*/, const std::string& path) {
    if (path.empty()) {
        return fail(tr("config.user_root_empty"), 2);
    }
    const auto env = kernel::process_env();
    const auto dir = kernel::config_dir(env);
    auto stored = kernel::set_user_root(dir, path, env);
    if (!stored) {
        return fail(stored.error().message());
    }
    std::cout << tr("config.user_root_set",
                    {{"path", stored->string()}, {"file", (dir / "config.json").string()}})
              << "\n";
    return 0;
}

int run_viewer(const GlobalOptions& g, const ViewerOptions& v) {
    json::object http;
    if (v.host) {
        http["host"] = *v.host;
    }
    if (v.port) {
        http["port"] = *v.port;
    }
    if (v.remote_mode) {
        http["host"] = "127.0.0.1";
        http["remote_mode"] = true;
    }
    if (v.token) {
        http["token"] = *v.token;
    }
    auto session = open_session(g, spdlog::level::info, http);
    if (!session) {
        return fail(session.error().message(), 2);
    }
    auto& cfg = session->cfg;
    auto log = session->logs->get("cli");
    // COMPAT: the viewer creates <root> and <root>/runs at start.
    std::error_code ec;
    fs::create_directories(cfg.storage_root / "runs", ec);
    if (ec) {
        log->warn("cannot create '{}': {}; serving what is there",
                  (cfg.storage_root / "runs").string(), ec.message());
    }

    // Block the stop signals before any plugin thread exists, so only sigwait() below sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    auto& host = *session->host;
    host.load();
    host.init();
    host.start();

    auto routes = host.find<plugin::HttpRoutes>();
    if (routes == nullptr || routes->base_url().empty()) {
        const auto reports = host.reports();
        auto it = std::find_if(reports.begin(), reports.end(),
                               [](const auto& r) { return r.id == "http"; });
        if (it == reports.end()) {
            std::vector<std::string> dirs;
            for (const auto& p : host.options().plugin_dirs) {
                dirs.push_back(p.string());
            }
            return fail(tr("viewer.http_not_found", {{"dirs", join(dirs, ", ")}}));
        }
        return fail(it->error.empty()
                        ? tr("viewer.http_state", {{"state", state_text(it->state)}})
                        : tr("viewer.http_state_why",
                             {{"state", state_text(it->state)}, {"reason", it->error}}));
    }
    routes.reset();
    std::cout << tr("viewer.listening", {{"url", host.find<plugin::HttpRoutes>()->base_url()},
                                         {"storage", cfg.storage_root.string()}})
              << std::endl;

    int sig = 0;
    sigwait(&stop_signals, &sig);
    log->info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    host.stop();
    log->info("stopped");
    return 0;
}

}  // namespace runicorn::cli
