#include "catalog.hpp"

#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

namespace runicorn::storage::catalog {
namespace {
using plugin::DeletedFilter;
using plugin::RunQuery;
using plugin::RunSort;
using ::testing::ElementsAre;

#define RUNICORN_ASSERT_OK(expr) ASSERT_EQ((expr), ::runicorn::Status::ok())

CatalogEntry entry(const std::string& id, std::optional<std::string> path,
                   const std::string& status, double created, bool deleted = false,
                   std::vector<std::string> tags = {}) {
    CatalogEntry e;
    e.info.location.run_id = id;
    e.info.location.path = path;
    e.info.location.deleted = deleted;
    e.info.status = status;
    e.info.created_at = created;
    e.info.tags = std::move(tags);
    e.rel_dir = "runs/" + (path ? *path + "/" : std::string()) + id;
    e.discovery_key = discovery_key(e.info.location, e.rel_dir, 0);
    return e;
}

/// The runs of the Runicorn v0.6 fixture (../shared/fixtures/runicorn-0.6/README.md), with the
/// status a correct reader shows on the fixture's host (the "running" run is dead: failed).
std::vector<CatalogEntry> fixture_runs() {
    return {
        entry("20250115_120000_2eeb83", std::nullopt, "finished", 1736942400),
        entry("20250115_100000_6cefa5", "cv/resnet", "finished", 1736935200),
        entry("20250115_101500_df538c", "cv/resnet", "finished", 1736936100, false,
              {"sweep", "lr=0.1", "baseline"}),
        entry("20250115_103000_b82213", "cv/yolo", "failed", 1736937000),
        entry("20250115_104500_6e73fa", "cv/yolo", "interrupted", 1736937900),
        entry("20250115_124500_e7cb53", "cv/yolo", "failed", 1736945100),
        entry("20250115_121500_5faeb7", "cv/yolo/v8", "finished", 1736943300),
        entry("20250115_113000_05a59a", "default", "finished", 1736940600),
        entry("20250115_114500_1a030f", "default", "finished", 1736941500),
        entry("20250115_110000_3256c3", "nlp/bert", "finished", 1736938800, false,
              {"nlp", "many-keys"}),
        entry("20250115_111500_06bd22", "nlp/bert", "finished", 1736939700),
        entry("20250115_123000_6e554c", "nlp/t5", "finished", 1736944200, true),
    };
}

class CatalogTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto c = Catalog::open(":memory:", "/store");
        ASSERT_TRUE(c.has_value()) << c.error();
        catalog_ = std::move(*c);
        ASSERT_TRUE(catalog_->replace_all(fixture_runs()).is_ok());
    }
    std::vector<std::string> ids(const RunQuery& q) {
        auto page = catalog_->query(q);
        EXPECT_TRUE(page.has_value()) << page.error();
        std::vector<std::string> out;
        for (const auto& r : page->runs) {
            out.push_back(r.location.run_id);
        }
        return out;
    }
    std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogTest, DefaultOrderIsDiscoveryOrderWithoutDeletedRuns) {
    EXPECT_THAT(
        ids({}),
        ElementsAre("20250115_120000_2eeb83", "20250115_100000_6cefa5", "20250115_101500_df538c",
                    "20250115_103000_b82213", "20250115_104500_6e73fa", "20250115_124500_e7cb53",
                    "20250115_121500_5faeb7", "20250115_113000_05a59a", "20250115_114500_1a030f",
                    "20250115_110000_3256c3", "20250115_111500_06bd22"));
}

TEST_F(CatalogTest, PathStatsAreTheCorrectAggregation) {
    auto stats = catalog_->path_stats();
    ASSERT_TRUE(stats.has_value());
    std::vector<std::string> rows;
    for (const auto& s : *stats) {
        rows.push_back(s.path + " " + std::to_string(s.total) + "/" + std::to_string(s.running) +
                       "/" + std::to_string(s.finished) + "/" + std::to_string(s.failed));
    }
    // total/running/finished/failed, as the fixture README's "correct aggregation".
    EXPECT_THAT(rows, ElementsAre("cv 6/0/3/2", "cv/resnet 2/0/2/0", "cv/yolo 4/0/1/2",
                                  "cv/yolo/v8 1/0/1/0", "default 2/0/2/0", "nlp 2/0/2/0",
                                  "nlp/bert 2/0/2/0"));
}

