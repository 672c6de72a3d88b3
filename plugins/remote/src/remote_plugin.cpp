#include <memory>

#include <libssh2.h>

#include <runicorn/plugin/plugin.hpp>
#include <runicorn/plugin/remote.hpp>

namespace runicorn::remote {
namespace {

/// Thread safety: safe for concurrent use (reads a constant of the library).
class Libssh2Remote final : public plugin::Remote {
public:
    std::string ssh_library_version() const override {
        const char* v = libssh2_version(0);
        return v != nullptr ? v : "";
    }
};

/// Initialises libssh2 once for the process in start() and releases it in stop(), so sessions
/// opened by the remote features never race libssh2's global initialisation.
class RemotePlugin final : public plugin::Plugin {
public:
    Status init(plugin::PluginContext& ctx) override {
        log_ = ctx.logger();
        return ctx.provide<plugin::Remote>(std::make_shared<Libssh2Remote>());
    }
    Status start() override {
        const int rc = libssh2_init(0);
        if (rc != 0) {
            return Status::internal("libssh2_init failed with code " + std::to_string(rc));
        }
        initialised_ = true;
        log_->debug("libssh2 {} initialised", libssh2_version(0));
        return Status::ok();
    }
    void stop() noexcept override {
        if (initialised_) {
            libssh2_exit();
            initialised_ = false;
        }
    }

private:
    std::shared_ptr<spdlog::logger> log_;
    bool initialised_ = false;
};

}  // namespace
}  // namespace runicorn::remote

RUNICORN_DECLARE_PLUGIN(runicorn::remote::RemotePlugin)
