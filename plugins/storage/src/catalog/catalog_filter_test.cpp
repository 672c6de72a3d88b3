// Filter expressions (API.md §4.2) and the new sort keys (§4.1) over a real SQLite catalog.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/filter/filter.hpp>

#include "catalog.hpp"
#include "catalog_json.hpp"
#include "filter_sql.hpp"
#include <unistd.h>

namespace runicorn::storage::catalog {
namespace {
namespace json = boost::json;
using plugin::RunQuery;
using plugin::RunSort;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr double kNow = 1800000000;  // the NOW of every query here
constexpr double kDay = 86400;

CatalogEntry entry(const std::string& id, std::optional<std::string> path,
                   const std::string& status, double created, std::string_view summary,
                   std::string_view config, std::string_view meta) {
    CatalogEntry e;
    e.info.location.run_id = id;
    e.info.location.path = path;
    e.info.status = status;
    e.info.created_at = created;
    e.info.summary = json::parse(summary).as_object();
    e.info.meta = json::parse(meta).as_object();
    if (const auto* alias = e.info.meta.if_contains("alias"); alias && alias->is_string()) {
        e.info.alias = std::string(alias->get_string());
    }
    if (const auto* tags = e.info.meta.if_contains("tags"); tags && tags->is_array()) {
        for (const auto& t : tags->get_array()) {
            e.info.tags.emplace_back(t.as_string());
        }
    }
    e.config = json::parse(config).as_object();
    e.rel_dir = "runs/" + (path ? *path + "/" : std::string()) + id;
    e.discovery_key = discovery_key(e.info.location, e.rel_dir, 0);
    return e;
}

std::vector<CatalogEntry> runs() {
    std::vector<CatalogEntry> out;
    // A finished baseline with a full summary and config.
    out.push_back(
        entry("r1", "cv/yolo", "finished", kNow - 10 * kDay,
              R"({"acc": 0.95, "loss": 0.1, "val/acc": 0.85, "note": "good",
                            "flag": true, "layers": [64, 128], "nested": {"depth": 50}})",
              R"({"args": {"lr": 0.001, "optimizer": "adam"}, "extra": {"model": "r50"}})",
              R"({"alias": "best-yolo", "tags": ["baseline"], "python": null})"));
    out.back().info.started_at = kNow - 10 * kDay;
    out.back().info.ended_at = kNow - 10 * kDay + 100;
    out.back().info.hostname = "gpu1";
    MetricKeyStats loss;
    loss.key = "loss";
    loss.count = loss.numeric_count = 2000;
    loss.first_step = 0;
    loss.last_step = 1999;
    loss.last = 0.04;
    loss.min = 0.01;
    loss.max = 2.5;
    out.back().metric_keys.push_back(loss);
    // A failed run next to cv/yolo (not under it) whose loss is NaN.
    out.push_back(entry("r2", "cv/yolo-x", "failed", kNow - 5 * kDay, R"({"acc": 0.5})",
                        R"({"args": {"optimizer": "sgd"}, "extra": {"lr": 0.01}})",
                        R"({"alias": null, "tags": ["debug"]})"));
    out.back().info.summary["loss"] = std::numeric_limits<double>::quiet_NaN();
    MetricKeyStats nan_loss;  // only non-finite values: no min/max, a NaN last
    nan_loss.key = "loss";
    nan_loss.count = nan_loss.numeric_count = nan_loss.nonfinite_count = 3;
    nan_loss.first_step = 1;
    nan_loss.last_step = 3;
    nan_loss.last = std::numeric_limits<double>::quiet_NaN();
    out.back().metric_keys.push_back(nan_loss);
    out.back().info.exit_reason = "process_not_found";
    out.back().info.started_at = kNow - 5 * kDay;
    out.back().info.ended_at = kNow - 5 * kDay + 10;
    // A running run whose acc is a string and whose config.args.lr is null.
    out.push_back(entry("r3", "cv/yolo/v8", "running", kNow - kDay, R"({"acc": "n/a"})",
                        R"({"args": {"lr": null}, "extra": {"lr": 0.5}})",
                        R"({"alias": "resnet50-try", "tags": ["baseline", "debug"]})"));
    out.back().info.started_at = kNow - kDay;
    // A root-path run with nothing in it.
    out.push_back(entry("r4", std::nullopt, "finished", kNow - 30 * kDay, "{}", "{}", "{}"));
    // Text made to look like SQL.
    out.push_back(entry("resnet50_custom", "nlp", "interrupted", kNow - 2 * kDay,
                        R"({"acc": 0.99, "name": "O'Brien \" x", "inf": 1})", R"({})",
                        R"({"alias": "x'; DROP TABLE runs; --", "tags": ["it's"]})"));
    out.back().info.summary["inf"] = std::numeric_limits<double>::infinity();
    return out;
}

class CatalogFilterTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto c = Catalog::open(":memory:", "/store");
        ASSERT_TRUE(c.has_value()) << c.error();
        catalog_ = std::move(*c);
        ASSERT_EQ(catalog_->replace_all(runs()), Status::ok());
    }

    Result<plugin::RunPage> query(const std::string& filter, RunQuery q = {}) const {
        q.filter = filter;
        q.now = kNow;
        return catalog_->query(q);
    }

    /// The ids matching `filter`, sorted (a set: the order is the catalog tests' business).
    std::vector<std::string> ids(const std::string& filter, RunQuery q = {}) const {
        auto out = ordered_ids(filter, std::move(q));
        std::sort(out.begin(), out.end());
        return out;
    }

    /// The ids matching `filter`, in the query's order.
    std::vector<std::string> ordered_ids(const std::string& filter, RunQuery q = {}) const {
        auto page = query(filter, std::move(q));
        EXPECT_TRUE(page.has_value()) << filter << ": " << page.error();
        std::vector<std::string> out;
        if (page) {
            for (const auto& r : page->runs) {
                out.push_back(r.location.run_id);
            }
            EXPECT_EQ(page->total, out.size()) << filter;
        }
        return out;
    }

    filter::Error error(const std::string& filter) const {
        auto page = query(filter);
        EXPECT_FALSE(page.has_value()) << filter;
        if (page) {
            return {};
        }
        EXPECT_EQ(page.error().code(), StatusCode::kInvalidArgument);
        const auto e = filter::error_from_status(page.error());
        EXPECT_TRUE(e.has_value()) << page.error();
        return e.value_or(filter::Error{});
    }

    std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogFilterTest, TheExamplesOfTheSpec) {
    EXPECT_THAT(ids(R"(summary.acc > 0.9 AND tags HAS "baseline")"), ElementsAre("r1"));
    EXPECT_THAT(ids(R"(path UNDER "cv/yolo" status IN ("failed", "running"))"), ElementsAre("r3"));
    EXPECT_THAT(ids(R"(config.lr <= 1e-3 OR config.optimizer = "sgd")"), ElementsAre("r1", "r2"));
    EXPECT_THAT(ids(R"(NOT tags HAS "debug" created > NOW - 7d)"), ElementsAre("resnet50_custom"));
    EXPECT_THAT(ids(R"(resnet50 status = "running")"), ElementsAre("r3"));
    EXPECT_THAT(ids(R"(resnet50)"), ElementsAre("r3", "resnet50_custom"));
    EXPECT_THAT(ids(R"(summary.`val/acc` >= 0.8 AND alias ~ "best-*")"), ElementsAre("r1"));
    EXPECT_THAT(ids("metric.loss.min < 0.05 AND metric.loss.count >= 1000"), ElementsAre("r1"));
}

TEST_F(CatalogFilterTest, MetricStatisticsAndLastStep) {
    EXPECT_THAT(ids("metric.loss.count = 3"), ElementsAre("r2"));
    EXPECT_THAT(ids("metric.loss.last < 1 OR metric.loss.last >= 1"), ElementsAre("r1"));
    EXPECT_THAT(ids("metric.loss.last = NULL"), ElementsAre("r2"));  // NaN last: no value
    EXPECT_THAT(ids("NOT metric.loss.min < 1"),
                ::testing::UnorderedElementsAre("r2", "r3", "r4", "resnet50_custom"));
    EXPECT_THAT(ids("metric.loss.max IN (2.5, 7)"), ElementsAre("r1"));
    EXPECT_THAT(ids("metric.loss.max EXISTS"), ::testing::UnorderedElementsAre("r1", "r2"));
    EXPECT_THAT(ids("metric.loss.min = 'x'"), ElementsAre());
    EXPECT_THAT(ids("metric.`loss`.last > 0"), ElementsAre("r1"));
    EXPECT_THAT(ids("last_step > 5"), ElementsAre("r1"));
    EXPECT_THAT(ids("last_step <= 5"), ElementsAre("r2"));
    EXPECT_EQ(error("metric.loss.mean > 1").code, filter::ErrorCode::kField);
}