TEST_F(CatalogTest, FiltersByPathStatusTagsTextAndDeletion) {
    RunQuery under_yolo;
    under_yolo.path = "cv/yolo";
    EXPECT_EQ(ids(under_yolo).size(), 4U);
    under_yolo.exact_path = true;
    EXPECT_EQ(ids(under_yolo).size(), 3U);
    RunQuery root;
    root.path = "";
    EXPECT_THAT(ids(root), ElementsAre("20250115_120000_2eeb83"));
    RunQuery cv_prefix_only;
    cv_prefix_only.path = "cv/res";  // a prefix of a segment is not a parent path
    EXPECT_TRUE(ids(cv_prefix_only).empty());

    RunQuery failed;
    failed.statuses = {"failed", "interrupted"};
    EXPECT_EQ(ids(failed).size(), 3U);
    RunQuery tagged;
    tagged.tags = {"sweep", "baseline"};
    EXPECT_THAT(ids(tagged), ElementsAre("20250115_101500_df538c"));
    RunQuery text;
    text.text = "MANY-KEYS";
    EXPECT_THAT(ids(text), ElementsAre("20250115_110000_3256c3"));
    RunQuery deleted;
    deleted.deleted = DeletedFilter::kOnly;
    EXPECT_THAT(ids(deleted), ElementsAre("20250115_123000_6e554c"));
    RunQuery range;
    range.created_from = 1736940000;
    range.created_to = 1736942400;
    EXPECT_THAT(ids(range), ElementsAre("20250115_113000_05a59a", "20250115_114500_1a030f"));
}

TEST_F(CatalogTest, SortsByCreatedNewestFirst) {
    RunQuery q;
    q.sort = RunSort::kCreated;
    q.limit = 3;
    EXPECT_THAT(ids(q), ElementsAre("20250115_124500_e7cb53", "20250115_121500_5faeb7",
                                    "20250115_120000_2eeb83"));
}

TEST_F(CatalogTest, KeysetPagesCoverEveryRunOnceIncludingNulls) {
    std::vector<CatalogEntry> many;
    for (int i = 0; i < 250; ++i) {
        auto e = entry("run" + std::to_string(1000 + i), "p/" + std::to_string(i % 7), "finished",
                       1000.0 + (i % 50));  // ties on created_at
        if (i % 10 == 0) {
            e.info.created_at.reset();  // nulls sort last
        }
        many.push_back(std::move(e));
    }
    ASSERT_TRUE(catalog_->replace_all(many).is_ok());
    for (RunSort sort : {RunSort::kCreated, RunSort::kDiscovery, RunSort::kPath}) {
        RunQuery q;
        q.sort = sort;
        q.limit = 40;
        std::set<std::string> seen;
        std::vector<std::optional<double>> created;
        int pages = 0;
        do {
            auto page = catalog_->query(q);
            ASSERT_TRUE(page.has_value()) << page.error();
            EXPECT_EQ(page->total, 250U);
            for (const auto& r : page->runs) {
                EXPECT_TRUE(seen.insert(r.location.run_id).second) << r.location.run_id;
                created.push_back(r.created_at);
            }
            q.cursor = page->next_cursor;
            ++pages;
        } while (!q.cursor.empty());
        EXPECT_EQ(seen.size(), 250U);
        EXPECT_EQ(pages, 7);
        if (sort == RunSort::kCreated) {
            EXPECT_TRUE(created[224].has_value());   // 225 non-null runs come first
            EXPECT_FALSE(created[225].has_value());  // then the 25 nulls
            EXPECT_FALSE(created.back().has_value());
            EXPECT_TRUE(created.front().has_value());
        }
    }
}

TEST_F(CatalogTest, CursorOfAnotherQueryIsRefused) {
    RunQuery q;
    q.sort = RunSort::kCreated;
    q.limit = 2;
    auto page = catalog_->query(q);
    ASSERT_TRUE(page.has_value());
    RunQuery other = q;
    other.statuses = {"failed"};
    other.cursor = page->next_cursor;
    auto bad = catalog_->query(other);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error(), Status::invalid_argument("the cursor does not belong to this query "
                                                    "(same sort, order and filters needed)"));
    other.cursor = "not-hex";
    EXPECT_EQ(catalog_->query(other).error().code(), StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, UpsertAndRemoveKeepPathCountsInStep) {
    auto e = entry("new", "cv/resnet", "running", 1);
    ASSERT_TRUE(catalog_->upsert(e).is_ok());
    auto stats = catalog_->path_stats();
    EXPECT_EQ((*stats)[0].path, "cv");
    EXPECT_EQ((*stats)[0].running, 1U);
    EXPECT_EQ((*stats)[0].total, 7U);
    e.info.status = "finished";
    ASSERT_TRUE(catalog_->upsert(e).is_ok());
    stats = catalog_->path_stats();
    EXPECT_EQ((*stats)[0].running, 0U);
    EXPECT_EQ((*stats)[0].finished, 4U);
    EXPECT_EQ(*catalog_->size(), 13U);
    ASSERT_TRUE(catalog_->remove("runs/cv/yolo/v8/20250115_121500_5faeb7").is_ok());
    stats = catalog_->path_stats();
    for (const auto& s : *stats) {
        EXPECT_NE(s.path, "cv/yolo/v8") << "a path without runs disappears";
    }
    EXPECT_TRUE(catalog_->remove("runs/none").is_ok());
}

