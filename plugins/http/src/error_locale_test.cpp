#include "error_locale.hpp"

#include <map>
#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "responses.hpp"

namespace runicorn::http_plugin {
namespace {

namespace json = boost::json;

/// A two-language catalog of error texts. Thread safety: immutable after construction.
class FakeLocales final : public plugin::Locales {
public:
    std::vector<plugin::LocaleInfo> locales() const override { return {}; }
    std::string resolve(std::string_view requested) const override {
        return requested.starts_with("zh") ? "zh-CN" : "en";
    }
    std::string negotiate(std::string_view explicit_choice,
                          std::string_view accept_language) const override {
        return resolve(!explicit_choice.empty() ? explicit_choice : accept_language);
    }
    std::string translate(std::string_view locale, std::string_view key,
                          const json::object& vars) const override {
        const auto& table = locale == "zh-CN" ? zh_ : en_;
        const auto it = table.find(std::string(key));
        return it == table.end() ? std::string(key) : plugin::interpolate(it->second, vars);
    }
    Result<json::object> catalog(std::string_view) const override { return json::object(); }

private:
    std::map<std::string, std::string> en_ = {
        {"errors:RUN_NOT_FOUND", "Run not found"},
        {"errors:INVALID_RUN_ID", "Invalid run_id format: {{run_id}}"},
        {"errors:ONLY_EN", "Only English"},
        {"errors:TWO", "{{a}} and {{b}}!"}};
    std::map<std::string, std::string> zh_ = {
        {"errors:RUN_NOT_FOUND", "未找到该运行记录"},
        {"errors:INVALID_RUN_ID", "run_id 格式无效：{{run_id}}"},
        {"errors:TWO", "{{b}} 和 {{a}}！"}};
};

json::object body_of(const plugin::HttpResponse& r) { return json::parse(r.body).as_object(); }

TEST(ErrorLocaleTest, FixedAndTemplatedTextsFollowTheRequestLanguage) {
    FakeLocales loc;
    auto r = error_response(404, "RUN_NOT_FOUND", "Run not found");
    localize_error(r, &loc, "", "zh-CN,zh;q=0.9,en;q=0.5");
    EXPECT_EQ(body_of(r).at("detail").as_string(), "未找到该运行记录");
    EXPECT_EQ(body_of(r).at("code").as_string(), "RUN_NOT_FOUND");

    auto bad = error_response(400, "INVALID_RUN_ID", "Invalid run_id format: ../x");
    localize_error(bad, &loc, "zh", "en");  // ?lng= wins over Accept-Language
    EXPECT_EQ(body_of(bad).at("detail").as_string(), "run_id 格式无效：../x");

    auto two = error_response(400, "TWO", "x and y and z!");
    localize_error(two, &loc, "zh-CN", "");
    EXPECT_EQ(body_of(two).at("detail").as_string(), "y and z 和 x！");
}

TEST(ErrorLocaleTest, LeavesEverythingElseAlone) {
    FakeLocales loc;
    auto en = error_response(404, "RUN_NOT_FOUND", "Run not found");
    const std::string before = en.body;
    localize_error(en, &loc, "", "en-US");
    EXPECT_EQ(en.body, before);  // English asked for

    auto other_text = error_response(404, "RUN_NOT_FOUND", "Run 'x' not found in the catalog");
    const std::string other_before = other_text.body;
    localize_error(other_text, &loc, "zh-CN", "");
    EXPECT_EQ(other_text.body, other_before);  // the detail is not the catalog's template

    auto no_zh = error_response(400, "ONLY_EN", "Only English");
    localize_error(no_zh, &loc, "zh-CN", "");
    EXPECT_EQ(body_of(no_zh).at("detail").as_string(), "Only English");

    auto ok =
        json_response(200, json::object{{"detail", "Run not found"}, {"code", "RUN_NOT_FOUND"}});
    localize_error(ok, &loc, "zh-CN", "");
    EXPECT_EQ(body_of(ok).at("detail").as_string(), "Run not found");  // not an error

    auto none = error_response(404, "RUN_NOT_FOUND", "Run not found");
    localize_error(none, nullptr, "zh-CN", "");
    EXPECT_EQ(body_of(none).at("detail").as_string(), "Run not found");  // no i18n plugin
}

}  // namespace
}  // namespace runicorn::http_plugin
