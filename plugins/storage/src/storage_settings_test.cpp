#include "storage_settings.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace runicorn::storage {
namespace {
namespace json = boost::json;

Result<StorageSettings> parse(std::string_view text) {
    return parse_storage_settings(json::parse(text).as_object());
}

TEST(StorageSettingsTest, DefaultsWhenNothingIsConfigured) {
    auto s = parse("{}");
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(s->check_liveness);
    EXPECT_TRUE(s->watch);
    EXPECT_EQ(s->scan_interval, std::chrono::seconds(60));
}

TEST(StorageSettingsTest, ReadsEveryKey) {
    auto s = parse(R"({"check_liveness": false, "watch": false, "scan_interval_s": 0.25,
                       "unknown": 1})");
    ASSERT_TRUE(s.has_value());
    EXPECT_FALSE(s->check_liveness);
    EXPECT_FALSE(s->watch);
    EXPECT_EQ(s->scan_interval, std::chrono::milliseconds(250));
    EXPECT_EQ(parse(R"({"scan_interval_s": 5})")->scan_interval, std::chrono::seconds(5));
}

TEST(StorageSettingsTest, AWrongTypeNamesItsJsonPointer) {
    EXPECT_EQ(parse(R"({"check_liveness": "yes"})").error(),
              Status::invalid_argument(
                  "invalid setting '/check_liveness' of plugin 'storage': expected a boolean"));
    EXPECT_EQ(parse(R"({"watch": 1})").error(),
              Status::invalid_argument(
                  "invalid setting '/watch' of plugin 'storage': expected a boolean"));
    for (const char* bad : {R"({"scan_interval_s": "60"})", R"({"scan_interval_s": 0})",
                            R"({"scan_interval_s": -1})", R"({"scan_interval_s": null})"}) {
        EXPECT_EQ(parse(bad).error(),
                  Status::invalid_argument("invalid setting '/scan_interval_s' of plugin "
                                           "'storage': expected a number of seconds greater "
                                           "than 0"))
            << bad;
    }
}

}  // namespace
}  // namespace runicorn::storage