TEST_F(CatalogTest, FindByIdSkipsDeletedUnlessAsked) {
    auto found = catalog_->find("20250115_101500_df538c", false);
    ASSERT_TRUE(found.has_value() && found->has_value());
    EXPECT_EQ((*found)->location.dir,
              std::filesystem::path("/store/runs/cv/resnet/20250115_101500_df538c"));
    EXPECT_THAT((*found)->tags, ElementsAre("sweep", "lr=0.1", "baseline"));
    EXPECT_FALSE(catalog_->find("20250115_123000_6e554c", false)->has_value());
    EXPECT_TRUE(catalog_->find("20250115_123000_6e554c", true)->has_value());
}

TEST_F(CatalogTest, ApplyChangesSeveralRunsInOneTransaction) {
    auto a = entry("a1", "cv/new", "running", 5);
    a.signature = "sig-a";
    auto b = entry("b1", std::nullopt, "finished", 6);
    RUNICORN_ASSERT_OK(
        catalog_->apply({a, b}, {"runs/cv/yolo/v8/20250115_121500_5faeb7", "runs/not/there"}));
    EXPECT_EQ(*catalog_->size(), 13U);
    auto stored = catalog_->stored_runs("runs/cv");
    ASSERT_TRUE(stored.has_value());
    std::vector<std::string> rels;
    for (const auto& s : *stored) {
        rels.push_back(s.rel_dir + " " + s.signature + " " + s.status);
    }
    EXPECT_THAT(rels, ElementsAre("runs/cv/new/a1 sig-a running",
                                  "runs/cv/resnet/20250115_100000_6cefa5  finished",
                                  "runs/cv/resnet/20250115_101500_df538c  finished",
                                  "runs/cv/yolo/20250115_103000_b82213  failed",
                                  "runs/cv/yolo/20250115_104500_6e73fa  interrupted",
                                  "runs/cv/yolo/20250115_124500_e7cb53  failed"));
    EXPECT_EQ(catalog_->stored_runs()->size(), 13U);
    EXPECT_TRUE(catalog_->stored_runs("runs/c")->empty());  // a name prefix is not a folder
    auto stats = catalog_->path_stats();
    EXPECT_EQ((*stats)[0].path, "cv");
    EXPECT_EQ((*stats)[0].total, 6U);  // +1 new, -1 removed
    EXPECT_EQ((*stats)[0].running, 1U);
    // Applying the same change again is harmless (another indexer may do so).
    RUNICORN_ASSERT_OK(catalog_->apply({a, b}, {"runs/cv/yolo/v8/20250115_121500_5faeb7"}));
    EXPECT_EQ(*catalog_->size(), 13U);
    EXPECT_EQ((*catalog_->path_stats())[0].total, 6U);
}

TEST_F(CatalogTest, FindAllListsEveryRunWithTheIdInDiscoveryOrder) {
    auto twin = entry("20250115_101500_df538c", "aaa", "finished", 1, true);
    RUNICORN_ASSERT_OK(catalog_->upsert(twin));
    auto all = catalog_->find_all("20250115_101500_df538c");
    ASSERT_TRUE(all.has_value());
    ASSERT_EQ(all->size(), 2U);
    EXPECT_EQ((*all)[0].location.path, "aaa");
    EXPECT_TRUE((*all)[0].location.deleted);
    EXPECT_EQ((*all)[1].location.path, "cv/resnet");
    EXPECT_TRUE(catalog_->find_all("none")->empty());
}

TEST_F(CatalogTest, APathFilterMatchesWholeSegmentsOnly) {
    RUNICORN_ASSERT_OK(catalog_->upsert(entry("dash", "cv-x", "finished", 1)));
    RUNICORN_ASSERT_OK(catalog_->upsert(entry("dot", "cv.x", "finished", 1)));
    RunQuery cv;
    cv.path = "cv";
    EXPECT_EQ(ids(cv).size(), 6U);
    cv.path = "cv-x";
    EXPECT_THAT(ids(cv), ElementsAre("dash"));
}

