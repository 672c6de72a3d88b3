#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <spdlog/logger.h>

#include <runicorn/export.hpp>
#include <runicorn/status.hpp>

namespace runicorn::plugin {

/// What the kernel hands a plugin during init(): its identity, its configuration subtree, its
/// logger, the well-known directories and the service registry.
///
/// A service is registered under a versioned id (T::kServiceId, e.g. "runicorn.run_store/1") that
/// the plugin's manifest lists under "provides". The kernel ties every registered object to the
/// plugin's library: the library stays loaded while any shared_ptr handed out by find() lives.
///
/// Thread safety: externally synchronized. Use it from init() and start() only; keep the
/// shared_ptrs, not the context.
class RUNICORN_PLUGIN_API PluginContext {
public:
    virtual ~PluginContext() = default;
    PluginContext(const PluginContext&) = delete;
    PluginContext& operator=(const PluginContext&) = delete;
    PluginContext(PluginContext&&) = delete;
    PluginContext& operator=(PluginContext&&) = delete;

    /// The plugin's id from its manifest.
    virtual const std::string& plugin_id() const = 0;
    /// The plugin's configuration: `runicorn_cpp.plugins.<id>` of config.json, with command-line
    /// overrides applied. An empty object when nothing is configured.
    virtual const boost::json::object& config() const = 0;
    /// The plugin's logger, named "plugin.<id>". Never look loggers up with spdlog::get().
    virtual std::shared_ptr<spdlog::logger> logger() const = 0;
    /// The directory holding the plugin's plugin.json, data/ and locales/.
    virtual const std::filesystem::path& plugin_dir() const = 0;
    /// The resolved storage root (FORMAT.md §1.1): absolute, symlinks resolved. It may not exist.
    virtual const std::filesystem::path& storage_root() const = 0;
    /// The per-user config directory (FORMAT.md §1.2).
    virtual const std::filesystem::path& config_dir() const = 0;
    /// The kernel's plugin directories, in search order (for plugins that look for data plugins).
    virtual std::vector<std::filesystem::path> plugin_dirs() const = 0;

    /// Registers `service` under `id`. Fails with INVALID_ARGUMENT when the manifest does not list
    /// `id` under "provides", ALREADY_EXISTS when another object is registered under `id`.
    virtual Status register_service(std::string_view id, std::shared_ptr<void> service) = 0;
    /// Returns the object registered under `id`, or nullptr. The result keeps the providing
    /// plugin's library loaded.
    virtual std::shared_ptr<void> find_service(std::string_view id) const = 0;

    /// Typed helpers: T names its id in `static constexpr std::string_view kServiceId`.
    template <class T>
    Status provide(std::shared_ptr<T> service) {
        return register_service(T::kServiceId, std::static_pointer_cast<void>(std::move(service)));
    }
    template <class T>
    std::shared_ptr<T> find() const {
        return std::static_pointer_cast<T>(find_service(T::kServiceId));
    }

protected:
    PluginContext() = default;
};

}  // namespace runicorn::plugin
