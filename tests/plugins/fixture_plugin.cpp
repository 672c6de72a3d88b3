// The fixture plugins of STYLE.md rule 18, one library per behaviour, selected by
// RUNICORN_FIXTURE_<NAME> at compile time. Each misbehaves in exactly one way.
#include <memory>
#include <stdexcept>
#include <string>

#include <runicorn/plugin/plugin.hpp>

#include "fixture_service.hpp"

namespace runicorn::test {
namespace {

class Hello final : public FixtureService {
public:
    explicit Hello(std::string who) : who_(std::move(who)) {}
    std::string hello() const override { return "hello from " + who_; }

private:
    std::string who_;
};

class FixturePlugin final : public plugin::Plugin {
public:
    Status init(plugin::PluginContext& ctx) override {
        log_ = ctx.logger();
        log_->info("init {}", ctx.plugin_id());
#if defined(RUNICORN_FIXTURE_INIT_THROWS)
        throw std::runtime_error("boom from init_throws");
#elif defined(RUNICORN_FIXTURE_INIT_FAILS)
        return Status::failed_precondition("the fixture refuses to initialise");
#elif defined(RUNICORN_FIXTURE_REGISTERS_DUPLICATE)
        RUNICORN_RETURN_IF_ERROR(ctx.provide<FixtureService>(std::make_shared<Hello>("first")));
        return ctx.provide<FixtureService>(std::make_shared<Hello>("second"));
#elif defined(RUNICORN_FIXTURE_DEPENDS_ON_GOOD)
        auto good = ctx.find<FixtureService>();
        if (good == nullptr) {
            return Status::failed_precondition("initialised before its dependency");
        }
        log_->info("depends_on_good sees '{}'", good->hello());
        return Status::ok();
#elif defined(RUNICORN_FIXTURE_PROVIDES)
        return ctx.provide<FixtureService>(std::make_shared<Hello>(ctx.plugin_id()));
#else
        return Status::ok();
#endif
    }
    Status start() override {
        log_->info("start");
        return Status::ok();
    }
    void stop() noexcept override { log_->info("stop"); }

private:
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace
}  // namespace runicorn::test

#if defined(RUNICORN_FIXTURE_UNDEFINED_SYMBOL)
// Declared, never defined: rtld_now must refuse the library at load time (T40 b).
extern "C" int runicorn_fixture_missing_function();
extern "C" BOOST_SYMBOL_EXPORT int runicorn_fixture_use_missing() {
    return runicorn_fixture_missing_function();
}
#endif

#if defined(RUNICORN_FIXTURE_EXPORTED_ABI) || defined(RUNICORN_FIXTURE_BUILD_TAG) || \
    defined(RUNICORN_FIXTURE_NO_FACTORY)
// Hand-written exports instead of RUNICORN_DECLARE_PLUGIN, to lie about the ABI or the build.
namespace fixture_exports {
#if defined(RUNICORN_FIXTURE_EXPORTED_ABI)
const std::uint32_t abi_version = RUNICORN_FIXTURE_EXPORTED_ABI;
#else
const std::uint32_t abi_version = ::runicorn::plugin::kAbiVersion.packed();
#endif
#if defined(RUNICORN_FIXTURE_BUILD_TAG)
const char* const build_tag = RUNICORN_FIXTURE_BUILD_TAG;
#else
const char* const build_tag = ::runicorn::plugin::kBuildTag;
#endif
::runicorn::plugin::Plugin* create_plugin(std::string* error) noexcept {
    return ::runicorn::plugin::detail::create_guarded<runicorn::test::FixturePlugin>(error);
}
}  // namespace fixture_exports
BOOST_DLL_ALIAS(fixture_exports::abi_version, runicorn_plugin_abi_version)
BOOST_DLL_ALIAS(fixture_exports::build_tag, runicorn_plugin_build_tag)
#if !defined(RUNICORN_FIXTURE_NO_FACTORY)
BOOST_DLL_ALIAS(fixture_exports::create_plugin, runicorn_create_plugin)
#endif
#else
RUNICORN_DECLARE_PLUGIN(runicorn::test::FixturePlugin)
#endif