TEST_F(CatalogFilterTest, ComparisonsOnRunColumns) {
    EXPECT_THAT(ids("id = 'r2'"), ElementsAre("r2"));
    EXPECT_THAT(ids("id == 'r2'"), ElementsAre("r2"));
    EXPECT_THAT(ids("status != 'finished'"), ElementsAre("r2", "r3", "resnet50_custom"));
    EXPECT_THAT(ids("id < 'r2'"), ElementsAre("r1"));
    EXPECT_THAT(ids("id <= 'r2'"), ElementsAre("r1", "r2"));
    EXPECT_THAT(ids("id > 'r3'"), ElementsAre("r4", "resnet50_custom"));
    EXPECT_THAT(ids("id >= 'r4'"), ElementsAre("r4", "resnet50_custom"));
    EXPECT_THAT(ids("status IN ('failed', 'interrupted')"), ElementsAre("r2", "resnet50_custom"));
    EXPECT_THAT(ids("status NOT IN ('failed', 'interrupted')"), ElementsAre("r1", "r3", "r4"));
    EXPECT_THAT(ids("exit_reason = 'process_not_found'"), ElementsAre("r2"));
    EXPECT_THAT(ids("hostname = 'gpu1'"), ElementsAre("r1"));
    EXPECT_THAT(ids("liveness = 'unknown'"), ElementsAre("r3"));
    EXPECT_THAT(ids("liveness = 'ended'"), ElementsAre("r1", "r2", "r4", "resnet50_custom"));
    // A string field compared with a number, a time field with a boolean: type mismatch, false.
    EXPECT_THAT(ids("id = 1"), IsEmpty());
    EXPECT_THAT(ids("created = true"), IsEmpty());
    EXPECT_THAT(ids("NOT id = 1"), ElementsAre("r1", "r2", "r3", "r4", "resnet50_custom"));
}

TEST_F(CatalogFilterTest, NullableColumnsAndNot) {
    EXPECT_THAT(ids("alias = NULL"), ElementsAre("r2", "r4"));
    EXPECT_THAT(ids("alias != NULL"), ElementsAre("r1", "r3", "resnet50_custom"));
    // A missing value makes the predicate false, so its NOT is true.
    EXPECT_THAT(ids("alias != 'best-yolo'"), ElementsAre("r3", "resnet50_custom"));
    EXPECT_THAT(ids("NOT alias = 'best-yolo'"), ElementsAre("r2", "r3", "r4", "resnet50_custom"));
    // EXISTS: meta.json has the key, even if null (r2's alias is null).
    EXPECT_THAT(ids("alias EXISTS"), ElementsAre("r1", "r2", "r3", "resnet50_custom"));
    EXPECT_THAT(ids("exit_reason EXISTS"), ElementsAre("r2"));
    EXPECT_THAT(ids("NOT ended EXISTS"), ElementsAre("r3", "r4", "resnet50_custom"));
    EXPECT_THAT(ids("path = NULL"), ElementsAre("r4"));
}

TEST_F(CatalogFilterTest, TimesAndDurations) {
    EXPECT_THAT(ids("created > NOW - 7d"), ElementsAre("r2", "r3", "resnet50_custom"));
    EXPECT_THAT(ids("created <= NOW - 5d"), ElementsAre("r1", "r2", "r4"));
    EXPECT_THAT(ids("created >= NOW - 2d AND created < NOW"), ElementsAre("r3", "resnet50_custom"));
    // 1800000000 - 2 days = 2027-01-13T08:00:00Z.
    EXPECT_THAT(ids("created >= '2027-01-13T08:00:00Z'"), ElementsAre("r3", "resnet50_custom"));
    EXPECT_THAT(ids("created > '2027-01-13T09:00+01:00'"), ElementsAre("r3"));
    EXPECT_THAT(ids("created = 1799136000"), ElementsAre("r1"));
    EXPECT_THAT(ids("duration >= 100"), ElementsAre("r1"));
    EXPECT_THAT(ids("duration < 100"), ElementsAre("r2"));
    EXPECT_THAT(ids("NOT duration < 100"), ElementsAre("r1", "r3", "r4", "resnet50_custom"));
    EXPECT_THAT(ids("started EXISTS AND ended = NULL"), ElementsAre("r3"));
    EXPECT_THAT(ids("created ~ '17*'"), IsEmpty());  // not a string
}

