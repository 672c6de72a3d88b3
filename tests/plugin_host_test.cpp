// Plugin loading against the fixture plugins: every refusal names the plugin and its file, and
// the host keeps running the others (STYLE.md rules 18–26; RELIABILITY.md T39–T42, T44).
#include "plugin_host.hpp"

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "fixture_service.hpp"
#include "test_util.hpp"
#include <dlfcn.h>
#include <sys/stat.h>

namespace runicorn::kernel {
namespace {
namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const fs::path kFixtures = RUNICORN_TEST_PLUGINS_DIR;

class PluginHostTest : public ::testing::Test {
protected:
    PluginHostTest()
        : logs_(spdlog::level::debug,
                {std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text_)}) {}

    /// Copies the named fixture plugins into a fresh plugins directory.
    fs::path plugins_dir(std::initializer_list<std::string> names) {
        const fs::path dir = tmp_.path() / "plugins";
        fs::create_directories(dir);
        for (const auto& n : names) {
            fs::copy(kFixtures / n, dir / n, fs::copy_options::recursive);
        }
        return dir;
    }

    std::unique_ptr<PluginHost> make_host(std::vector<fs::path> dirs) {
        HostOptions o;
        o.plugin_dirs = std::move(dirs);
        o.storage_root = tmp_.path() / "store";
        o.config_dir = tmp_.path() / "config";
        o.version = "test";
        o.abi = abi_;
        return std::make_unique<PluginHost>(std::move(o), logs_);
    }

    /// Loads and initialises; returns the reports by id.
    std::map<std::string, plugin::PluginReport> boot(PluginHost& host) {
        host.load();
        host.init();
        host.start();
        std::map<std::string, plugin::PluginReport> out;
        for (auto& r : host.reports()) {
            out.emplace(r.id + (out.count(r.id) ? "#2" : ""), r);
        }
        return out;
    }

    std::string lib(const fs::path& dir, const std::string& name) {
        return (dir / name / ("lib" + name + ".so")).string();
    }

    runicorn::test::TempDir tmp_;
    std::ostringstream log_text_;
    LogHub logs_;
    plugin::AbiVersion abi_ = plugin::kAbiVersion;
};

TEST_F(PluginHostTest, GoodPluginLoadsAndItsServiceKeepsTheLibraryLoaded) {
    const auto dir = plugins_dir({"good"});
    auto host = make_host({dir});
    auto reports = boot(*host);
    ASSERT_EQ(reports.size(), 1U);
    const auto& r = reports.at("good");
    EXPECT_EQ(r.state, "loaded");
    EXPECT_EQ(r.version, "1.2.3");
    EXPECT_EQ(r.abi_version, "1.0");
    EXPECT_EQ(r.path, lib(dir, "good"));
    EXPECT_THAT(r.provides, ElementsAre("runicorn.test_good/1"));
    EXPECT_EQ(r.error, "");

    auto service = host->find<runicorn::test::FixtureService>();
    ASSERT_NE(service, nullptr);
    host->stop();
    // Stopped and dropped from the registry, but the object we hold still runs its code.
    EXPECT_EQ(host->find_service("runicorn.test_good/1"), nullptr);
    EXPECT_EQ(service->hello(), "hello from good");
    void* handle = ::dlopen(lib(dir, "good").c_str(), RTLD_NOW | RTLD_NOLOAD);
    EXPECT_NE(handle, nullptr);
    if (handle != nullptr) {
        ::dlclose(handle);
    }
    service.reset();
    handle = ::dlopen(lib(dir, "good").c_str(), RTLD_NOW | RTLD_NOLOAD);
    EXPECT_EQ(handle, nullptr) << "the library should be unloaded once nothing from it lives";
}

TEST_F(PluginHostTest, KernelServiceListsThePlugins) {
    auto host = make_host({plugins_dir({"good"})});
    boot(*host);
    auto info = host->find<plugin::KernelInfo>();
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->version(), "test");
    EXPECT_EQ(info->abi_version(), "1.0");
    ASSERT_EQ(info->plugins().size(), 1U);
    EXPECT_EQ(info->plugins()[0].id, "good");
}

