#include "config.hpp"

#include <fstream>
#include <map>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::kernel {
namespace {
namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::StartsWith;

class ConfigTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("rn-config-" + std::to_string(::getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "cfg");
        vars_ = {{"RUNICORN_CONFIG_DIR", (dir_ / "cfg").string()}, {"HOME", dir_.string()}};
    }
    void TearDown() override { fs::remove_all(dir_); }

    EnvLookup env() const {
        return [vars = vars_](const std::string& k) -> std::optional<std::string> {
            auto it = vars.find(k);
            if (it == vars.end()) {
                return std::nullopt;
            }
            return it->second;
        };
    }
    void write_config(const std::string& text) {
        std::ofstream(dir_ / "cfg" / "config.json") << text;
    }
    std::string read_config() const {
        std::ifstream in(dir_ / "cfg" / "config.json");
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

    fs::path dir_;
    std::map<std::string, std::string> vars_;
};

TEST_F(ConfigTest, ConfigDirFollowsFormatRules) {
    EXPECT_EQ(config_dir(env()), dir_ / "cfg");
    vars_.erase("RUNICORN_CONFIG_DIR");
    EXPECT_EQ(config_dir(env()), dir_ / ".config" / "runicorn");
    vars_["XDG_CONFIG_HOME"] = "relative/xdg";
    EXPECT_EQ(config_dir(env()), fs::path("relative/xdg/runicorn"));  // as given, like v0.6
}

TEST_F(ConfigTest, StorageRootPriority) {
    auto defaults = load_config({}, env());
    ASSERT_TRUE(defaults.has_value()) << defaults.error();
    EXPECT_EQ(defaults->storage_root, fs::weakly_canonical(fs::current_path() / ".runicorn"));
    EXPECT_EQ(defaults->storage_root_source, "default (./.runicorn)");

    write_config(R"({"user_root_dir": "~/from-config"})");
    auto from_file = load_config({}, env());
    ASSERT_TRUE(from_file.has_value());
    EXPECT_EQ(from_file->storage_root, dir_ / "from-config");

    vars_["RUNICORN_DIR"] = (dir_ / "from-env").string();
    auto from_env = load_config({}, env());
    EXPECT_EQ(from_env->storage_root, dir_ / "from-env");
    EXPECT_EQ(from_env->storage_root_source, "RUNICORN_DIR");

    CliOverrides cli;
    cli.storage = (dir_ / "from-flag").string();
    auto from_flag = load_config(cli, env());
    EXPECT_EQ(from_flag->storage_root, dir_ / "from-flag");

    vars_["RUNICORN_DIR"] = "";  // empty means unset
    EXPECT_EQ(load_config({}, env())->storage_root, dir_ / "from-config");
}

TEST_F(ConfigTest, StorageRootResolvesSymlinks) {
    fs::create_directories(dir_ / "real");
    fs::create_directory_symlink(dir_ / "real", dir_ / "link");
    CliOverrides cli;
    cli.storage = (dir_ / "link").string();
    EXPECT_EQ(load_config(cli, env())->storage_root, fs::canonical(dir_ / "real"));
}

TEST_F(ConfigTest, LayersForPluginsAndLogLevel) {
    write_config(R"({"runicorn_cpp": {"kernel": {"plugins": ["storage"], "plugin_paths": ["/p1"],
                     "log_level": "warn"}, "plugins": {"http": {"port": 1}}, "viewer": {"port": 2}}})");
    auto c = load_config({}, env());
    ASSERT_TRUE(c.has_value()) << c.error();
    EXPECT_THAT(*c->enabled_plugins, ElementsAre("storage"));
    EXPECT_EQ(c->log_level, spdlog::level::warn);
    EXPECT_EQ(c->plugin_configs.at("http").at("port").as_int64(), 1);
    EXPECT_EQ(c->viewer.at("port").as_int64(), 2);

    vars_["RUNICORN_PLUGINS"] = "storage,http";
    vars_["RUNICORN_PLUGIN_PATH"] = "/p2:/p3;/p4";
    vars_["RUNICORN_LOG_LEVEL"] = "ERROR";
    c = load_config({}, env());
    EXPECT_THAT(*c->enabled_plugins, ElementsAre("storage", "http"));
    EXPECT_THAT(c->plugin_dirs, ElementsAre("/p1", "/p2", "/p3", "/p4"));
    EXPECT_EQ(c->log_level, spdlog::level::err);

    CliOverrides cli;
    cli.plugins = "http";
    cli.plugin_paths = {"/p5"};
    cli.log_level = "debug";
    c = load_config(cli, env());
    EXPECT_THAT(*c->enabled_plugins, ElementsAre("http"));
    EXPECT_EQ(c->plugin_dirs.back(), "/p5");
    EXPECT_EQ(c->log_level, spdlog::level::debug);
}

