#include "locale_catalog.hpp"

#include <fstream>
#include <regex>
#include <set>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "i18n_routes.hpp"

namespace runicorn::i18n {
namespace {
namespace fs = std::filesystem;

CatalogSet shipped() {
    CatalogSet c;
    EXPECT_TRUE(c.add_locales_dir(RUNICORN_I18N_LOCALES).empty());
    return c;
}

TEST(CatalogTest, TranslatesWithInterpolation) {
    auto c = shipped();
    boost::json::object vars{{"url", "http://127.0.0.1:23300"}, {"storage", "/data"}};
    EXPECT_EQ(c.translate("en", "cli:viewer.listening", vars),
              "Runicorn viewer: http://127.0.0.1:23300  (storage: /data; Ctrl-C to stop)");
    EXPECT_EQ(c.translate("zh-CN", "cli:viewer.listening", vars),
              "Runicorn 查看器：http://127.0.0.1:23300  （存储目录：/data；按 Ctrl-C 停止）");
    EXPECT_EQ(c.translate("zh-CN", "app.tagline", {}), "本地优先的实验追踪");  // "common"
    EXPECT_EQ(c.translate("zh-CN", "errors:RUN_NOT_FOUND", {}), "未找到该运行记录");
    EXPECT_EQ(c.translate("en", "errors:RUN_NOT_FOUND", {}), "Run not found");
}

TEST(CatalogTest, PluralsFollowTheLanguage) {
    auto c = shipped();
    EXPECT_EQ(c.translate("en", "cli:fsck.problems", {{"count", 1}}), "1 problem");
    EXPECT_EQ(c.translate("en", "cli:fsck.problems", {{"count", 2}}), "2 problems");
    EXPECT_EQ(c.translate("en", "cli:fsck.problems", {{"count", 0}}), "0 problems");
    EXPECT_EQ(c.translate("en", "cli:fsck.problems", {{"count", 1.0}}), "1 problem");
    // Chinese has no singular form: "_other" for every count.
    EXPECT_EQ(c.translate("zh-CN", "cli:fsck.problems", {{"count", 1}}), "发现 1 个问题");
    EXPECT_EQ(c.translate("zh", "cli:fsck.problems", {{"count", 7}}), "发现 7 个问题");
    // No count: the plain key, which a plural-only key lacks.
    EXPECT_EQ(c.translate("en", "cli:fsck.problems", {}), "cli:fsck.problems");
    // A non-integral count picks no form either.
    EXPECT_EQ(c.translate("en", "cli:fsck.problems", {{"count", "one"}}), "cli:fsck.problems");
}

TEST(LocalesHelpersTest, PluralCategoryAndInterpolate) {
    EXPECT_EQ(plugin::plural_category("en", 1), "one");
    EXPECT_EQ(plugin::plural_category("en-US", 2), "other");
    EXPECT_EQ(plugin::plural_category("de", 0), "other");
    EXPECT_EQ(plugin::plural_category("fr", 0), "one");
    EXPECT_EQ(plugin::plural_category("zh-CN", 1), "other");
    EXPECT_EQ(plugin::plural_category("ja", 1), "other");
    EXPECT_EQ(plugin::interpolate("a {{x}} b {{ y }} {{z}}", {{"x", "1"}, {"y", 2}}),
              "a 1 b 2 {{z}}");
    EXPECT_EQ(plugin::interpolate("open {{x", {{"x", "1"}}), "open {{x");
    EXPECT_EQ(plugin::interpolate("{{a}} {{b}} {{c}}", {{"a", 0.25}, {"b", 3.0}, {"c", true}}),
              "0.25 3 true");
    EXPECT_EQ(plugin::interpolate("", {}), "");
}

TEST(CatalogTest, ResolvesChineseVariantsAndFallsBackToEnglish) {
    auto c = shipped();
    EXPECT_EQ(c.resolve("zh"), "zh-CN");
    EXPECT_EQ(c.resolve("zh-Hans"), "zh-CN");
    EXPECT_EQ(c.resolve("zh-SG"), "zh-CN");
    EXPECT_EQ(c.resolve("en-US"), "en");
    EXPECT_EQ(c.resolve("fr"), "en");
}

TEST(CatalogTest, MissingKeyFallsBackToEnThenToTheKey) {
    const auto dir = fs::temp_directory_path() / ("rn-i18n-" + std::to_string(::getpid()));
    fs::create_directories(dir / "de");
    std::ofstream(dir / "de" / "common.json") << R"({"app": {"name": "Runicorn DE"}})";
    std::ofstream(dir / "de" / "broken.json") << "{not json";
    CatalogSet c;
    const auto problems = c.add_locales_dir(dir);
    EXPECT_TRUE(c.add_locales_dir(RUNICORN_I18N_LOCALES).empty());
    fs::remove_all(dir);
    ASSERT_EQ(problems.size(), 1U);
    EXPECT_NE(problems[0].find("broken.json"), std::string::npos);
    EXPECT_EQ(c.translate("de", "app.name", {}), "Runicorn DE");
    EXPECT_EQ(c.translate("de", "app.tagline", {}), "Local-first experiment tracking");
    EXPECT_EQ(c.translate("de", "no.such.key", {}), "no.such.key");
    const auto en_strings = static_cast<double>(c.flat_messages("en", {}).size());
    for (const auto& l : c.locales()) {
        if (l.code == "de") {
            EXPECT_DOUBLE_EQ(l.completeness, 1.0 / en_strings);  // 1 of en's strings
        }
    }
    EXPECT_EQ(c.locales().front().code, "en");
}

TEST(CatalogTest, UnknownLocaleCatalogIsNotFound) {
    auto c = shipped();
    auto r = c.catalog("xx");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), Status::not_found("locale 'xx' is not available"));
}