TEST_F(PluginHostTest, AbiTooNewIsRefusedFromTheManifestBeforeDlopen) {
    const auto dir = plugins_dir({"abi_too_new", "good"});
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("abi_too_new").state, "refused");
    EXPECT_EQ(reports.at("abi_too_new").error,
              "ABI version mismatch: the plugin.json of '" + lib(dir, "abi_too_new") +
                  "' declares ABI 2.0, this kernel implements ABI 1.0");
    void* handle = ::dlopen(lib(dir, "abi_too_new").c_str(), RTLD_NOW | RTLD_NOLOAD);
    EXPECT_EQ(handle, nullptr) << "refused from the manifest, so never loaded";
    EXPECT_EQ(reports.at("good").state, "loaded");
    EXPECT_THAT(log_text_.str(),
                HasSubstr("plugin 'abi_too_new' from '" + lib(dir, "abi_too_new") + "' refused"));
}

TEST_F(PluginHostTest, ExportedAbiIsCheckedBeforeAnythingIsCalled) {
    const auto dir = plugins_dir({"abi_symbol_mismatch"});
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("abi_symbol_mismatch").error,
              "ABI version mismatch: '" + lib(dir, "abi_symbol_mismatch") +
                  "' was built for ABI 2.0, this kernel implements ABI 1.0");
    EXPECT_THAT(log_text_.str(), Not(HasSubstr("init abi_symbol_mismatch")));
}

TEST_F(PluginHostTest, NewerMinorIsRefusedAndOlderMinorLoads) {
    const auto dir = plugins_dir({"minor_too_new", "good"});
    {
        auto host = make_host({dir});
        auto reports = boot(*host);
        EXPECT_EQ(reports.at("minor_too_new").error,
                  "ABI version mismatch: the plugin.json of '" + lib(dir, "minor_too_new") +
                      "' declares ABI 1.1, this kernel implements ABI 1.0");
    }
    abi_ = plugin::AbiVersion{1, 1};  // a newer kernel of the same major
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("minor_too_new").state, "loaded");
    EXPECT_EQ(reports.at("good").state, "loaded") << "built for 1.0, loads in a 1.1 kernel";
}

TEST_F(PluginHostTest, WrongBuildTagIsRefused) {
    const auto dir = plugins_dir({"wrong_build_tag"});
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("wrong_build_tag").error,
              "build tag mismatch: '" + lib(dir, "wrong_build_tag") +
                  "' was built with 'wrong-compiler+boost-0', this kernel with '" +
                  std::string(plugin::kBuildTag) + "'");
}

TEST_F(PluginHostTest, MissingFactoryIsRefused) {
    const auto dir = plugins_dir({"missing_factory"});
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("missing_factory").error,
              "'" + lib(dir, "missing_factory") + "' does not export 'runicorn_create_plugin'");
}

TEST_F(PluginHostTest, UndefinedSymbolFailsAtLoadTimeWithDlerrorText) {
    const auto dir = plugins_dir({"undefined_symbol"});
    auto host = make_host({dir});
    auto reports = boot(*host);
    const auto& error = reports.at("undefined_symbol").error;
    EXPECT_THAT(error, StartsWith("cannot load '" + lib(dir, "undefined_symbol") + "': "));
    EXPECT_THAT(error, HasSubstr("undefined symbol: runicorn_fixture_missing_function"));
}

TEST_F(PluginHostTest, InitThatThrowsIsRefusedAndTheOthersRun) {
    const auto dir = plugins_dir({"init_throws", "good"});
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("init_throws").state, "refused");
    EXPECT_EQ(reports.at("init_throws").error,
              "init() failed: the plugin threw an exception: boom from init_throws");
    EXPECT_EQ(reports.at("good").state, "loaded");
    EXPECT_NE(host->find<runicorn::test::FixtureService>(), nullptr);
}

