#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <runicorn/export.hpp>

namespace runicorn::plugin {

/// One plugin as the kernel sees it: what its manifest says and what became of it.
struct PluginReport {
    std::string id;
    std::string version;
    std::string abi_version;  ///< "major.minor" from the manifest, or "" when unreadable.
    std::string path;         ///< The library, or the plugin directory for a data-only plugin.
    std::string state;        ///< "loaded", "refused" or "disabled".
    std::vector<std::string> provides;
    std::vector<std::string> requires_services;
    std::string error;  ///< Why it was refused; empty when loaded.
    std::string description;
};

/// Facts about the running kernel, registered by the kernel itself (always present).
/// Thread safety: safe for concurrent use.
class RUNICORN_PLUGIN_API KernelInfo {
public:
    static constexpr std::string_view kServiceId = "runicorn.kernel/1";

    virtual ~KernelInfo() = default;
    KernelInfo(const KernelInfo&) = delete;
    KernelInfo& operator=(const KernelInfo&) = delete;
    KernelInfo(KernelInfo&&) = delete;
    KernelInfo& operator=(KernelInfo&&) = delete;

    /// The product version, e.g. "0.1.0".
    virtual std::string version() const = 0;
    /// The kernel's plugin ABI as "major.minor".
    virtual std::string abi_version() const = 0;
    /// Every plugin found, loaded or not, in discovery order.
    virtual std::vector<PluginReport> plugins() const = 0;

protected:
    KernelInfo() = default;
};

}  // namespace runicorn::plugin