TEST_F(CatalogFilterTest, TypedJsonComparisons) {
    EXPECT_THAT(ids("summary.acc > 0.9"), ElementsAre("r1", "resnet50_custom"));
    EXPECT_THAT(ids("summary.acc = 'n/a'"), ElementsAre("r3"));
    EXPECT_THAT(ids("summary.acc != 0.5"), ElementsAre("r1", "resnet50_custom"));
    // r2 (0.5), r3 (a string) and r4 (no acc) all fail the predicate.
    EXPECT_THAT(ids("NOT summary.acc > 0.9"), ElementsAre("r2", "r3", "r4"));
    EXPECT_THAT(ids("summary.flag = true"), ElementsAre("r1"));
    EXPECT_THAT(ids("summary.flag = false"), IsEmpty());
    EXPECT_THAT(ids("summary.flag > false"), ElementsAre("r1"));
    EXPECT_THAT(ids("summary.flag = 1"), IsEmpty());
    EXPECT_THAT(ids("summary.note = 'good'"), ElementsAre("r1"));
    EXPECT_THAT(ids("summary.note = 'GOOD'"), IsEmpty());  // = is case-sensitive
    EXPECT_THAT(ids("summary.note ~ 'GO*'"), ElementsAre("r1"));
    EXPECT_THAT(ids("summary.note !~ 'x*'"), ElementsAre("r1"));
    EXPECT_THAT(ids("summary.nested.depth = 50"), ElementsAre("r1"));
    EXPECT_THAT(ids("summary.nested EXISTS AND summary.nested = 50"), IsEmpty());
    EXPECT_THAT(ids("summary.acc IN (0.5, 'n/a')"), ElementsAre("r2", "r3"));
    EXPECT_THAT(ids("summary.acc NOT IN (0.5, 0.95)"), ElementsAre("resnet50_custom"));
    EXPECT_THAT(ids("summary.layers HAS 64"), ElementsAre("r1"));
    EXPECT_THAT(ids("summary.layers HAS '64'"), IsEmpty());
    EXPECT_THAT(ids("summary.note HAS 'good'"), IsEmpty());  // not a list
    EXPECT_THAT(ids("meta.python = NULL"), ElementsAre("r1"));
    EXPECT_THAT(ids("meta.python EXISTS"), ElementsAre("r1"));
    EXPECT_THAT(ids("meta.tags HAS 'debug'"), ElementsAre("r2", "r3"));
    EXPECT_THAT(ids("summary.inf > 1e300"), ElementsAre("resnet50_custom"));
}

TEST_F(CatalogFilterTest, NanComparesFalse) {
    EXPECT_THAT(ids("summary.loss < 1"), ElementsAre("r1"));
    EXPECT_THAT(ids("summary.loss >= 1"), IsEmpty());
    EXPECT_THAT(ids("summary.loss = NULL"), IsEmpty());
    EXPECT_THAT(ids("summary.loss EXISTS"), ElementsAre("r1", "r2"));
    EXPECT_THAT(ids("NOT summary.loss < 1"), ElementsAre("r2", "r3", "r4", "resnet50_custom"));
    // The run still reads back with its NaN (and Infinity) intact.
    auto page = query("id = 'r2' OR id = 'resnet50_custom'");
    ASSERT_TRUE(page.has_value());
    ASSERT_EQ(page->runs.size(), 2U);
    EXPECT_TRUE(std::isnan(page->runs[0].summary.at("loss").as_double()));
    EXPECT_TRUE(std::isinf(page->runs[1].summary.at("inf").as_double()));
}

TEST_F(CatalogFilterTest, ConfigKeysPreferArgsThenExtra) {
    EXPECT_THAT(ids("config.lr <= 0.01"), ElementsAre("r1", "r2"));  // r3: args.lr is null
    EXPECT_THAT(ids("config.lr = NULL"), ElementsAre("r3"));
    EXPECT_THAT(ids("config.extra.lr = 0.5"), ElementsAre("r3"));
    EXPECT_THAT(ids("config.args.lr EXISTS"), ElementsAre("r1", "r3"));
    EXPECT_THAT(ids("config.model = 'r50'"), ElementsAre("r1"));
    EXPECT_THAT(ids("config.args.model EXISTS"), IsEmpty());
}