TEST_F(PluginHostTest, InitThatFailsIsRefused) {
    const auto dir = plugins_dir({"init_fails"});
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("init_fails").error, "init() failed: the fixture refuses to initialise");
    EXPECT_THAT(log_text_.str(), Not(HasSubstr("] start")));
}

TEST_F(PluginHostTest, MissingRequiredServiceIsNamed) {
    const auto dir = plugins_dir({"requires_missing"});
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("requires_missing").error,
              "requires service 'runicorn.nothing/1', which no loaded plugin provides");
}

TEST_F(PluginHostTest, DependenciesInitFirstAndStopLast) {
    // "depends_on_good" sorts first, yet must be initialised after "good" (its init checks).
    const auto dir = plugins_dir({"depends_on_good", "good"});
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("depends_on_good").state, "loaded") << reports.at("depends_on_good").error;
    host->stop();
    const std::string log = log_text_.str();
    const auto pos = [&](const std::string& s) { return log.find(s); };
    EXPECT_LT(pos("[plugin.good] init good"), pos("[plugin.depends_on_good] init depends_on_good"));
    EXPECT_LT(pos("[plugin.good] start"), pos("[plugin.depends_on_good] start"));
    EXPECT_LT(pos("[plugin.depends_on_good] stop"), pos("[plugin.good] stop"));
    EXPECT_NE(pos("depends_on_good sees 'hello from good'"), std::string::npos);
}

TEST_F(PluginHostTest, DependentOfARefusedProviderIsRefused) {
    const auto dir = plugins_dir({"depends_on_good", "good"});
    auto host = make_host({dir});
    ::chmod(lib(dir, "good").c_str(), 0666);
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("good").error,
              "library '" + lib(dir, "good") + "' is writable by group or others");
    EXPECT_EQ(reports.at("depends_on_good").error,
              "requires service 'runicorn.test_good/1', whose provider 'good' was refused");
}

/// A plugin directory `id` running the fixture code that registers nothing, with this manifest.
void add_manifest_only_plugin(const fs::path& dir, const std::string& id,
                              const std::string& manifest_tail) {
    fs::create_directories(dir / id);
    fs::copy_file(kFixtures / "requires_missing" / "librequires_missing.so",
                  dir / id / ("lib" + id + ".so"));
    std::ofstream(dir / id / "plugin.json")
        << R"({"id": ")" << id << R"(", "version": "1", )"
        << R"("abi": "1.0", "library": "lib)" << id << R"(.so", )" << manifest_tail << "}";
}

TEST_F(PluginHostTest, PluginsThatUseEachOtherBothLoad) {
    const auto dir = plugins_dir({});
    add_manifest_only_plugin(dir, "alpha",
                             R"("provides": ["runicorn.a/1"], "uses": ["runicorn.b/1"])");
    add_manifest_only_plugin(dir, "beta",
                             R"("provides": ["runicorn.b/1"], "uses": ["runicorn.a/1"])");
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("alpha").state, "loaded") << reports.at("alpha").error;
    EXPECT_EQ(reports.at("beta").state, "loaded") << reports.at("beta").error;
}

TEST_F(PluginHostTest, ASoftCycleIsBrokenInsideTheCycle) {
    // beta and gamma use each other; alpha (first by name) only uses beta. The cycle must be
    // broken by beta or gamma, never by starting alpha before the plugin it uses (as http and
    // i18n use each other while dedup uses http's route table).
    const auto dir = plugins_dir({});
    add_manifest_only_plugin(dir, "alpha", R"("provides": [], "uses": ["runicorn.b/1"])");
    add_manifest_only_plugin(dir, "beta",
                             R"("provides": ["runicorn.b/1"], "uses": ["runicorn.c/1"])");
    add_manifest_only_plugin(dir, "gamma",
                             R"("provides": ["runicorn.c/1"], "uses": ["runicorn.b/1"])");
    auto host = make_host({dir});
    auto reports = boot(*host);
    for (const char* id : {"alpha", "beta", "gamma"}) {
        EXPECT_EQ(reports.at(id).state, "loaded") << id << ": " << reports.at(id).error;
    }
    const std::string log = log_text_.str();
    const auto pos = [&](const std::string& s) { return log.find(s); };
    ASSERT_NE(pos("[plugin.alpha] init alpha"), std::string::npos) << log;
    EXPECT_LT(pos("[plugin.beta] init beta"), pos("[plugin.alpha] init alpha")) << log;
}