TEST_F(CatalogTest, AscendingPagesPutNullsLastToo) {
    RunQuery q;
    q.sort = RunSort::kPath;  // the root-path run has no path
    q.limit = 4;
    std::vector<std::string> all;
    do {
        auto page = catalog_->query(q);
        ASSERT_TRUE(page.has_value()) << page.error();
        for (const auto& r : page->runs) {
            all.push_back(r.location.path.value_or("(root)"));
        }
        q.cursor = page->next_cursor;
    } while (!q.cursor.empty());
    EXPECT_THAT(all,
                ElementsAre("cv/resnet", "cv/resnet", "cv/yolo", "cv/yolo", "cv/yolo", "cv/yolo/v8",
                            "default", "default", "nlp/bert", "nlp/bert", "(root)"));
    RunQuery best;
    best.sort = RunSort::kBestMetric;
    best.descending = false;
    EXPECT_EQ(ids(best).size(), 11U);
}

TEST_F(CatalogTest, TotalsFromTheKeptCountersEqualACount) {
    const auto check = [this](const std::string& when) {
        std::vector<RunQuery> queries(8);
        queries[1].path = "cv";
        queries[2].path = "cv";
        queries[2].statuses = {"finished", "failed"};
        queries[3].deleted = DeletedFilter::kOnly;
        queries[4].statuses = {"failed", "interrupted"};  // not a kept counter: COUNT(*)
        queries[5].path = "cv";
        queries[5].exact_path = true;
        queries[6].path = "";
        queries[7].statuses = {"running"};
        for (std::size_t i = 0; i < queries.size(); ++i) {
            auto page = catalog_->query(queries[i]);
            ASSERT_TRUE(page.has_value());
            EXPECT_EQ(page->total, page->runs.size()) << when << ", query " << i;
        }
    };
    check("fixture");
    RUNICORN_ASSERT_OK(catalog_->apply(
        {entry("n1", "cv/new", "running", 1), entry("n2", std::nullopt, "failed", 2, true)},
        {"runs/cv/yolo/20250115_103000_b82213"}));
    check("after apply");
    RUNICORN_ASSERT_OK(catalog_->upsert(entry("n1", "cv/new", "finished", 1)));
    check("after a status change");
}

TEST_F(CatalogTest, ACommonTagIsFilteredInSortOrder) {
    std::vector<CatalogEntry> many;
    many.reserve(1500);
    for (int i = 0; i < 1500; ++i) {
        many.push_back(entry(
            "r" + std::to_string(i), "p", "finished", i, false,
            i % 3 == 0 ? std::vector<std::string>{"common", "x"} : std::vector<std::string>{"x"}));
    }
    RUNICORN_ASSERT_OK(catalog_->replace_all(many));
    RunQuery q;
    q.tags = {"x", "common"};  // "x" is on more than 1000 runs
    q.sort = RunSort::kCreated;
    q.limit = 2;
    auto page = catalog_->query(q);
    ASSERT_TRUE(page.has_value()) << page.error();
    EXPECT_EQ(page->total, 500U);
    EXPECT_EQ(ids(q), std::vector<std::string>({"r1497", "r1494"}));
}

TEST_F(CatalogTest, MetaValuesAndIntegrity) {
    EXPECT_EQ(*catalog_->integrity_check(), "ok");
    EXPECT_TRUE(catalog_->meta_value("built_at")->has_value());
    EXPECT_FALSE(catalog_->meta_value("nothing")->has_value());
    RUNICORN_ASSERT_OK(catalog_->set_meta_value("last_full_scan", "1"));
    RUNICORN_ASSERT_OK(catalog_->set_meta_value("last_full_scan", "2"));
    EXPECT_EQ(*catalog_->meta_value("last_full_scan"), std::optional<std::string>("2"));
}

TEST(CatalogFileTest, AnotherSchemaVersionIsRebuilt) {
    const std::string file = "/tmp/rn-catalog-" + std::to_string(::getpid()) + ".sqlite";
    {
        auto db = Database::open(file);
        ASSERT_TRUE(db.has_value());
        ASSERT_TRUE((*db)->exec("CREATE TABLE runs(x); PRAGMA user_version = 99;").is_ok());
    }
    auto c = Catalog::open(file, "/store");
    ASSERT_TRUE(c.has_value()) << c.error();
    EXPECT_TRUE((*c)->replace_all(fixture_runs()).is_ok());
    EXPECT_EQ(*(*c)->size(), 12U);
    c->reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
        ::unlink((file + suffix).c_str());
    }
}

TEST(CatalogFileTest, UnwritableLocationIsPermissionDenied) {
    auto c = Catalog::open("/proc/runicorn/catalog.sqlite", "/store");
    ASSERT_FALSE(c.has_value());
    EXPECT_EQ(c.error().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace runicorn::storage::catalog
