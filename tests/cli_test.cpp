// The `runicorn` executable end to end, as a user runs it: every message checked verbatim.
#include <fstream>

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "process.hpp"
#include "test_util.hpp"
#include <signal.h>

namespace runicorn::test {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

const std::string kExe = RUNICORN_EXE;
const fs::path kFixtures = RUNICORN_TEST_PLUGINS_DIR;

/// The port in "Runicorn viewer: http://127.0.0.1:PORT  (...)".
std::string port_of(const std::string& line) {
    const std::string prefix = "http://127.0.0.1:";
    const auto at = line.find(prefix);
    if (at == std::string::npos) {
        return "";
    }
    const auto start = at + prefix.size();
    return line.substr(start, line.find_first_not_of("0123456789", start) - start);
}

class CliTest : public ::testing::Test {
protected:
    /// A private config dir and storage root, so the user's own config never leaks in.
    EnvChanges env() const {
        return {{"RUNICORN_CONFIG_DIR", (tmp_.path() / "config").string()},
                {"RUNICORN_DIR", (tmp_.path() / "store").string()},
                {"RUNICORN_PLUGIN_PATH", std::nullopt},
                {"RUNICORN_PLUGINS", std::nullopt},
                {"RUNICORN_LOG_LEVEL", std::nullopt}};
    }
    ProcessResult run(std::vector<std::string> args, EnvChanges extra = {}) const {
        args.insert(args.begin(), kExe);
        EnvChanges e = env();
        for (auto& [k, v] : extra) {
            e[k] = v;
        }
        return run_process(args, e);
    }
    TempDir tmp_;
};

TEST_F(CliTest, VersionPrintsVersionAbiAndBuild) {
    auto r = run({"version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, StartsWith("runicorn 0.1.0 (plugin ABI 1.0, reads and writes Runicorn "
                                  "v0.6.0 data)\nbuild: "));
    auto j = run({"version", "--json"});
    auto v = boost::json::parse(j.out);
    EXPECT_EQ(v.at("version").as_string(), "0.1.0");
    EXPECT_EQ(v.at("abi_version").as_string(), "1.0");
}

TEST_F(CliTest, PluginsListsTheDefaultBundleLoaded) {
    auto r = run({"plugins", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto v = boost::json::parse(r.out);
    std::map<std::string, std::string> states;
    for (const auto& p : v.at("plugins").as_array()) {
        states[std::string(p.at("id").as_string())] = std::string(p.at("state").as_string());
    }
    for (const char* id : {"storage", "dedup", "http", "remote", "i18n"}) {
        EXPECT_EQ(states[id], "loaded") << id;
    }
    auto table = run({"plugins"});
    EXPECT_THAT(table.out, StartsWith("ID "));
    EXPECT_THAT(table.out, HasSubstr("runicorn.run_store/1"));
}

TEST_F(CliTest, PluginsShowsARefusedPluginAndWhy) {
    const auto extra = tmp_.path() / "extra";
    fs::create_directories(extra);
    fs::copy(kFixtures / "abi_too_new", extra / "abi_too_new", fs::copy_options::recursive);
    auto r = run({"plugins", "--plugin-path", extra.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, MatchesRegex("(.|\n)*abi_too_new +0\\.1\\.0 +2\\.0 +refused +- +" +
                                    (extra / "abi_too_new").string() + "(.|\n)*"));
    EXPECT_THAT(r.out, HasSubstr("    why: ABI version mismatch: the plugin.json of '" +
                                 (extra / "abi_too_new" / "libabi_too_new.so").string() +
                                 "' declares ABI 2.0, this kernel implements ABI 1.0\n"));
}

TEST_F(CliTest, PluginsOptionDisablesTheOthers) {
    auto r = run({"--plugins", "storage", "plugins", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto v = boost::json::parse(r.out);
    for (const auto& p : v.at("plugins").as_array()) {
        EXPECT_EQ(p.at("state").as_string(),
                  p.at("id").as_string() == "storage" ? "loaded" : "disabled");
    }
}

TEST_F(CliTest, InvalidConfigJsonNamesFileLineAndColumn) {
    fs::create_directories(tmp_.path() / "config");
    std::ofstream(tmp_.path() / "config" / "config.json") << "{\n  oops\n}\n";
    auto r = run({"plugins"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(
        r.err, StartsWith("runicorn: error: '" + (tmp_.path() / "config" / "config.json").string() +
                          "' is not valid JSON: line 2, column 3: "));
}

TEST_F(CliTest, SetUserRootThenShow) {
    auto set = run({"config", "--set-user-root", (tmp_.path() / "my-root").string()});
    ASSERT_EQ(set.exit_code, 0) << set.err;
    EXPECT_EQ(set.out, "user_root_dir set to " + (tmp_.path() / "my-root").string() + " in " +
                           (tmp_.path() / "config" / "config.json").string() + "\n");
    auto show = run({"config", "--show"}, {{"RUNICORN_DIR", std::nullopt}});
    ASSERT_EQ(show.exit_code, 0) << show.err;
    auto v = boost::json::parse(show.out);
    EXPECT_EQ(v.at("storage_root").as_string(), (tmp_.path() / "my-root").string());
    EXPECT_EQ(v.at("storage_root_source").as_string(),
              "user_root_dir in " + (tmp_.path() / "config" / "config.json").string());
    // The environment beats the config file, the flag beats both.
    auto env_wins = run({"config", "--show"});
    EXPECT_EQ(boost::json::parse(env_wins.out).at("storage_root").as_string(),
              (tmp_.path() / "store").string());
    auto flag_wins = run({"--storage", (tmp_.path() / "flag").string(), "config", "--show"});
    EXPECT_EQ(boost::json::parse(flag_wins.out).at("storage_root").as_string(),
              (tmp_.path() / "flag").string());
}

TEST_F(CliTest, BadUsageGetsAMessageAndNonZeroExit) {
    auto level = run({"--log-level", "loud", "plugins"});
    EXPECT_EQ(level.exit_code, 2);
    EXPECT_EQ(level.err,
              "runicorn: error: unknown log level 'loud' (use trace, debug, info, warn, "
              "error, critical or off)\n");
    auto unknown = run({"frobnicate"});
    EXPECT_NE(unknown.exit_code, 0);
    EXPECT_EQ(unknown.err, "runicorn: error: unknown command 'frobnicate' (see runicorn --help)\n");
    auto none = run({});
    EXPECT_NE(none.exit_code, 0);
    auto config = run({"config"});
    EXPECT_NE(config.exit_code, 0);
}

TEST_F(CliTest, EverySubcommandHasHelp) {
    for (const char* sub : {"version", "plugins", "config", "viewer"}) {
        auto r = run({sub, "--help"});
        EXPECT_EQ(r.exit_code, 0) << sub;
        EXPECT_THAT(r.out, HasSubstr("Usage")) << sub;
    }
}

TEST_F(CliTest, ViewerServesUntilSigtermThenStopsCleanly) {
    ChildProcess viewer({kExe, "viewer", "--port", "0"}, env());
    auto line = viewer.wait_for_line("Runicorn viewer: ", std::chrono::seconds(30));
    ASSERT_TRUE(line.has_value()) << viewer.wait().err;
    EXPECT_THAT(*line, MatchesRegex("Runicorn viewer: http://127\\.0\\.0\\.1:[0-9]+  \\(storage: " +
                                    (tmp_.path() / "store").string() + "; Ctrl-C to stop\\)"));
    const int port = std::stoi(port_of(*line));
    const std::string health = http_request(port, "GET", "/api/health");
    EXPECT_THAT(health, StartsWith("HTTP/1.1 200"));
    EXPECT_THAT(health, HasSubstr("\"status\":\"ok\""));
    EXPECT_TRUE(fs::is_directory(tmp_.path() / "store" / "runs")) << "the viewer creates runs/";
    const std::string locales = http_request(port, "GET", "/api/i18n/locales?lng=zh");
    EXPECT_THAT(locales, HasSubstr("\"negotiated\":\"zh-CN\""));
    EXPECT_THAT(locales, HasSubstr("\"native_name\":\"简体中文\""));
    // Routes other plugins register (dedup) are served too, whatever the plugins' start order.
    EXPECT_THAT(http_request(port, "GET", "/api/blobs/stats"), StartsWith("HTTP/1.1 200"));
    EXPECT_THAT(http_request(port, "GET", "/api/artifacts"), StartsWith("HTTP/1.1 200"));
    viewer.signal(SIGTERM);
    auto r = viewer.wait();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("received SIGTERM, shutting down"));
    EXPECT_EQ(http_request(port, "GET", "/api/health"), "") << "nothing listens after stop";
}

TEST_F(CliTest, LocalePackInThePluginPathIsServedWithoutRebuilding) {
    const auto extra = tmp_.path() / "extra";
    fs::create_directories(extra);
    fs::copy(kFixtures / "locale_pack", extra / "locale_pack", fs::copy_options::recursive);
    ChildProcess viewer({kExe, "--plugin-path", extra.string(), "viewer", "--port", "0"}, env());
    auto line = viewer.wait_for_line("Runicorn viewer: ", std::chrono::seconds(30));
    ASSERT_TRUE(line.has_value()) << viewer.wait().err;
    const int port = std::stoi(port_of(*line));
    EXPECT_THAT(http_request(port, "GET", "/api/i18n/locales"), HasSubstr("\"code\":\"de\""));
    EXPECT_THAT(http_request(port, "GET", "/api/i18n/de"),
                HasSubstr("\"common.app.name\":\"Runicorn (de)\""));
}

TEST_F(CliTest, ViewerWithoutHttpPluginExplainsWhy) {
    auto r = run({"--plugins", "storage", "viewer", "--port", "0"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("runicorn: error: the viewer needs the http plugin, which is "
                                 "disabled: not in the enabled plugin list\n"));
}

TEST_F(CliTest, ViewerReportsABusyPort) {
    ChildProcess first({kExe, "viewer", "--port", "0"}, env());
    auto line = first.wait_for_line("Runicorn viewer: ", std::chrono::seconds(30));
    ASSERT_TRUE(line.has_value());
    const std::string port = port_of(*line);
    auto second = run({"viewer", "--port", port});
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_THAT(second.err,
                HasSubstr("runicorn: error: the viewer needs the http plugin, which is refused: "
                          "start() failed: cannot listen on 127.0.0.1:" +
                          port + ": "));
}

}  // namespace
}  // namespace runicorn::test
