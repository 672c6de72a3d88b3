#include "locale_catalog.hpp"

#include <fstream>

#include <gtest/gtest.h>

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
            EXPECT_LT(l.completeness, 100.0);
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

}  // namespace
}  // namespace runicorn::i18n
