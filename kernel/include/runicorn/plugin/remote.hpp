#pragma once

#include <string>
#include <string_view>

#include <runicorn/export.hpp>

namespace runicorn::plugin {

/// The SSH remote-viewer service. Connections, host keys and tunnels arrive with the remote issue;
/// today it owns libssh2's global state for the process.
/// Thread safety: safe for concurrent use.
class RUNICORN_PLUGIN_API Remote {
public:
    static constexpr std::string_view kServiceId = "runicorn.remote/1";

    virtual ~Remote() = default;
    Remote(const Remote&) = delete;
    Remote& operator=(const Remote&) = delete;
    Remote(Remote&&) = delete;
    Remote& operator=(Remote&&) = delete;

    /// The libssh2 version linked at run time, e.g. "1.10.0".
    virtual std::string ssh_library_version() const = 0;

protected:
    Remote() = default;
};

}  // namespace runicorn::plugin
