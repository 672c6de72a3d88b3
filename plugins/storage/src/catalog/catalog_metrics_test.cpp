// run_metric_keys, last_step, metric sorts and filters, the `crashed` status and asset_uses, as
// the FolderRunStore keeps them from real run folders (FORMAT.md §7.4, API.md §4.1, §4.12).
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog.hpp"
#include "folder_run_store.hpp"
#include "runicorn/testing/temp_dir.hpp"
#include "storage_test_util.hpp"

namespace runicorn::storage::catalog {
namespace {
namespace fs = std::filesystem;
using plugin::RunQuery;
using plugin::RunSort;
using ::runicorn::testing::TempDir;
using storage::testing::write_text;
using ::testing::ElementsAre;

std::string metrics_line(std::int64_t step, const std::string& fields) {
    return "{\"ts\": 1.0, \"type\": \"metrics\", \"data\": {" + fields +
           ", \"global_step\": " + std::to_string(step) + ", \"time\": 1.0}}\n";
}

void append_text(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary | std::ios::app) << text;
}

std::string describe(const MetricKeyStats& m) {
    const auto num = [](const std::optional<double>& d) -> std::string {
        if (!d) {
            return "-";
        }
        if (std::isinf(*d)) {
            return *d > 0 ? "inf" : "-inf";
        }
        std::ostringstream s;
        s << *d;
        return s.str();
    };
    const auto step = [](const std::optional<std::int64_t>& s) {
        return s ? std::to_string(*s) : std::string("-");
    };
    return m.key + " n=" + std::to_string(m.count) + " num=" + std::to_string(m.numeric_count) +
           " nf=" + std::to_string(m.nonfinite_count) + " steps=" + step(m.first_step) + ".." +
           step(m.last_step) + " last=" + num(m.last) + " min=" + num(m.min) + " max=" + num(m.max);
}

class CatalogMetricsTest : public ::testing::Test {
protected:
    void SetUp() override {
        FolderRunStore::Options o;
        o.check_liveness = false;
        store_ = std::make_unique<FolderRunStore>(root_, nullptr, o);
    }

    fs::path make_run(const std::string& rel, const std::string& status, double created,
                      const std::string& exit_reason = "") {
        const fs::path dir = root_ / "runs" / rel;
        const std::string id = dir.filename().string();
        write_text(dir / "meta.json",
                   "{\"id\": \"" + id + "\", \"created_at\": " + std::to_string(created) + "}");
        write_text(dir / "status.json",
                   "{\"status\": \"" + status + "\"" +
                       (exit_reason.empty() ? "" : ", \"exit_reason\": \"" + exit_reason + "\"") +
                       "}");
        return dir;
    }

    /// Every run's metric rows, by run id, as a second connection to the catalog file reads them.
    std::map<std::string, std::vector<std::string>> all_rows() {
        auto file = store_->catalog_file();
        EXPECT_TRUE(file.has_value());
        auto cat = Catalog::open(file->string(), root_);
        EXPECT_TRUE(cat.has_value()) << cat.error();
        std::map<std::string, std::vector<std::string>> out;
        auto dirs = (*cat)->rel_dirs();
        EXPECT_TRUE(dirs.has_value());
        for (const auto& rel : *dirs) {
            auto rows = (*cat)->metric_keys(rel);
            EXPECT_TRUE(rows.has_value());
            for (const auto& m : *rows) {
                out[fs::path(rel).filename().string()].push_back(describe(m));
            }
        }
        return out;
    }

    std::vector<std::string> ids(RunQuery q, std::string* cursor = nullptr) {
        q.cursor = cursor != nullptr ? *cursor : "";
        auto page = store_->list_runs(q);
        EXPECT_TRUE(page.has_value()) << page.error();
        std::vector<std::string> out;
        if (!page) {
            return out;
        }
        for (const auto& r : page->runs) {
            out.push_back(r.location.run_id);
        }
        if (cursor != nullptr) {
            *cursor = page->next_cursor;
        }
        return out;
    }

    std::optional<std::int64_t> last_step_of(const std::string& id) {
        auto page = store_->list_runs({});
        EXPECT_TRUE(page.has_value());
        for (const auto& r : page->runs) {
            if (r.location.run_id == id) {
                return r.last_step;
            }
        }
        ADD_FAILURE() << "no run " << id;
        return std::nullopt;
    }