TEST(CatalogTest, MatchesTagsAsApiSection48Says) {
    auto c = shipped();
    EXPECT_EQ(c.match("zh_CN.UTF-8"), "zh-CN");
    EXPECT_EQ(c.match("zh-Hant"), "zh-CN");  // until a zh-TW catalog exists
    EXPECT_EQ(c.match("EN-gb"), "en");
    EXPECT_EQ(c.match("fr-FR"), std::nullopt);
}

TEST(CatalogTest, AcceptLanguageByQValue) {
    auto c = shipped();
    EXPECT_EQ(c.best_of("fr;q=1, zh;q=0.9, en;q=0.8"), "zh-CN");
    EXPECT_EQ(c.best_of("en;q=0.5, zh-CN"), "zh-CN");
    EXPECT_EQ(c.best_of("zh;q=0, en"), "en");
    EXPECT_EQ(c.best_of("fr, de"), std::nullopt);
    EXPECT_EQ(c.best_of(""), std::nullopt);
}

TEST(CatalogTest, FlatMessagesFillGapsFromEnglish) {
    const auto dir = fs::temp_directory_path() / ("rn-i18n-flat-" + std::to_string(::getpid()));
    fs::create_directories(dir / "de");
    std::ofstream(dir / "de" / "common.json") << R"({"app": {"name": "Runicorn DE"}})";
    CatalogSet c;
    c.add_locales_dir(dir);
    c.add_locales_dir(RUNICORN_I18N_LOCALES);
    fs::remove_all(dir);
    auto flat = c.flat_messages("de", {});
    EXPECT_EQ(flat.at("common.app.name").as_string(), "Runicorn DE");
    EXPECT_EQ(flat.at("common.app.tagline").as_string(), "Local-first experiment tracking");
    EXPECT_TRUE(c.flat_messages("de", {"other"}).empty());
}

TEST(CatalogRouteTest, CatalogHasAnEtagAndAnswers304) {
    auto c = shipped();
    plugin::HttpRequest req;
    req.path_params = {{"locale", "zh-Hans"}};
    auto first = catalog_response(c, req);
    ASSERT_EQ(first.status, 200U);
    auto body = boost::json::parse(first.body);
    EXPECT_EQ(body.at("locale").as_string(), "zh-CN");
    EXPECT_EQ(body.at("fallback").as_string(), "en");
    EXPECT_EQ(body.at("messages").at("cli.ls.no_runs").as_string(), "没有运行记录");
    EXPECT_EQ(body.at("messages").at("errors.RUN_NOT_FOUND").as_string(), "未找到该运行记录");
    const auto etag = plugin::HttpRequest::find(first.headers, "ETag");
    ASSERT_TRUE(etag.has_value());
    EXPECT_EQ(*etag, "\"" + std::string(body.at("version").as_string()) + "\"");
    req.headers = {{"if-none-match", *etag}};
    auto again = catalog_response(c, req);
    EXPECT_EQ(again.status, 304U);
    EXPECT_EQ(again.body, "");
    req.path_params = {{"locale", "de-AT"}};
    req.headers.clear();
    EXPECT_EQ(boost::json::parse(catalog_response(c, req).body).at("locale").as_string(), "en");
}

/// The placeholders {{name}} of a catalog string.
std::set<std::string> placeholders(const std::string& text) {
    std::set<std::string> out;
    static const std::regex kVar(R"(\{\{\s*([A-Za-z0-9_]+)\s*\}\})");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kVar);
         it != std::sregex_iterator(); ++it) {
        out.insert((*it)[1]);
    }
    return out;
}

TEST(CatalogCheckTest, EveryShippedLocaleHasEveryKeyWithTheSamePlaceholders) {
    // Every catalog file is valid JSON (add_locales_dir reports the ones that are not).
    CatalogSet c;
    ASSERT_THAT(c.add_locales_dir(RUNICORN_I18N_LOCALES), ::testing::IsEmpty());
    const auto en = c.flat_messages("en", {});
    for (const auto& locale : c.locales()) {
        // flat_messages fills gaps from en, so compare against the locale's own catalog.
        auto own = c.catalog(locale.code);
        ASSERT_TRUE(own.has_value());
        EXPECT_DOUBLE_EQ(locale.completeness, 1.0) << locale.code << " misses keys of en";
        const auto flat = c.flat_messages(locale.code, {});
        for (const auto& kv : en) {
            ASSERT_TRUE(flat.contains(kv.key())) << locale.code << ": " << kv.key();
            EXPECT_EQ(placeholders(std::string(flat.at(kv.key()).as_string())),
                      placeholders(std::string(kv.value().as_string())))
                << locale.code << ": " << kv.key();
        }
    }
}

