// The `runicorn` executable speaking the user's language (issue 7): --lang, RUNICORN_LANG /
// LC_ALL / LANG, per-key fallback to English, and English without the i18n plugin.
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
const fs::path kFixturePlugins = RUNICORN_TEST_PLUGINS_DIR;
const fs::path kFixtureStore = fs::path(RUNICORN_FIXTURE_DIR) / "store";

class CliI18nTest : public ::testing::Test {
protected:
    void SetUp() override { fs::create_directories(tmp_.path() / "store"); }

    /// A private config dir and an empty store; no language from the caller's environment.
    ProcessResult run(std::vector<std::string> args, const EnvChanges& extra = {}) const {
        args.insert(args.begin(), kExe);
        EnvChanges e = {{"RUNICORN_CONFIG_DIR", (tmp_.path() / "config").string()},
                        {"RUNICORN_DIR", (tmp_.path() / "store").string()},
                        {"RUNICORN_PLUGIN_PATH", std::nullopt},
                        {"RUNICORN_PLUGINS", std::nullopt},
                        {"RUNICORN_LOG_LEVEL", std::nullopt},
                        {"RUNICORN_LANG", std::nullopt},
                        {"LC_ALL", std::nullopt},
                        {"LANG", "C.UTF-8"},
                        {"TZ", "UTC"}};
        for (const auto& [k, v] : extra) {
            e[k] = v;
        }
        return run_process(args, e);
    }
    /// A writable copy of the v0.6 fixture store.
    fs::path fixture_copy() const {
        const fs::path to = tmp_.path() / "fixture";
        fs::copy(kFixtureStore, to, fs::copy_options::recursive);
        for (const auto& e : fs::recursive_directory_iterator(to)) {
            fs::permissions(e.path(), fs::perms::owner_read | fs::perms::owner_write,
                            fs::perm_options::add);
            if (e.is_directory()) {
                fs::permissions(e.path(), fs::perms::owner_exec, fs::perm_options::add);
            }
        }
        return to;
    }
    /// A plugins directory holding the data-only German locale pack (partial on purpose).
    fs::path german_pack() const {
        const fs::path extra = tmp_.path() / "extra";
        fs::create_directories(extra);
        fs::copy(kFixturePlugins / "locale_pack", extra / "locale_pack",
                 fs::copy_options::recursive);
        return extra;
    }
    TempDir tmp_;
};