    TempDir tmp_;
    fs::path root_ = tmp_.path() / "store";
    std::unique_ptr<FolderRunStore> store_;
};

TEST_F(CatalogMetricsTest, RowsFollowAppendsIncludingNonFiniteValues) {
    const fs::path dir = make_run("p/20260101_000000_aaaaaa", "finished", 100);
    write_text(dir / "events.jsonl", metrics_line(1, "\"loss\": 1.5, \"acc\": 0.1") +
                                         metrics_line(2, "\"loss\": 0.75, \"note\": \"x\""));
    ASSERT_TRUE(store_->refresh().has_value());
    EXPECT_EQ(last_step_of("20260101_000000_aaaaaa"), 2);
    EXPECT_THAT(all_rows()["20260101_000000_aaaaaa"],
                ElementsAre("acc n=1 num=1 nf=0 steps=1..1 last=0.1 min=0.1 max=0.1",
                            "loss n=2 num=2 nf=0 steps=1..2 last=0.75 min=0.75 max=1.5",
                            "note n=1 num=0 nf=0 steps=2..2 last=- min=- max=-",
                            "time n=2 num=2 nf=0 steps=1..2 last=1 min=1 max=1"));

    // Appends (a torn last line waits for its newline): only the new lines change the rows.
    append_text(dir / "events.jsonl", metrics_line(3, "\"loss\": NaN, \"acc\": Infinity") +
                                          metrics_line(7, "\"loss\": 0.25, \"acc\": -Infinity") +
                                          "{\"ts\": 1.0, \"type\": \"metr");
    ASSERT_TRUE(store_->refresh_dirs({dir}).has_value());
    EXPECT_EQ(last_step_of("20260101_000000_aaaaaa"), 7);
    auto rows = all_rows()["20260101_000000_aaaaaa"];
    EXPECT_THAT(rows, ElementsAre("acc n=3 num=3 nf=2 steps=1..7 last=-inf min=0.1 max=0.1",
                                  "loss n=4 num=4 nf=1 steps=1..7 last=0.25 min=0.25 max=1.5",
                                  "note n=1 num=0 nf=0 steps=2..2 last=- min=- max=-",
                                  "time n=4 num=4 nf=0 steps=1..7 last=1 min=1 max=1"));

    // A NaN last value is stored as "no value": comparisons with it are false.
    append_text(dir / "events.jsonl", "ics\", \"data\": {\"loss\": NaN, \"global_step\": 8}}\n");
    ASSERT_TRUE(store_->refresh_dirs({dir}).has_value());
    EXPECT_EQ(last_step_of("20260101_000000_aaaaaa"), 8);
    EXPECT_THAT(all_rows()["20260101_000000_aaaaaa"][1],
                "loss n=5 num=5 nf=2 steps=1..8 last=- min=0.25 max=1.5");
    RunQuery q;
    q.filter = "metric.loss.last < 1 OR metric.loss.last >= 1";
    EXPECT_THAT(ids(q), ElementsAre());
    q.filter = "metric.loss.count = 5 AND metric.loss.min = 0.25 AND metric.loss EXISTS";
    // "metric.loss EXISTS" is not a metric statistic: FILTER_FIELD.
    EXPECT_FALSE(store_->list_runs(q).has_value());
    q.filter = "metric.loss.count = 5 AND metric.loss.min = 0.25 AND metric.loss.max EXISTS";
    EXPECT_THAT(ids(q), ElementsAre("20260101_000000_aaaaaa"));
    q.filter = "NOT metric.nothing.last > 0";
    EXPECT_THAT(ids(q), ElementsAre("20260101_000000_aaaaaa"));
}

TEST_F(CatalogMetricsTest, RebuildEqualsIncremental) {
    for (int i = 0; i < 5; ++i) {
        const fs::path dir =
            make_run("p/2026010" + std::to_string(i) + "_000000_aaaaaa", "finished", 100 + i);
        std::string lines;
        for (int s = 0; s <= i * 3; ++s) {
            lines += metrics_line(s, "\"loss\": " + std::to_string(1.0 / (s + 1)) +
                                         (s % 2 == 0 ? ", \"acc\": NaN" : ""));
        }
        write_text(dir / "events.jsonl", lines);
    }
    make_run("p/20260109_000000_bbbbbb", "finished", 200);  // no events.jsonl
    ASSERT_TRUE(store_->refresh().has_value());
    for (int i = 0; i < 5; i += 2) {
        const fs::path dir = root_ / "runs" / ("p/2026010" + std::to_string(i) + "_000000_aaaaaa");
        append_text(dir / "events.jsonl", metrics_line(100 + i, "\"loss\": -1, \"extra\": 3"));
        ASSERT_TRUE(store_->refresh_dirs({dir}).has_value());
    }
    const auto incremental = all_rows();
    ASSERT_EQ(incremental.size(), 5U);
    RunQuery by_step;
    by_step.sort = RunSort::kLastStep;
    const auto order = ids(by_step);
    ASSERT_TRUE(store_->reindex(nullptr).has_value());
    EXPECT_EQ(all_rows(), incremental);
    EXPECT_EQ(ids(by_step), order);
    EXPECT_THAT(order, ElementsAre("20260104_000000_aaaaaa", "20260102_000000_aaaaaa",
                                   "20260100_000000_aaaaaa", "20260103_000000_aaaaaa",
                                   "20260101_000000_aaaaaa", "20260109_000000_bbbbbb"));
}

TEST_F(CatalogMetricsTest, SortsByMetricStatisticsWithCursorPagingAndNullsLast) {
    const double losses[] = {0.5, 0.1, 0.9, 0.3, 0.7};
    for (int i = 0; i < 5; ++i) {
        const fs::path dir =
            make_run("p/2026010" + std::to_string(i) + "_000000_aaaaaa", "finished", 100 + i);
        write_text(dir / "events.jsonl",
                   metrics_line(1, "\"loss\": " + std::to_string(losses[i] + 1)) +
                       metrics_line(2, "\"loss\": " + std::to_string(losses[i])));
    }
    make_run("p/20260109_000000_bbbbbb", "finished", 200);
    RunQuery q;
    q.sort = RunSort::kMetric;
    q.sort_field = "loss";
    q.sort_metric = plugin::MetricStat::kMin;
    q.descending = false;
    q.limit = 2;
    std::string cursor;
    std::vector<std::string> all;
    for (int page = 0; page < 4; ++page) {
        const auto got = ids(q, &cursor);
        all.insert(all.end(), got.begin(), got.end());
        if (cursor.empty()) {
            break;
        }
    }
    EXPECT_THAT(all, ElementsAre("20260101_000000_aaaaaa", "20260103_000000_aaaaaa",
                                 "20260100_000000_aaaaaa", "20260104_000000_aaaaaa",
                                 "20260102_000000_aaaaaa", "20260109_000000_bbbbbb"));
    q.sort_metric = plugin::MetricStat::kMax;  // another query: the cursor is refused
    q.cursor = "";
    auto first = store_->list_runs(q);
    ASSERT_TRUE(first.has_value());
    q.sort_metric = plugin::MetricStat::kMin;
    q.cursor = first->next_cursor;
    EXPECT_FALSE(store_->list_runs(q).has_value());
    // Default order for a metric is descending; max of run 2 is 1.9.
    RunQuery d;
    d.sort = RunSort::kMetric;
    d.sort_field = "loss";
    d.sort_metric = plugin::MetricStat::kMax;
    d.limit = 1;
    EXPECT_THAT(ids(d), ElementsAre("20260102_000000_aaaaaa"));
    RunQuery f;
    f.filter = "metric.loss.last < 0.5";
    EXPECT_THAT(ids(f), ElementsAre("20260101_000000_aaaaaa", "20260103_000000_aaaaaa"));
}

TEST_F(CatalogMetricsTest, CrashedIsFailedWithACrashExitReason) {
    make_run("a/20260101_000000_aaaaaa", "failed", 1, "process_not_found");
    make_run("a/20260102_000000_aaaaaa", "failed", 2, "heartbeat_lost");
    make_run("a/20260103_000000_aaaaaa", "failed", 3, "host_rebooted");
    make_run("a/20260104_000000_aaaaaa", "failed", 4, "exception");
    make_run("a/20260105_000000_aaaaaa", "failed", 5);
    make_run("a/20260106_000000_aaaaaa", "interrupted", 6, "heartbeat_lost");
    make_run("a/20260107_000000_aaaaaa", "finished", 7);
    RunQuery q;
    q.statuses = {"crashed"};
    EXPECT_THAT(ids(q), ElementsAre("20260101_000000_aaaaaa", "20260102_000000_aaaaaa",
                                    "20260103_000000_aaaaaa"));
    auto page = store_->list_runs(q);
    ASSERT_TRUE(page.has_value());
    EXPECT_EQ(page->total, 3U);
    q.statuses = {"finished", "crashed"};
    EXPECT_THAT(ids(q), ElementsAre("20260101_000000_aaaaaa", "20260102_000000_aaaaaa",
                                    "20260103_000000_aaaaaa", "20260107_000000_aaaaaa"));
    q.statuses = {"failed"};
    EXPECT_EQ(ids(q).size(), 5U);
}

TEST_F(CatalogMetricsTest, AssetUsesAreGroupedAndCountedOverLiveRuns) {
    const std::string ds =
        "{\"name\": \"ds\", \"uri\": \"/data/ds\", \"saved\": true, \"fingerprint\": \"abc\", "
        "\"fingerprint_kind\": \"sha256_manifest\", \"archive_path\": "
        "\"/elsewhere/store/archive/manifests/datasets/ab/abc.json\", \"file_count\": 2, "
        "\"total_size_bytes\": 12}";
    const fs::path a = make_run("cv/20260101_000000_aaaaaa", "finished", 10);
    write_text(a / "assets.json",
               "{\"code\": {\"snapshot\": {\"saved\": true, \"workspace_root\": \"/ws\", "
               "\"format\": \"manifest\", \"fingerprint\": \"c0de\", \"fingerprint_kind\": "
               "\"sha256_manifest\"}}, \"datasets\": [" +
                   ds + ", {\"name\": \"remote\", \"uri\": \"s3://b/x\", \"saved\": false}]}");
    const fs::path b = make_run("nlp/20260102_000000_bbbbbb", "finished", 20);
    write_text(b / "assets.json",
               "{\"datasets\": [" + ds +
                   "], \"outputs\": [{\"name\": \"m.pt\", \"path\": \"./m.pt\", \"saved\": true, "
                   "\"archive_path\": \"/x/archive/outputs/rolling/r/1_m.pt\"}]}");
    const fs::path gone = make_run("nlp/20260103_000000_cccccc", "finished", 30);
    write_text(gone / "assets.json", "{\"datasets\": [" + ds + "]}");
    write_text(gone / ".deleted", "{\"deleted_at\": 1}");

    auto page = store_->list_assets({});
    ASSERT_TRUE(page.has_value()) << page.error();
    ASSERT_EQ(page->total, 4U);
    std::vector<std::string> got;
    for (const auto& g : page->assets) {
        got.push_back(g.asset_type + " " + g.name.value_or("-") +
                      " runs=" + std::to_string(g.run_count) + " last=" + g.last_run_id);
    }
    EXPECT_THAT(got, ElementsAre("dataset ds runs=2 last=20260102_000000_bbbbbb",
                                 "output m.pt runs=1 last=20260102_000000_bbbbbb",
                                 "code_snapshot code_snapshot runs=1 last=20260101_000000_aaaaaa",
                                 "dataset remote runs=1 last=20260101_000000_aaaaaa"));
    EXPECT_EQ(page->assets[0].archive_path,
              (root_ / "archive/manifests/datasets/ab/abc.json").generic_string());
    EXPECT_EQ(page->assets[0].size_bytes, 12);
    EXPECT_EQ(page->assets[3].source, "s3://b/x");

    plugin::AssetQuery q;
    q.path = "cv";
    q.types = {"dataset"};
    page = store_->list_assets(q);
    ASSERT_TRUE(page.has_value());
    ASSERT_EQ(page->assets.size(), 2U);
    EXPECT_EQ(page->assets[0].run_count, 1U);
    EXPECT_EQ(page->assets[0].last_run_id, "20260101_000000_aaaaaa");

    plugin::AssetQuery paged;
    paged.limit = 3;
    page = store_->list_assets(paged);
    ASSERT_TRUE(page.has_value());
    EXPECT_EQ(page->assets.size(), 3U);
    ASSERT_FALSE(page->next_cursor.empty());
    paged.cursor = page->next_cursor;
    page = store_->list_assets(paged);
    ASSERT_TRUE(page.has_value());
    ASSERT_EQ(page->assets.size(), 1U);
    EXPECT_EQ(page->assets[0].name, "remote");
    EXPECT_TRUE(page->next_cursor.empty());
    q = {};
    q.archived = false;
    q.cursor = paged.cursor;
    EXPECT_FALSE(store_->list_assets(q).has_value());  // another query's cursor
    q.cursor.clear();
    page = store_->list_assets(q);
    ASSERT_TRUE(page.has_value());
    ASSERT_EQ(page->assets.size(), 1U);
    q = {};
    q.text = "S3://";
    page = store_->list_assets(q);
    ASSERT_TRUE(page.has_value());
    ASSERT_EQ(page->assets.size(), 1U);

    // Restoring the deleted run counts it again, and it is now the latest use.
    fs::remove(gone / ".deleted");
    ASSERT_TRUE(store_->refresh().has_value());
    page = store_->list_assets({});
    ASSERT_TRUE(page.has_value());
    EXPECT_EQ(page->assets[0].run_count, 3U);
    EXPECT_EQ(page->assets[0].last_run_id, "20260103_000000_cccccc");
}

}  // namespace
}  // namespace runicorn::storage::catalog
