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
    boost::json::object vars{{"url", "http://127.0.0.1:23300"}};
    EXPECT_EQ(c.translate("en", "common:viewer.listening", vars),
              "Runicorn viewer: http://127.0.0.1:23300");
    EXPECT_EQ(c.translate("zh-CN", "viewer.listening", vars),
              "Runicorn 查看器：http://127.0.0.1:23300");
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
    for (const auto& l : c.locales()) {
        if (l.code == "de") {
            EXPECT_DOUBLE_EQ(l.completeness, 1.0 / 3.0);  // 1 of en's 3 strings
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
    EXPECT_EQ(body.at("messages").at("common.viewer.listening").as_string(),
              "Runicorn 查看器：{{url}}");
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

}  // namespace
}  // namespace runicorn::i18n