TEST_F(ConfigTest, InvalidJsonNamesFileLineAndColumn) {
    write_config("{\n  \"user_root_dir\": \"/x\",\n  oops\n}\n");
    auto c = load_config({}, env());
    ASSERT_FALSE(c.has_value());
    EXPECT_EQ(c.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(c.error().message(), StartsWith("'" + (dir_ / "cfg" / "config.json").string() +
                                                "' is not valid JSON: line 3, column 3: "));
}

TEST_F(ConfigTest, WrongTypesAreNamedByJsonPointer) {
    write_config(R"({"runicorn_cpp": {"kernel": {"plugins": "storage"}}})");
    EXPECT_EQ(
        load_config({}, env()).error(),
        Status::invalid_argument("'" + (dir_ / "cfg" / "config.json").string() +
                                 "': /runicorn_cpp/kernel/plugins must be an array of strings"));
    write_config(R"({"runicorn_cpp": {"plugins": []}})");
    EXPECT_EQ(load_config({}, env()).error(),
              Status::invalid_argument("'" + (dir_ / "cfg" / "config.json").string() +
                                       "': /runicorn_cpp/plugins must be an object"));
}

TEST_F(ConfigTest, BadLogLevelIsRejected) {
    CliOverrides cli;
    cli.log_level = "loud";
    EXPECT_EQ(load_config(cli, env()).error(),
              Status::invalid_argument("unknown log level 'loud' (use trace, debug, info, warn, "
                                       "error, critical or off)"));
}

TEST_F(ConfigTest, SetUserRootKeepsUnknownKeysInOrder) {
    write_config(R"({"ssh_connections": [], "user_root_dir": "/old", "zeta": {"k": 1}})");
    auto stored = set_user_root(dir_ / "cfg", "~/new-root", env());
    ASSERT_TRUE(stored.has_value()) << stored.error();
    EXPECT_EQ(*stored, dir_ / "new-root");
    EXPECT_EQ(read_config(), "{\n  \"ssh_connections\": [],\n  \"user_root_dir\": \"" +
                                 (dir_ / "new-root").string() +
                                 "\",\n  \"zeta\": {\n    \"k\": 1\n  }\n}\n");
    struct stat st {};
    ASSERT_EQ(::stat((dir_ / "cfg" / "config.json").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
}

TEST_F(ConfigTest, SetUserRootCreatesAPrivateConfigDir) {
    const auto fresh = dir_ / "fresh" / "runicorn";
    ASSERT_TRUE(set_user_root(fresh, "/data/rn", env()).has_value());
    struct stat st {};
    ASSERT_EQ(::stat(fresh.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700U);
}

TEST_F(ConfigTest, SetUserRootRefusesToOverwriteInvalidJson) {
    write_config("{broken");
    auto stored = set_user_root(dir_ / "cfg", "/x", env());
    ASSERT_FALSE(stored.has_value());
    EXPECT_THAT(stored.error().message(),
                StartsWith("not changing the config: '" + (dir_ / "cfg" / "config.json").string() +
                           "' is not valid JSON: line 1, column 2: "));
    EXPECT_EQ(read_config(), "{broken");
}

}  // namespace
}  // namespace runicorn::kernel