TEST_F(CatalogFilterTest, GlobsAreCaseInsensitive) {
    EXPECT_THAT(ids("alias ~ 'BEST-*'"), ElementsAre("r1"));
    EXPECT_THAT(ids("alias ~ 'best-yol?'"), ElementsAre("r1"));
    EXPECT_THAT(ids("alias ~ 'best'"), IsEmpty());  // the whole value must match
    EXPECT_THAT(ids("alias !~ 'best-*'"), ElementsAre("r3", "resnet50_custom"));
    EXPECT_THAT(ids("id ~ 'R[1]'"), IsEmpty());  // [ is literal
    EXPECT_THAT(ids("path ~ 'cv/*'"), ElementsAre("r1", "r2", "r3"));
}

TEST_F(CatalogFilterTest, UnderIsThePrefixRule) {
    EXPECT_THAT(ids("path UNDER 'cv/yolo'"), ElementsAre("r1", "r3"));
    EXPECT_THAT(ids("path UNDER 'cv/yolo/'"), ElementsAre("r1", "r3"));
    EXPECT_THAT(ids("path UNDER 'cv'"), ElementsAre("r1", "r2", "r3"));
    EXPECT_THAT(ids("path UNDER 'cv/yo'"), IsEmpty());
    EXPECT_THAT(ids("path UNDER '/'"), ElementsAre("r4"));
    EXPECT_THAT(ids("NOT path UNDER 'cv'"), ElementsAre("r4", "resnet50_custom"));
}

TEST_F(CatalogFilterTest, TagsAndTextTerms) {
    EXPECT_THAT(ids("tags HAS 'baseline'"), ElementsAre("r1", "r3"));
    EXPECT_THAT(ids("tags HAS 'Baseline'"), IsEmpty());
    EXPECT_THAT(ids("tags IN ('debug', 'nope')"), ElementsAre("r2", "r3"));
    EXPECT_THAT(ids("tags NOT IN ('debug')"), ElementsAre("r1", "r4", "resnet50_custom"));
    EXPECT_THAT(ids("tags EXISTS"), ElementsAre("r1", "r2", "r3", "resnet50_custom"));
    EXPECT_THAT(ids("tags HAS 1"), IsEmpty());
    EXPECT_THAT(ids("YOLO"), ElementsAre("r1", "r2", "r3"));  // alias or path, any case
    EXPECT_THAT(ids("'yolo-x'"), ElementsAre("r2"));
    EXPECT_THAT(ids("debug baseline"), ElementsAre("r3"));
    EXPECT_THAT(ids("debug OR nlp"), ElementsAre("r2", "r3", "resnet50_custom"));
}

