#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include <boost/dll/alias.hpp>

#include <runicorn/export.hpp>
#include <runicorn/plugin/abi.hpp>
#include <runicorn/plugin/context.hpp>
#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

namespace runicorn::plugin {

/// A plugin: one object per loaded library, created by the exported factory.
///
/// Lifecycle, driven by the kernel from one thread: init() in dependency order (validate the
/// plugin's config subtree, register services; start no threads, open no sockets), start() once
/// every init() has succeeded, stop() in reverse order. stop() is called only after a successful
/// start(); the destructor runs after stop() (or after a failed init()/start()).
///
/// Implementations may throw from init()/start(): RUNICORN_DECLARE_PLUGIN wraps the class so that
/// no exception crosses the library boundary; it becomes an INTERNAL status naming the call.
///
/// Thread safety: externally synchronized (the kernel calls the lifecycle methods one at a time).
class RUNICORN_PLUGIN_API Plugin {
public:
    virtual ~Plugin() = default;
    Plugin(const Plugin&) = delete;
    Plugin& operator=(const Plugin&) = delete;
    Plugin(Plugin&&) = delete;
    Plugin& operator=(Plugin&&) = delete;

    /// Validates config, registers services. A non-OK status refuses the plugin; services it
    /// registered are removed and the kernel runs on without it.
    virtual Status init(PluginContext& ctx) = 0;
    /// Starts threads, opens sockets. A non-OK status stops the plugin (stop() is not called).
    virtual Status start() = 0;
    /// Stops everything start() began. Never throws; logs cleanup errors.
    virtual void stop() noexcept = 0;

protected:
    Plugin() = default;
};

/// The factory's signature: returns a new plugin owned by the caller (deleted through the virtual
/// destructor), or nullptr with *error set. Never throws.
using FactoryFn = Plugin*(std::string* error) noexcept;

namespace detail {

inline Status status_from_current_exception(const char* what_call) {
    try {
        throw;
    } catch (const std::exception& e) {
        return Status::internal(std::string(what_call) + " threw an exception: " + e.what());
    } catch (...) {
        return Status::internal(std::string(what_call) + " threw a non-standard exception");
    }
}

/// Wraps a plugin class so that exceptions stop inside the plugin's own library.
template <class P>
class GuardedPlugin final : public Plugin {
public:
    explicit GuardedPlugin(std::unique_ptr<P> inner) : inner_(std::move(inner)) {}
    ~GuardedPlugin() override = default;
    GuardedPlugin(const GuardedPlugin&) = delete;
    GuardedPlugin& operator=(const GuardedPlugin&) = delete;
    GuardedPlugin(GuardedPlugin&&) = delete;
    GuardedPlugin& operator=(GuardedPlugin&&) = delete;

    Status init(PluginContext& ctx) override {
        try {
            return inner_->init(ctx);
        } catch (...) {
            return status_from_current_exception("the plugin");
        }
    }
    Status start() override {
        try {
            return inner_->start();
        } catch (...) {
            return status_from_current_exception("the plugin");
        }
    }
    void stop() noexcept override { inner_->stop(); }

private:
    std::unique_ptr<P> inner_;
};

template <class P>
Plugin* create_guarded(std::string* error) noexcept {
    try {
        return new GuardedPlugin<P>(std::make_unique<P>());
    } catch (...) {
        Status s = status_from_current_exception("the plugin constructor");
        if (error != nullptr) {
            *error = s.message();
        }
        return nullptr;
    }
}

}  // namespace detail
}  // namespace runicorn::plugin

/// Exports the three aliases for plugin class `Class` (STYLE.md rule 22). Use once per library, at
/// namespace scope in a .cpp file. The ABI version and build tag are exported as data, so the
/// kernel reads them without running any plugin code.
#define RUNICORN_DECLARE_PLUGIN(Class)                                                  \
    namespace runicorn_plugin_exports_ {                                                \
    const std::uint32_t abi_version = ::runicorn::plugin::kAbiVersion.packed();         \
    const char* const build_tag = ::runicorn::plugin::kBuildTag;                        \
    ::runicorn::plugin::Plugin* create_plugin(std::string* error) noexcept {            \
        return ::runicorn::plugin::detail::create_guarded<Class>(error);                \
    }                                                                                   \
    }                                                                                   \
    BOOST_DLL_ALIAS(runicorn_plugin_exports_::abi_version, runicorn_plugin_abi_version) \
    BOOST_DLL_ALIAS(runicorn_plugin_exports_::build_tag, runicorn_plugin_build_tag)     \
    BOOST_DLL_ALIAS(runicorn_plugin_exports_::create_plugin, runicorn_create_plugin)
