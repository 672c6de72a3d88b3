#include "cli_messages.hpp"

#include <iterator>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "display_width.hpp"

namespace runicorn::cli {
namespace {
namespace json = boost::json;

/// A locales service with a few zh-CN texts; everything else is missing (translate() answers
/// with the key, as the real service does when neither the locale nor en has it).
class FakeLocales final : public plugin::Locales {
public:
    std::vector<plugin::LocaleInfo> locales() const override { return {}; }
    std::string resolve(std::string_view requested) const override {
        return std::string(requested);
    }
    std::string negotiate(std::string_view, std::string_view) const override { return "zh-CN"; }
    std::string translate(std::string_view locale, std::string_view key,
                          const json::object& vars) const override {
        seen_locale = std::string(locale);
        const std::map<std::string, std::string, std::less<>> zh = {
            {"cli:ls.no_runs", "没有运行记录"},
            {"cli:delete.deleted", "已删除 {{id}}"},
            {"cli:fsck.problems", "发现 {{count}} 个问题"}};
        auto it = zh.find(key);
        return it == zh.end() ? std::string(key) : plugin::interpolate(it->second, vars);
    }
    Result<json::object> catalog(std::string_view) const override { return json::object{}; }
    mutable std::string seen_locale;
};

TEST(MessagesTest, BuiltInEnglishInterpolatesAndPluralizes) {
    Messages m;
    EXPECT_EQ(m.locale(), "en");
    EXPECT_EQ(m.text("ls.no_runs"), "no runs");
    EXPECT_EQ(m.text("delete.deleted", {{"id", "20250115_101500_df538c"}}),
              "deleted 20250115_101500_df538c");
    EXPECT_EQ(m.plural("fsck.problems", 1), "1 problem");
    EXPECT_EQ(m.plural("fsck.problems", 11), "11 problems");
    EXPECT_EQ(m.plural("fsck.problems", 0), "0 problems");
    EXPECT_EQ(m.plural("reindex.done", 12, {{"seconds", "0.25"}}), "indexed 12 runs in 0.25 s");
    EXPECT_EQ(m.text("error", {{"message", "boom"}}), "runicorn: error: boom");
}

TEST(MessagesTest, UnknownKeyPrintsAsItselfAndMissingVariablesStayVisible) {
    Messages m;
    EXPECT_EQ(m.text("no.such.key"), "no.such.key");
    EXPECT_EQ(m.text("ls"), "ls");  // an object, not a text
    EXPECT_EQ(m.text("delete.deleted"), "deleted {{id}}");
}

TEST(MessagesTest, ServiceTextsWinAndMissingOnesFallBackPerKey) {
    Messages m;
    auto fake = std::make_shared<FakeLocales>();
    m.use(fake, "zh-CN");
    EXPECT_EQ(m.locale(), "zh-CN");
    EXPECT_EQ(m.text("ls.no_runs"), "没有运行记录");
    EXPECT_EQ(fake->seen_locale, "zh-CN");
    EXPECT_EQ(m.text("delete.deleted", {{"id", "r1"}}), "已删除 r1");
    EXPECT_EQ(m.plural("fsck.problems", 3), "发现 3 个问题");
    EXPECT_EQ(m.text("restore.restored", {{"id", "r1"}}), "restored r1");  // built-in English
    m.reset();
    EXPECT_EQ(m.locale(), "en");
    EXPECT_EQ(m.text("ls.no_runs"), "no runs");
    EXPECT_EQ(fake.use_count(), 1) << "reset() releases the service";
}

TEST(MessagesTest, EnglishTagsAreRecognised) {
    for (const char* tag : {"", "C", "POSIX", "C.UTF-8", "en", "EN", "en-US", "en_GB.UTF-8"}) {
        EXPECT_TRUE(means_english(tag)) << tag;
    }
    for (const char* tag : {"zh", "zh_CN.UTF-8", "de", "eng", "es", "ca"}) {
        EXPECT_FALSE(means_english(tag)) << tag;
    }
}

TEST(MessagesTest, ScansTheMessageOptionsBeforeTheFullParse) {
    const char* argv[] = {"runicorn",  "--plugin-path", "/a",          "ls",    "--lang=zh-CN",
                          "--plugins", "storage,i18n",  "--log-level", "debug", "--plugin-path=/b",
                          "--",        "--lang",        "de"};
    GlobalOptions g;
    EXPECT_EQ(scan_message_options(static_cast<int>(std::size(argv)), argv, g), "zh-CN");
    EXPECT_THAT(g.overrides.plugin_paths, ::testing::ElementsAre("/a", "/b"));
    EXPECT_EQ(g.overrides.plugins, "storage,i18n");
    EXPECT_EQ(g.overrides.log_level, "debug");
    const char* dangling[] = {"runicorn", "ls", "--lang"};
    GlobalOptions none;
    EXPECT_EQ(scan_message_options(3, dangling, none), "");
}

TEST(DisplayWidthTest, WideCharactersTakeTwoColumns) {
    EXPECT_EQ(display_width(""), 0U);
    EXPECT_EQ(display_width("STATUS"), 6U);
    EXPECT_EQ(display_width("状态"), 4U);
    EXPECT_EQ(display_width("ID：x"), 5U);      // fullwidth colon
    EXPECT_EQ(display_width("e\xCC\x81"), 1U);  // e + combining acute
    EXPECT_EQ(display_width("\xFF\xFE"), 2U);   // invalid bytes: one column each
    EXPECT_EQ(display_width("\xE4\xB8"), 2U);   // truncated sequence
    EXPECT_EQ(display_width("ñ"), 1U);
}

}  // namespace
}  // namespace runicorn::cli