TEST_F(CatalogFilterTest, QuotesAndSqlInLiteralsAreData) {
    EXPECT_THAT(ids(R"(alias = "x'; DROP TABLE runs; --")"), ElementsAre("resnet50_custom"));
    EXPECT_THAT(ids("alias = 'x''; DROP TABLE runs; --'"), ElementsAre("resnet50_custom"));
    EXPECT_THAT(ids(R"(summary.name = 'O''Brien " x')"), ElementsAre("resnet50_custom"));
    EXPECT_THAT(ids(R"(tags HAS "it's")"), ElementsAre("resnet50_custom"));
    EXPECT_THAT(ids(R"("it's")"), ElementsAre("resnet50_custom"));
    EXPECT_THAT(ids("id = '1'' OR ''1''=''1'"), IsEmpty());
    EXPECT_THAT(ids("summary.`a') OR 1=1; DROP TABLE runs; --` = 1"), IsEmpty());
    EXPECT_THAT(ids("summary.`x'` EXISTS OR meta.`$.tags` EXISTS"), IsEmpty());
    EXPECT_THAT(ids("id ~ '*'' OR 1=1 --'"), IsEmpty());
    EXPECT_EQ(*catalog_->size(), 5U);
    EXPECT_EQ(*catalog_->integrity_check(), "ok");
}

TEST_F(CatalogFilterTest, FilterCombinesWithTheOtherFilters) {
    RunQuery q;
    q.statuses = {"finished"};
    EXPECT_THAT(ids("summary.acc EXISTS", q), ElementsAre("r1"));
    q = {};
    q.path = "cv";
    EXPECT_THAT(ids("NOT tags HAS 'debug'", q), ElementsAre("r1"));
    EXPECT_THAT(ids("   ", q), ElementsAre("r1", "r2", "r3"));
}

TEST_F(CatalogFilterTest, BadFiltersAreInvalidArgumentsWithPositions) {
    auto e = error("status = 'a' AND (");
    EXPECT_EQ(e.code, filter::ErrorCode::kSyntax);
    EXPECT_EQ(e.position, 18U);
    e = error("summary.acc > 1 AND accuracy > 1");
    EXPECT_EQ(e.code, filter::ErrorCode::kField);
    EXPECT_EQ(e.position, 20U);
    auto page = query("x.y = 1");
    ASSERT_FALSE(page.has_value());
    EXPECT_EQ(page.error().message().rfind("invalid filter (FILTER_FIELD at position 0): ", 0), 0U);
}

TEST_F(CatalogFilterTest, KeysetPagesWithAFilter) {
    for (const bool desc : {false, true}) {
        for (const auto sort : {RunSort::kCreated, RunSort::kStarted, RunSort::kEnded,
                                RunSort::kDuration, RunSort::kAlias, RunSort::kDiscovery}) {
            RunQuery q;
            q.sort = sort;
            q.descending = desc;
            const auto all = ordered_ids("NOT status = 'interrupted'", q);
            ASSERT_EQ(all.size(), 4U);
            q.limit = 1;
            std::vector<std::string> paged;
            for (int i = 0; i < 10; ++i) {
                auto page = query("NOT status = 'interrupted'", q);
                ASSERT_TRUE(page.has_value()) << page.error();
                EXPECT_EQ(page->total, 4U);
                for (const auto& r : page->runs) {
                    paged.push_back(r.location.run_id);
                }
                if (page->next_cursor.empty()) {
                    break;
                }
                q.cursor = page->next_cursor;
            }
            EXPECT_EQ(paged, all) << static_cast<int>(sort) << " desc " << desc;
            // The cursor is refused under another filter.
            auto other = query("status = 'finished'", q);
            if (!q.cursor.empty()) {
                ASSERT_FALSE(other.has_value());
                EXPECT_EQ(other.error().code(), StatusCode::kInvalidArgument);
            }
        }
    }
}

/// The first `n` ids in order, then the rest (runs without a sort value, by run key) as a set.
std::pair<std::vector<std::string>, std::set<std::string>> split(std::vector<std::string> ids,
                                                                 std::size_t n) {
    return {std::vector<std::string>(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n)),
            std::set<std::string>(ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end())};
}

TEST_F(CatalogFilterTest, NewSortKeys) {
    using Split = std::pair<std::vector<std::string>, std::set<std::string>>;
    RunQuery q;
    q.sort = RunSort::kStarted;  // descending by default; nulls last
    EXPECT_EQ(split(ordered_ids("", q), 3), (Split{{"r3", "r2", "r1"}, {"r4", "resnet50_custom"}}));
    q.sort = RunSort::kEnded;
    EXPECT_EQ(split(ordered_ids("", q), 2), (Split{{"r2", "r1"}, {"r3", "r4", "resnet50_custom"}}));
    q.sort = RunSort::kDuration;
    EXPECT_EQ(split(ordered_ids("", q), 2), (Split{{"r1", "r2"}, {"r3", "r4", "resnet50_custom"}}));
    q.descending = false;
    EXPECT_EQ(split(ordered_ids("", q), 2), (Split{{"r2", "r1"}, {"r3", "r4", "resnet50_custom"}}));
    q.descending.reset();
    q.sort = RunSort::kAlias;  // ascending by default
    EXPECT_EQ(split(ordered_ids("", q), 3), (Split{{"r1", "r3", "resnet50_custom"}, {"r2", "r4"}}));
    q.sort = RunSort::kSummary;
    q.sort_field = "acc";  // numbers only, descending by default
    EXPECT_EQ(split(ordered_ids("", q), 3), (Split{{"resnet50_custom", "r1", "r2"}, {"r3", "r4"}}));
    q.descending = false;
    EXPECT_EQ(split(ordered_ids("", q), 3), (Split{{"r2", "r1", "resnet50_custom"}, {"r3", "r4"}}));
    q.sort_field = "val/acc";
    EXPECT_THAT(ordered_ids("summary.`val/acc` EXISTS", q), ElementsAre("r1"));
    q.sort_field.clear();
    EXPECT_EQ(query("", q).error().code(), StatusCode::kInvalidArgument);
}

TEST_F(CatalogFilterTest, KeysetPagesBySummaryValue) {
    RunQuery q;
    q.sort = RunSort::kSummary;
    q.sort_field = "acc";
    const auto all = ordered_ids("", q);
    q.limit = 2;
    std::vector<std::string> paged;
    for (int i = 0; i < 5; ++i) {
        auto page = query("", q);
        ASSERT_TRUE(page.has_value()) << page.error();
        for (const auto& r : page->runs) {
            paged.push_back(r.location.run_id);
        }
        if (page->next_cursor.empty()) {
            break;
        }
        q.cursor = page->next_cursor;
    }
    EXPECT_EQ(paged, all);
    EXPECT_EQ(split(paged, 3), split(all, 3));
    q.sort_field = "loss";
    EXPECT_EQ(query("", q).error().code(), StatusCode::kInvalidArgument);  // another key
}

TEST(CatalogJsonTest, NonFiniteNumbersSurviveAndStayValidJson) {
    json::object o;
    o["nan"] = std::numeric_limits<double>::quiet_NaN();
    o["inf"] = std::numeric_limits<double>::infinity();
    o["ninf"] = -std::numeric_limits<double>::infinity();
    o["list"] = json::array{1.5, "a\"b", nullptr, true};
    const std::string text = to_catalog_json(o);
    EXPECT_EQ(text, R"({"nan":{"$runicorn_nan":true},"inf":1e999,"ninf":-1e999,)"
                    R"("list":[1.5E0,"a\"b",null,true]})");
    const auto back = from_catalog_json(text);
    ASSERT_TRUE(back.has_value());
    EXPECT_TRUE(std::isnan(back->at("nan").as_double()));
    EXPECT_EQ(back->at("inf").as_double(), std::numeric_limits<double>::infinity());
    EXPECT_EQ(back->at("ninf").as_double(), -std::numeric_limits<double>::infinity());
    EXPECT_EQ(back->at("list"), (json::array{1.5, "a\"b", nullptr, true}));
    EXPECT_EQ(from_catalog_json("{"), std::nullopt);
}

TEST(FilterSqlTest, LiteralsAreBoundNeverPasted) {
    const auto parsed = filter::parse("alias = 'DROP' OR summary.`k'x` > 1 OR word");
    ASSERT_TRUE(parsed.has_value());
    auto sql = compile_filter(*parsed, 0);
    ASSERT_TRUE(sql.has_value());
    EXPECT_EQ(sql->sql.find("DROP"), std::string::npos);
    EXPECT_EQ(sql->sql.find("k'x"), std::string::npos);
    EXPECT_EQ(sql->sql.find("word"), std::string::npos);
    EXPECT_EQ(sql->params.size(), 5U);
    EXPECT_EQ(json_path({"a/b", "c.d"}), R"($."a/b"."c.d")");
    const auto all = compile_filter(filter::Expression{}, 0);
    ASSERT_TRUE(all.has_value());
    EXPECT_EQ(all->sql, "1");
}

TEST(CatalogFilterFileTest, ASchemaFourCatalogIsRebuilt) {
    const std::string file = "/tmp/rn-catalog-v4-" + std::to_string(::getpid()) + ".sqlite";
    {
        auto db = Database::open(file);
        ASSERT_TRUE(db.has_value());
        // The version 4 runs table had no config_json column.
        ASSERT_EQ(
            (*db)->exec("CREATE TABLE runs(run_key TEXT, run_id TEXT, summary_json TEXT); "
                        "INSERT INTO runs VALUES('k', 'old', '{}'); PRAGMA user_version = 4;"),
            Status::ok());
    }
    auto c = Catalog::open(file, "/store");
    ASSERT_TRUE(c.has_value()) << c.error();
    EXPECT_EQ(*(*c)->size(), 0U);
    EXPECT_EQ((*c)->replace_all(runs()), Status::ok());
    RunQuery q;
    q.filter = "config.model = 'r50'";
    auto page = (*c)->query(q);
    ASSERT_TRUE(page.has_value()) << page.error();
    ASSERT_EQ(page->runs.size(), 1U);
    EXPECT_EQ(page->runs[0].location.run_id, "r1");
    c->reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
        ::unlink((file + suffix).c_str());
    }
}

}  // namespace
}  // namespace runicorn::storage::catalog