TEST_F(CliI18nTest, LangOptionMakesLsSpeakChinese) {
    auto r = run({"--lang", "zh-CN", "ls"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "没有运行记录\n");
    auto after = run({"ls", "--lang=zh-CN"});  // a global option after the command works too
    EXPECT_EQ(after.out, "没有运行记录\n");
    auto english = run({"ls"});
    EXPECT_EQ(english.out, "no runs\n");
}

TEST_F(CliI18nTest, ChineseVariantsAndTheEnvironmentChooseTheLanguage) {
    for (const char* tag : {"zh", "zh-Hans", "zh-SG", "zh_CN"}) {
        EXPECT_EQ(run({"--lang", tag, "ls"}).out, "没有运行记录\n") << tag;
    }
    EXPECT_EQ(run({"ls"}, {{"LANG", "zh_CN.UTF-8"}}).out, "没有运行记录\n");
    // LC_ALL beats LANG, RUNICORN_LANG beats both, --lang beats everything.
    EXPECT_EQ(run({"ls"}, {{"LANG", "zh_CN.UTF-8"}, {"LC_ALL", "C"}}).out, "no runs\n");
    EXPECT_EQ(run({"ls"}, {{"LC_ALL", "en_US.UTF-8"}, {"RUNICORN_LANG", "zh-Hans"}}).out,
              "没有运行记录\n");
    EXPECT_EQ(run({"--lang", "en", "ls"}, {{"RUNICORN_LANG", "zh-CN"}}).out, "no runs\n");
}

TEST_F(CliI18nTest, ErrorsAreTranslatedWithTheirVariables) {
    auto sort = run({"--lang", "zh-CN", "ls", "--sort", "size"});
    EXPECT_EQ(sort.exit_code, 2);
    EXPECT_EQ(sort.err,
              "runicorn：错误：--sort：未知的排序键“size”（可选 created、started、ended、duration、"
              "path、alias、status、best、id、discovery 或 summary.<key>）\n");
    auto unknown = run({"--lang", "zh-CN", "frobnicate"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_EQ(unknown.err, "runicorn：错误：未知命令“frobnicate”（参见 runicorn --help）\n");
    auto no_store = run({"--lang", "zh-CN", "--plugins", "i18n", "ls"});
    EXPECT_EQ(no_store.exit_code, 2);
    EXPECT_EQ(no_store.err,
              "runicorn：错误：没有可用的运行存储：插件“storage”已禁用：not in the enabled plugin "
              "list\n");
}

TEST_F(CliI18nTest, WithoutTheI18nPluginTheCliSpeaksBuiltInEnglish) {
    auto r = run({"--plugins", "storage", "--lang", "zh-CN", "ls"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "no runs\n");
    auto bad = run({"--plugins", "storage", "--lang", "zh-CN", "ls", "--sort", "size"});
    EXPECT_EQ(
        bad.err,
        "runicorn: error: --sort: unknown key 'size' (use created, started, ended, duration, path, "
        "alias, status, best, id, discovery or summary.<key>)\n");
    // The enabled list from the environment counts as --plugins does.
    auto env = run({"--lang", "zh-CN", "ls"}, {{"RUNICORN_PLUGINS", "storage"}});
    EXPECT_EQ(env.exit_code, 0) << env.err;
    EXPECT_EQ(env.out, "no runs\n");
}

TEST_F(CliI18nTest, PluginsTableIsTranslatedAndAligned) {
    auto r = run({"--lang", "zh-CN", "plugins"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, MatchesRegex("ID +版本 +ABI +状态 +服务 +文件\n(.|\n)*"));
    EXPECT_THAT(r.out, MatchesRegex("(.|\n)*\ni18n +0\\.1\\.0 +1\\.0 +已加载 +runicorn\\.locales/1 "
                                    "(.|\n)*"));
    // Columns line up by display width: "状态" is 4 columns wide, as "STATE" is 5.
    const auto header = r.out.substr(0, r.out.find('\n'));
    const auto i18n_at = r.out.find("\ni18n ");
    ASSERT_NE(i18n_at, std::string::npos);
    const auto row = r.out.substr(i18n_at + 1, r.out.find('\n', i18n_at + 1) - i18n_at - 1);
    const auto col_of = [](const std::string& line, const std::string& needle) {
        const auto bytes = line.find(needle);
        std::size_t cols = 0;
        for (std::size_t i = 0; i < bytes; ++i) {
            const auto c = static_cast<unsigned char>(line[i]);
            if ((c & 0xC0U) != 0x80U) {
                cols += c >= 0xE0 ? 2 : 1;  // the header's CJK characters are 3 bytes, 2 wide
            }
        }
        return cols;
    };
    EXPECT_EQ(col_of(header, "服务"), col_of(row, "runicorn.locales/1"));
}

TEST_F(CliI18nTest, FixtureStoreInChineseWithPlurals) {
    const auto store = fixture_copy();
    const EnvChanges at = {{"RUNICORN_DIR", store.string()}};
    auto ls = run({"--lang", "zh-CN", "ls", "--limit", "4"}, at);
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_THAT(ls.out, StartsWith("ID                      路径"));
    EXPECT_THAT(ls.out,
                MatchesRegex("(.|\n)*\n显示 4 条，共 11 条运行记录；下一页：--cursor [^ ]+\n"));
    auto fsck = run({"--lang", "zh-CN", "fsck"}, at);
    EXPECT_EQ(fsck.exit_code, 1);
    EXPECT_THAT(fsck.out, HasSubstr("\n已检查 12 条运行记录：发现 11 个问题（运行 runicorn fsck "
                                    "--repair 可修复能够安全修复的问题）\n"));
    auto show = run({"--lang", "zh-CN", "show", "20250115_101500_df538c"}, at);
    ASSERT_EQ(show.exit_code, 0) << show.err;
    EXPECT_THAT(show.out,
                StartsWith("ID：        20250115_101500_df538c\n路径：      cv/resnet\n"));
    EXPECT_THAT(show.out, HasSubstr("\n摘要：\n"));
}

TEST_F(CliI18nTest, PartialLocalePackFallsBackToEnglishPerKey) {
    const auto extra = german_pack();
    auto ls = run({"--plugin-path", extra.string(), "--lang", "de-AT", "ls"});
    EXPECT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_EQ(ls.out, "keine Läufe\n");
    auto sort = run({"--plugin-path", extra.string(), "--lang", "de", "ls", "--sort", "size"});
    EXPECT_EQ(sort.err,
              "runicorn: Fehler: --sort: unknown key 'size' (use created, started, ended, "
              "duration, path, "
              "alias, status, best, id, discovery or summary.<key>)\n");
}

TEST_F(CliI18nTest, ViewerBannerAndServerSpeakChinese) {
    ChildProcess viewer({kExe, "--lang", "zh-CN", "viewer", "--port", "0"},
                        {{"RUNICORN_CONFIG_DIR", (tmp_.path() / "config").string()},
                         {"RUNICORN_DIR", (tmp_.path() / "store").string()},
                         {"RUNICORN_PLUGIN_PATH", std::nullopt},
                         {"RUNICORN_PLUGINS", std::nullopt},
                         {"LANG", "C.UTF-8"}});
    auto line = viewer.wait_for_line("Runicorn 查看器：", std::chrono::seconds(30));
    ASSERT_TRUE(line.has_value()) << viewer.wait().err;
    EXPECT_THAT(*line, MatchesRegex("Runicorn 查看器：http://127\\.0\\.0\\.1:[0-9]+  （存储目录：" +
                                    (tmp_.path() / "store").string() + "；按 Ctrl-C 停止）"));
    const auto start = line->find("127.0.0.1:") + 10;
    const int port = std::stoi(line->substr(start));
    const std::string catalog = http_request(port, "GET", "/api/i18n/zh-CN?ns=cli,errors");
    EXPECT_THAT(catalog, HasSubstr("\"cli.ls.no_runs\":\"没有运行记录\""));
    EXPECT_THAT(catalog, HasSubstr("\"errors.RUN_NOT_FOUND\":\"未找到该运行记录\""));
    // Error details follow the request's language; the code stays the same (API.md §1.2).
    const std::string zh = http_request(port, "GET", "/api/runs/20260101_000000_abcdef?lng=zh-CN");
    EXPECT_THAT(zh, HasSubstr("HTTP/1.1 404"));
    EXPECT_THAT(zh, HasSubstr(R"("detail":"未找到该运行记录","code":"RUN_NOT_FOUND")"));
    const std::string en = http_request(port, "GET", "/api/runs/20260101_000000_abcdef?lng=en");
    EXPECT_THAT(en, HasSubstr(R"("detail":"Run not found","code":"RUN_NOT_FOUND")"));
    // Refusals made before routing (the Host check, DNS rebinding) speak the same language.
    const std::string host_zh = http_request(port, "GET", "/api/health?lng=zh-CN", "evil.example");
    EXPECT_THAT(host_zh, HasSubstr("HTTP/1.1 403"));
    EXPECT_THAT(host_zh, HasSubstr(R"("detail":"不允许的 Host","code":"HOST_NOT_ALLOWED")"));
    const std::string host_en = http_request(port, "GET", "/api/health", "evil.example");
    EXPECT_THAT(host_en, HasSubstr(R"("detail":"Host not allowed","code":"HOST_NOT_ALLOWED")"));
    viewer.signal(SIGTERM);
    EXPECT_EQ(viewer.wait().exit_code, 0);
}

}  // namespace
}  // namespace runicorn::test