/// The fixture's partial German (tests/plugins/locale_pack) over the shipped catalogs, as the
/// plugin merges a locale pack found in a plugins directory.
CatalogSet with_fixture_german() {
    CatalogSet c;
    EXPECT_TRUE(c.add_locales_dir(RUNICORN_I18N_LOCALES).empty());
    EXPECT_TRUE(c.add_locales_dir(RUNICORN_I18N_FIXTURE_LOCALES).empty());
    return c;
}

TEST(CatalogFallbackTest, PartialGermanFallsBackToEnglishPerKey) {
    auto c = with_fixture_german();
    EXPECT_EQ(c.resolve("de-AT"), "de");
    EXPECT_EQ(c.translate("de", "cli:ls.no_runs", {}), "keine Läufe");
    EXPECT_EQ(c.translate("de", "cli:ls.col_path", {}), "PATH");  // not in de: en
    EXPECT_EQ(c.translate("de", "cli:fsck.problems", {{"count", 1}}), "1 Problem");
    EXPECT_EQ(c.translate("de", "cli:fsck.problems", {{"count", 3}}), "3 Probleme");
    EXPECT_EQ(c.translate("de", "cli:reindex.done", {{"count", 1}, {"seconds", "0.10"}}),
              "indexed 1 run in 0.10 s");  // en's plural form for en's text
    EXPECT_EQ(c.translate("de", "errors:RUN_NOT_FOUND", {}), "Lauf nicht gefunden");
    EXPECT_EQ(c.translate("de", "errors:NOT_FOUND", {}), "Not Found");
    const auto flat = c.flat_messages("de", {"cli"});
    EXPECT_EQ(flat.at("cli.ls.no_runs").as_string(), "keine Läufe");
    EXPECT_EQ(flat.at("cli.ls.col_path").as_string(), "PATH");
    double completeness = -1;
    for (const auto& l : c.locales()) {
        if (l.code == "de") {
            completeness = l.completeness;
        }
    }
    EXPECT_GT(completeness, 0.0);
    EXPECT_LT(completeness, 0.5);
}

/// A Locales service over a CatalogSet, negotiating as the plugin does (no server default).
class CatalogLocales final : public plugin::Locales {
public:
    explicit CatalogLocales(CatalogSet c) : c_(std::move(c)) {}
    std::vector<plugin::LocaleInfo> locales() const override { return c_.locales(); }
    std::string resolve(std::string_view r) const override { return c_.resolve(r); }
    std::string negotiate(std::string_view explicit_choice,
                          std::string_view accept_language) const override {
        if (auto m = c_.match(explicit_choice)) {
            return *m;
        }
        return c_.best_of(accept_language).value_or("en");
    }
    std::string translate(std::string_view l, std::string_view k,
                          const boost::json::object& v) const override {
        return c_.translate(l, k, v);
    }
    Result<boost::json::object> catalog(std::string_view l) const override { return c_.catalog(l); }

private:
    CatalogSet c_;
};

TEST(ErrorDetailTest, LocalizesByCodeAndRequestLanguage) {
    CatalogLocales locales(shipped());
    using plugin::error_detail;
    EXPECT_EQ(error_detail(&locales, "RUN_NOT_FOUND", "Run not found", "", "zh-CN,en;q=0.5"),
              "未找到该运行记录");
    EXPECT_EQ(error_detail(&locales, "RUN_NOT_FOUND", "Run not found", "zh", ""),
              "未找到该运行记录");
    EXPECT_EQ(error_detail(&locales, "RUN_NOT_FOUND", "Run not found", "en", "zh-CN"),
              "Run not found");  // ?lng= beats Accept-Language
    EXPECT_EQ(error_detail(&locales, "RUN_NOT_FOUND", "Run not found", "", ""), "Run not found");
    EXPECT_EQ(error_detail(&locales, "INVALID_RUN_ID", "Invalid run_id format: x/y", "", "zh",
                           {{"run_id", "x/y"}}),
              "run_id 格式无效：x/y");
    // A variable the caller did not pass, an unknown code, no service: the caller's English.
    EXPECT_EQ(error_detail(&locales, "INVALID_RUN_ID", "Invalid run_id format: x", "", "zh"),
              "Invalid run_id format: x");
    EXPECT_EQ(error_detail(&locales, "NO_SUCH_CODE", "Something", "", "zh"), "Something");
    EXPECT_EQ(error_detail(nullptr, "RUN_NOT_FOUND", "Run not found", "", "zh"), "Run not found");
}

}  // namespace
}  // namespace runicorn::i18n
