#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <spdlog/logger.h>

#include <runicorn/plugin/abi.hpp>
#include <runicorn/plugin/kernel_info.hpp>
#include <runicorn/status.hpp>

#include "logging.hpp"
#include "service_registry.hpp"

namespace runicorn::kernel {

/// What the host needs to find, check and configure plugins.
struct HostOptions {
    /// Directories searched for plugins, in order: each sub-directory holding a plugin.json is a
    /// plugin. A directory that does not exist is skipped silently; one that cannot be read is
    /// reported by directory_errors().
    std::vector<std::filesystem::path> plugin_dirs;
    /// Plugin ids to load; nullopt loads every plugin found. Others are reported as "disabled".
    std::optional<std::vector<std::string>> enabled;
    /// `runicorn_cpp.plugins` of the configuration: each plugin gets its own member as config().
    boost::json::object plugin_configs;
    std::filesystem::path storage_root;
    std::filesystem::path config_dir;
    std::string version;
    /// The ABI and build tag the host implements. Tests override them to exercise the checks.
    plugin::AbiVersion abi = plugin::kAbiVersion;
    std::string build_tag = plugin::kBuildTag;
    /// Refuse libraries writable by group/others or owned by someone other than root or us.
    bool check_permissions = true;
};

/// Finds plugins, checks them, loads them and drives their lifecycle (DESIGN.md, Kernel):
///   load():  discover → read manifest → ABI/permission checks → dlopen(rtld_now|rtld_local) →
///            check exported ABI and build tag → create the plugin through its factory.
///   init():  resolve "requires"/"uses" into a dependency order; init each plugin in that order.
///   start(): start each initialised plugin in that order.
///   stop():  stop in reverse order, drop the services, destroy the plugins, unload the libraries
///            (a library stays loaded while any object from it is still referenced elsewhere).
/// A plugin that fails any step is "refused" with a message naming it, its file and the reason;
/// the host keeps going without it. Nothing here throws.
///
/// Thread safety: externally synchronized, except find_service() and reports(), which are safe for
/// concurrent use once load() has returned.
class PluginHost {
public:
    PluginHost(HostOptions options, LogHub& logs);
    ~PluginHost();
    PluginHost(const PluginHost&) = delete;
    PluginHost& operator=(const PluginHost&) = delete;
    PluginHost(PluginHost&&) = delete;
    PluginHost& operator=(PluginHost&&) = delete;

    void load();
    void init();
    void start();
    /// Idempotent; also run by the destructor.
    void stop() noexcept;

    /// Every plugin found, in discovery order.
    std::vector<plugin::PluginReport> reports() const;
    /// Plugin directories that could not be read, as messages.
    const std::vector<std::string>& directory_errors() const { return directory_errors_; }
    std::shared_ptr<void> find_service(std::string_view id) const { return registry_.find(id); }
    template <class T>
    std::shared_ptr<T> find() const {
        return std::static_pointer_cast<T>(find_service(T::kServiceId));
    }
    const HostOptions& options() const { return options_; }

private:
    struct Entry;
    class Context;
    class Info;

    void discover();
    void load_one(Entry& e);
    void refuse(Entry& e, std::string why);
    std::vector<Entry*> dependency_order();
    /// The first plugin whose manifest claims `service`, whatever became of it (for messages).
    Entry* declared_provider(std::string_view service) const;

    HostOptions options_;
    LogHub& logs_;
    std::shared_ptr<spdlog::logger> log_;
    ServiceRegistry registry_;
    mutable std::mutex reports_mu_;  // guards each entry's report
    std::vector<std::unique_ptr<Entry>> entries_;
    std::vector<Entry*> order_;    // init order
    std::vector<Entry*> started_;  // start order
    std::vector<std::string> directory_errors_;
    bool stopped_ = false;
};

}  // namespace runicorn::kernel