TEST_F(PluginHostTest, RequiresCycleIsRefused) {
    const auto dir = plugins_dir({});
    add_manifest_only_plugin(dir, "alpha",
                             R"("provides": ["runicorn.a/1"], "requires": ["runicorn.b/1"])");
    add_manifest_only_plugin(dir, "beta",
                             R"("provides": ["runicorn.b/1"], "requires": ["runicorn.a/1"])");
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("alpha").error, "dependency cycle among plugins: alpha, beta");
    EXPECT_EQ(reports.at("beta").error, "dependency cycle among plugins: alpha, beta");
}

TEST_F(PluginHostTest, InvalidManifestNamesFileLineAndColumn) {
    const auto dir = plugins_dir({"bad_manifest", "good"});
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("bad_manifest").state, "refused");
    EXPECT_THAT(reports.at("bad_manifest").error,
                StartsWith("invalid manifest: '" + (dir / "bad_manifest" / "plugin.json").string() +
                           "' is not valid JSON: line 4, column 3: "));
    EXPECT_EQ(reports.at("good").state, "loaded");
}

TEST_F(PluginHostTest, ManifestWithMissingFieldIsRefused) {
    const auto dir = plugins_dir({});
    fs::create_directories(dir / "noid");
    std::ofstream(dir / "noid" / "plugin.json")
        << R"({"version": "1", "abi": "1.0", "library": null})";
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("noid").error,
              "invalid manifest '" + (dir / "noid" / "plugin.json").string() + "': missing \"id\"");
}

TEST_F(PluginHostTest, MissingManifestIsRefused) {
    const auto dir = plugins_dir({});
    fs::create_directories(dir / "no_manifest");
    fs::copy_file(lib(kFixtures, "good"), dir / "no_manifest" / "libgood.so");
    fs::copy_file(lib(kFixtures, "good"), dir / "stray.so");
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("no_manifest").error,
              "missing manifest: no plugin.json in '" + (dir / "no_manifest").string() + "'");
    EXPECT_EQ(reports.at("stray").error, "missing manifest: '" + (dir / "stray.so").string() +
                                             "' is not in a plugin directory with a plugin.json");
}

TEST_F(PluginHostTest, DuplicateIdIsRefused) {
    const auto dir = plugins_dir({"duplicate_id", "good"});
    auto host = make_host({dir});
    auto reports = boot(*host);
    // "duplicate_id" (whose manifest says id "good") is found first and wins; the real one is
    // refused.
    EXPECT_EQ(reports.at("good").state, "loaded");
    EXPECT_EQ(reports.at("good").version, "9.9.9");
    EXPECT_EQ(reports.at("good#2").error,
              "duplicate plugin id 'good': already provided by '" + lib(dir, "duplicate_id") + "'");
}

TEST_F(PluginHostTest, RegisteringAServiceTwiceFailsInit) {
    const auto dir = plugins_dir({"registers_duplicate"});
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("registers_duplicate").error,
              "init() failed: service 'runicorn.test_good/1' is already registered by plugin "
              "'registers_duplicate'");
    EXPECT_EQ(host->find_service("runicorn.test_good/1"), nullptr)
        << "a failed init drops what the plugin registered";
}

