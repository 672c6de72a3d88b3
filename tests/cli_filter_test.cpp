// `runicorn ls -q/--filter` (API.md §4.2) end to end on a copy of the Runicorn v0.6 fixture store:
// matches, the new sort keys, and bad expressions shown with a caret under the position.
#include <algorithm>

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/testing/copy_tree.hpp>

#include "process.hpp"
#include "test_util.hpp"

namespace runicorn::test {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const std::string runicorn_exe = RUNICORN_EXE;
const fs::path fixture_store = fs::path(RUNICORN_FIXTURE_DIR) / "store";

class CliFilterTest : public ::testing::Test {
protected:
    /// A writable copy of the fixture (the original is never touched).
    void SetUp() override { ::runicorn::testing::copy_tree_writable(fixture_store, store_); }

    ProcessResult run(std::vector<std::string> args) const {
        args.insert(args.begin(), runicorn_exe);
        return run_process(args, {{"RUNICORN_CONFIG_DIR", (tmp_.path() / "config").string()},
                                  {"RUNICORN_DIR", store_.string()},
                                  {"RUNICORN_PLUGIN_PATH", std::nullopt},
                                  {"RUNICORN_PLUGINS", std::nullopt},
                                  {"RUNICORN_LOG_LEVEL", std::nullopt},
                                  {"TZ", "UTC"}});
    }

    /// The ids of `runicorn ls --json ARGS...`, in the listing's order.
    std::vector<std::string> ls_ids(std::vector<std::string> args) const {
        args.insert(args.begin(), {"ls", "--json"});
        auto r = run(args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        std::vector<std::string> ids;
        if (r.exit_code != 0) {
            return ids;
        }
        const auto v = json::parse(r.out);
        for (const auto& item : v.at("runs").as_array()) {
            ids.emplace_back(item.at("id").as_string());
        }
        return ids;
    }

    TempDir tmp_;
    fs::path store_ = tmp_.path() / "store";
};

TEST_F(CliFilterTest, FilterSelectsRuns) {
    EXPECT_THAT(ls_ids({"-q", R"(tags HAS "baseline")"}), ElementsAre("20250115_101500_df538c"));
    EXPECT_THAT(ls_ids({"--filter", R"(config.lr >= 0.1 AND config.optimizer.name = "sgd")"}),
                ElementsAre("20250115_100000_6cefa5"));
    EXPECT_THAT(ls_ids({"-q", R"(summary.notes ~ "KITCHEN*")"}),
                ElementsAre("20250115_100000_6cefa5"));
    EXPECT_THAT(ls_ids({"-q", "bert"}),
                UnorderedElementsAre("20250115_110000_3256c3", "20250115_111500_06bd22"));
    EXPECT_THAT(ls_ids({"-q", R"(path UNDER "cv/yolo" AND NOT status IN ("finished"))"}),
                UnorderedElementsAre("20250115_103000_b82213", "20250115_104500_6e73fa",
                                     "20250115_124500_e7cb53"));
    EXPECT_THAT(ls_ids({"-q", "summary.best_metric_value > 0.5", "--path", "cv/resnet"}),
                ElementsAre("20250115_100000_6cefa5"));
    EXPECT_THAT(ls_ids({"-q", "alias = NULL OR alias ~ 'r50-*'", "--path", "cv/resnet"}),
                UnorderedElementsAre("20250115_100000_6cefa5", "20250115_101500_df538c"));
}

TEST_F(CliFilterTest, SortsBySummaryValue) {
    const auto ids =
        ls_ids({"--sort", "summary.best_metric_value", "-q", "summary.best_metric_value EXISTS"});
    EXPECT_THAT(ids, ElementsAre("20250115_100000_6cefa5", "20250115_121500_5faeb7",
                                 "20250115_101500_df538c"));
    EXPECT_THAT(ls_ids({"--sort", "alias", "--limit", "2"}),
                ElementsAre("20250115_100000_6cefa5", "20250115_101500_df538c"));
}

TEST_F(CliFilterTest, PagesWithAFilter) {
    std::vector<std::string> all = ls_ids({"-q", "path UNDER 'cv'", "--sort", "created"});
    ASSERT_EQ(all.size(), 6U);
    std::vector<std::string> paged;
    std::string cursor;
    for (int i = 0; i < 6; ++i) {
        std::vector<std::string> args = {"ls",     "--json",  "-q",      "path UNDER 'cv'",
                                         "--sort", "created", "--limit", "4"};
        if (!cursor.empty()) {
            args.insert(args.end(), {"--cursor", cursor});
        }
        auto r = run(args);
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const auto v = json::parse(r.out);
        EXPECT_EQ(v.at("total").as_int64(), 6);
        for (const auto& item : v.at("runs").as_array()) {
            paged.emplace_back(item.at("id").as_string());
        }
        if (v.at("next_cursor").is_null()) {
            break;
        }
        cursor = std::string(v.at("next_cursor").as_string());
    }
    EXPECT_EQ(paged, all);
}

TEST_F(CliFilterTest, BadFiltersShowACaretAndExitTwo) {
    auto r = run({"ls", "-q", "status = "});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err,
              "runicorn: error: invalid filter (FILTER_SYNTAX at position 9): unexpected end of "
              "the filter: expected a value\n"
              "  status = \n"
              "           ^\n");
    r = run({"ls", "--filter", "tags HAS 'x' AND acc > 0.9"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err,
              "runicorn: error: invalid filter (FILTER_FIELD at position 17): unknown field 'acc' "
              "(did you mean summary.acc?); fields: id, path, alias, status, exit_reason, "
              "hostname, liveness, tags, created, started, ended, duration, last_step, "
              "summary.<key>, config.<key>, meta.<key>, metric.<key>.last|min|max|count\n"
              "  tags HAS 'x' AND acc > 0.9\n"
              "                   ^\n");
    // Columns count code points: the caret sits under the quote after "é".
    r = run({"ls", "-q", "alias = 'é"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err,
              "runicorn: error: invalid filter (FILTER_SYNTAX at position 8): unterminated string\n"
              "  alias = '\xc3\xa9\n"
              "          ^\n");
    r = run({"ls", "-q", "metric.loss.min < 0.05"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err,
              "runicorn: error: invalid filter (FILTER_FIELD at position 0): metric summaries are "
              "not indexed yet\n"
              "  metric.loss.min < 0.05\n"
              "  ^\n");
}

TEST_F(CliFilterTest, SqlInAStringIsData) {
    auto r = run({"ls", "-q", R"(alias = "x'; DROP TABLE runs; --" OR id = '1'' OR ''1''=''1')"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "no runs\n");
    EXPECT_EQ(ls_ids({}).size(), 11U);
}

}  // namespace
}  // namespace runicorn::test