TEST_F(PluginHostTest, UnreadablePluginsDirectoryIsReportedAndOthersLoad) {
    const auto not_a_dir = tmp_.path() / "file-not-dir";
    std::ofstream(not_a_dir) << "x";
    auto host = make_host({not_a_dir, plugins_dir({"good"}), tmp_.path() / "does-not-exist"});
    auto reports = boot(*host);
    EXPECT_THAT(host->directory_errors(), ElementsAre("cannot read plugins directory '" +
                                                      not_a_dir.string() + "': Not a directory"));
    EXPECT_EQ(reports.at("good").state, "loaded");
}

TEST_F(PluginHostTest, LibraryOutsideThePluginDirectoryIsRejected) {
    const auto dir = plugins_dir({"good"});
    fs::create_directories(dir / "escape");
    std::ofstream(dir / "escape" / "plugin.json")
        << R"({"id": "escape", "version": "1", "abi": "1.0", "library": "../good/libgood.so"})";
    fs::create_directories(dir / "abs");
    std::ofstream(dir / "abs" / "plugin.json")
        << R"({"id": "abs", "version": "1", "abi": "1.0", "library": ")" << lib(dir, "good")
        << R"("})";
    fs::create_directories(dir / "link");
    fs::create_symlink(lib(dir, "good"), dir / "link" / "liblink.so");
    std::ofstream(dir / "link" / "plugin.json")
        << R"({"id": "link", "version": "1", "abi": "1.0", "library": "liblink.so"})";
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("escape").error,
              "library '../good/libgood.so' in plugin.json must be a "
              "file inside '" +
                  (dir / "escape").string() + "'");
    EXPECT_EQ(reports.at("abs").error, "library '" + lib(dir, "good") +
                                           "' in plugin.json must be a file inside '" +
                                           (dir / "abs").string() + "'");
    EXPECT_EQ(reports.at("link").error,
              "library '" + (dir / "link" / "liblink.so").string() + "' is a symbolic link");
}

TEST_F(PluginHostTest, DataOnlyPluginIsLoadedWithoutCode) {
    const auto dir = plugins_dir({"locale_pack"});
    auto host = make_host({dir});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("locale_pack").state, "loaded");
    EXPECT_EQ(reports.at("locale_pack").path, (dir / "locale_pack").string());
}

TEST_F(PluginHostTest, DisabledPluginsAreNotLoaded) {
    const auto dir = plugins_dir({"good", "init_fails"});
    HostOptions o;
    o.plugin_dirs = {dir};
    o.enabled = std::vector<std::string>{"init_fails"};
    PluginHost host(std::move(o), logs_);
    auto reports = boot(host);
    EXPECT_EQ(reports.at("good").state, "disabled");
    void* handle = ::dlopen(lib(dir, "good").c_str(), RTLD_NOW | RTLD_NOLOAD);
    EXPECT_EQ(handle, nullptr);
}

TEST_F(PluginHostTest, TwoPluginsWithTheSameSymbolsWorkIndependently) {
    // Every fixture exports the same alias names; rtld_local keeps them apart (T44).
    const auto dir = plugins_dir({"good"});
    const auto dir2 = tmp_.path() / "plugins2";
    fs::create_directories(dir2 / "other");
    fs::copy_file(lib(kFixtures, "good"), dir2 / "other" / "libother.so");
    std::ofstream(dir2 / "other" / "plugin.json")
        << R"({"id": "other", "version": "1", "abi": "1.0", "library": "libother.so",
              "provides": ["runicorn.test_other/1"]})";
    auto host = make_host({dir, dir2});
    auto reports = boot(*host);
    EXPECT_EQ(reports.at("good").state, "loaded");
    // "other" runs the same code, which registers runicorn.test_good/1: not in its manifest.
    EXPECT_EQ(reports.at("other").error,
              "init() failed: plugin 'other' registers service 'runicorn.test_good/1', which its "
              "plugin.json does not list under \"provides\"");
}

}  // namespace
}  // namespace runicorn::kernel
