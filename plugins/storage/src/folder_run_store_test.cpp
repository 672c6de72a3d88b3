#include "folder_run_store.hpp"

#include <map>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "catalog.hpp"
#include "json_io.hpp"
#include "storage_test_util.hpp"
#include "sys_info.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace runicorn::storage {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using plugin::DeletedFilter;
using plugin::RunInfo;
using plugin::RunQuery;
using plugin::RunSort;
using plugin::RunUpdate;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::slurp;
using ::testing::StartsWith;
using testing::StatusIs;
using testing::TempDir;
using testing::write_text;

constexpr std::string_view kRootRun = "20250115_120000_2eeb83";
constexpr std::string_view kKitchen = "20250115_100000_6cefa5";
constexpr std::string_view kExplicit = "20250115_101500_df538c";
constexpr std::string_view kFailed = "20250115_103000_b82213";
constexpr std::string_view kDeleted = "20250115_123000_6e554c";
constexpr std::string_view kRunning = "20250115_124500_e7cb53";

const std::vector<std::string> visible_in_discovery_order = {
    "20250115_120000_2eeb83", "20250115_100000_6cefa5", "20250115_101500_df538c",
    "20250115_103000_b82213", "20250115_104500_6e73fa", "20250115_124500_e7cb53",
    "20250115_121500_5faeb7", "20250115_113000_05a59a", "20250115_114500_1a030f",
    "20250115_110000_3256c3", "20250115_111500_06bd22"};

std::vector<std::string> ids(const plugin::RunPage& page) {
    std::vector<std::string> out;
    for (const auto& r : page.runs) {
        out.push_back(r.location.run_id);
    }
    return out;
}

/// Everything a listing shows of a run, as one line (for comparing two catalogs).
std::string describe(const RunInfo& r) {
    const auto opt = [](const auto& v) {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::optional<std::string>>) {
            return v ? *v : std::string("null");
        } else {
            return v ? std::to_string(*v) : std::string("null");
        }
    };
    std::string tags;
    for (const auto& t : r.tags) {
        tags += t + ",";
    }
    return r.location.run_id + " " + opt(r.location.path) + " " + r.location.dir.string() + " " +
           (r.location.deleted ? "D" : "-") + " " + opt(r.alias) + " [" + tags + "] " + r.status +
           " " + opt(r.exit_reason) + " " + opt(r.created_at) + " " + opt(r.best_metric_name) +
           "=" + opt(r.best_metric_value) + " " + std::to_string(r.assets_count) + " " +
           opt(r.deleted_reason) + " " + opt(r.original_status) + " " + json::serialize(r.meta) +
           " " + json::serialize(r.summary);
}

/// A writable copy of the v0.6 fixture store with its own catalog file under index/.
class FolderRunStoreTest : public ::testing::Test {
protected:
    void SetUp() override { testing::copy_fixture_store(root_); }

    std::unique_ptr<FolderRunStore> make_store(std::string catalog_file = {}) {
        FolderRunStore::Options options;
        options.catalog_file = std::move(catalog_file);
        return std::make_unique<FolderRunStore>(root_, rec_.logger, options);
    }

    std::vector<std::string> list_ids(const FolderRunStore& store, const RunQuery& q = {}) {
        auto page = store.list_runs(q);
        EXPECT_TRUE(page.has_value()) << page.error();
        return page ? ids(*page) : std::vector<std::string>{};
    }

    /// Every query the invariant covers, each run described in full.
    std::vector<std::string> answers(const FolderRunStore& store) {
        std::vector<std::string> out;
        std::vector<RunQuery> queries(6);
        queries[1].deleted = DeletedFilter::kAny;
        queries[2].sort = RunSort::kCreated;
        queries[3].path = "cv";
        queries[3].statuses = {"finished", "failed"};
        queries[4].deleted = DeletedFilter::kOnly;
        queries[5].sort = RunSort::kBestMetric;
        queries[5].limit = 3;
        for (const auto& q : queries) {
            auto page = store.list_runs(q);
            EXPECT_TRUE(page.has_value()) << page.error();
            out.push_back("total " + std::to_string(page->total));
            for (const auto& r : page->runs) {
                out.push_back(describe(r));
            }
        }
        auto stats = store.path_stats();
        EXPECT_TRUE(stats.has_value());
        for (const auto& s : *stats) {
            out.push_back(s.path + " " + std::to_string(s.total) + "/" + std::to_string(s.running) +
                          "/" + std::to_string(s.finished) + "/" + std::to_string(s.failed));
        }
        return out;
    }

    fs::path run_dir(std::string_view rel) { return root_ / "runs" / rel; }

    /// A minimal new-layout run folder, as another writer would leave it.
    void make_run(const std::string& rel, const std::string& status, double created) {
        const fs::path dir = root_ / "runs" / rel;
        const std::string id = dir.filename().string();
        write_text(dir / "meta.json", "{\"id\": \"" + id + "\", \"created_at\": " +
                                          std::to_string(created) + ", \"tags\": [\"new\"]}");
        write_text(dir / "status.json", "{\"status\": \"" + status + "\"}");
    }

    const bool same_host_ = local_hostname() == "vm";  // meta.hostname of the fixture
    TempDir tmp_;
    fs::path root_ = tmp_.path() / "store";
    testing::RecordingLogger rec_;
};

TEST_F(FolderRunStoreTest, ListRunsShowsTheVisibleRunsInDiscoveryOrder) {
    auto store = make_store();
    EXPECT_EQ(list_ids(*store), visible_in_discovery_order);
    EXPECT_TRUE(fs::exists(root_ / "index" / "catalog.sqlite"));
    EXPECT_EQ(*store->catalog_file(), root_ / "index" / "catalog.sqlite");
    auto page = store->list_runs({});
    const RunInfo& kitchen = page->runs[1];
    EXPECT_EQ(kitchen.location.path, "cv/resnet");
    EXPECT_EQ(kitchen.alias, "r50-baseline");
    EXPECT_EQ(kitchen.assets_count, 8);
    EXPECT_EQ(kitchen.best_metric_name, "val_acc");
    EXPECT_EQ(page->runs[5].status, same_host_ ? "failed" : "running");
}

TEST_F(FolderRunStoreTest, PathStatsAreTheCorrectAggregation) {
    auto store = make_store();
    auto stats = store->path_stats();
    ASSERT_TRUE(stats.has_value()) << stats.error();
    std::vector<std::string> rows;
    for (const auto& s : *stats) {
        rows.push_back(s.path + " " + std::to_string(s.total) + "/" + std::to_string(s.running) +
                       "/" + std::to_string(s.finished) + "/" + std::to_string(s.failed));
    }
    if (same_host_) {  // the fixture README's "correct aggregation"
        EXPECT_THAT(rows, ElementsAre("cv 6/0/3/2", "cv/resnet 2/0/2/0", "cv/yolo 4/0/1/2",
                                      "cv/yolo/v8 1/0/1/0", "default 2/0/2/0", "nlp 2/0/2/0",
                                      "nlp/bert 2/0/2/0"));
    } else {
        EXPECT_THAT(rows, ElementsAre("cv 6/1/3/1", "cv/resnet 2/0/2/0", "cv/yolo 4/1/1/1",
                                      "cv/yolo/v8 1/0/1/0", "default 2/0/2/0", "nlp 2/0/2/0",
                                      "nlp/bert 2/0/2/0"));
    }
}

TEST_F(FolderRunStoreTest, FindRunSkipsSoftDeletedRunsUnlessAsked) {
    auto store = make_store();
    auto run = store->find_run(kExplicit, false);
    ASSERT_TRUE(run.has_value()) << run.error();
    EXPECT_EQ(run->location.dir, run_dir("cv/resnet/20250115_101500_df538c"));
    EXPECT_THAT(run->tags, ElementsAre("sweep", "lr=0.1", "baseline"));
    EXPECT_EQ(store->find_run(kDeleted, false).error(),
              Status::not_found("run '20250115_123000_6e554c' not found"));
    auto deleted = store->find_run(kDeleted, true);
    ASSERT_TRUE(deleted.has_value());
    EXPECT_TRUE(deleted->location.deleted);
    EXPECT_EQ(deleted->deleted_reason, "user_deleted");
    EXPECT_EQ(store->find_run("nope", true).error(), Status::not_found("run 'nope' not found"));
}

TEST_F(FolderRunStoreTest, RefreshReadsOnlyRunsWhoseFilesChanged) {
    auto store = make_store();
    ASSERT_EQ(list_ids(*store).size(), 11U);
    EXPECT_EQ(*store->refresh(), 0U);

    // Same size, same inode, mtime put back: the stamps match, so the run is not read again.
    const fs::path meta = run_dir(std::string(kRootRun)) / "meta.json";
    struct stat before {};
    ASSERT_EQ(::stat(meta.c_str(), &before), 0);
    std::string text = slurp(meta);
    const auto at = text.find("root-run");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 8, "ROOT-RUN");
    {
        std::ofstream out(meta, std::ios::binary | std::ios::in | std::ios::out);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
    }
    const timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, meta.c_str(), times, 0), 0);
    EXPECT_EQ(*store->refresh(), 0U);
    EXPECT_EQ(store->list_runs({})->runs[0].alias, "root-run");

    // A real change, a new run and a vanished one.
    write_text(run_dir("cv/resnet/20250115_101500_df538c/summary.json"),
               "{\"best_metric_name\": \"loss\", \"best_metric_value\": 0.01}");
    make_run("zz/20260101_000000_abcdef", "running", 1767225600);
    fs::remove_all(run_dir("default/20250115_114500_1a030f"));
    EXPECT_EQ(*store->refresh(), 3U);
    auto page = store->list_runs({});
    ASSERT_EQ(page->runs.size(), 11U);
    EXPECT_EQ(page->runs[2].best_metric_value, 0.01);
    EXPECT_EQ(page->runs.back().location.run_id, "20260101_000000_abcdef");
    EXPECT_EQ(page->runs.back().status, "running");
    EXPECT_EQ(*store->refresh(), 0U);  // a running run is read again, but nothing changed
}

TEST_F(FolderRunStoreTest, RefreshDirsUpdatesOnlyTheGivenSubtree) {
    auto store = make_store();
    ASSERT_EQ(list_ids(*store).size(), 11U);
    make_run("cv/new/20260101_000000_aaaaaa", "finished", 1767225600);
    make_run("nlp/new/20260101_000000_bbbbbb", "finished", 1767225601);
    fs::remove_all(run_dir("cv/yolo/v8"));
    EXPECT_EQ(*store->refresh_dirs({run_dir("cv/new"), run_dir("cv/yolo/v8")}), 2U);
    auto now = list_ids(*store);
    EXPECT_EQ(std::count(now.begin(), now.end(), "20260101_000000_aaaaaa"), 1);
    EXPECT_EQ(std::count(now.begin(), now.end(), "20260101_000000_bbbbbb"), 0);  // not asked
    EXPECT_EQ(std::count(now.begin(), now.end(), "20250115_121500_5faeb7"), 0);
    // A change inside a run folder (media/) re-reads that run; runs/ itself means everything.
    EXPECT_EQ(*store->refresh_dirs({run_dir("cv/resnet/20250115_100000_6cefa5/media")}), 0U);
    EXPECT_EQ(*store->refresh_dirs({root_ / "runs"}), 1U);
}

TEST_F(FolderRunStoreTest, ReindexGivesTheSameAnswersAsTheIncrementalCatalog) {
    auto store = make_store();
    ASSERT_EQ(list_ids(*store).size(), 11U);
    // Change things one at a time, keeping the catalog current incrementally.
    make_run("cv/resnet/20260101_000000_cccccc", "finished", 1767225600);
    ASSERT_TRUE(store->refresh().has_value());
    RunUpdate update;
    update.alias = std::optional<std::string>("renamed");
    update.tags = std::vector<std::string>{"x", "y"};
    ASSERT_TRUE(store->update_run(kFailed, update).has_value());
    RUNICORN_ASSERT_OK(store->soft_delete(kKitchen, "user_deleted"));
    RUNICORN_ASSERT_OK(store->restore(kDeleted));
    fs::remove_all(run_dir("nlp/bert/20250115_111500_06bd22"));
    write_text(run_dir("default/20250115_113000_05a59a/status.json"), "{\"status\": \"failed\"}");
    ASSERT_TRUE(store->refresh_dirs({run_dir("nlp/bert"), run_dir("default")}).has_value());
    const auto incremental = answers(*store);

    auto rebuilt = store->reindex(nullptr);
    ASSERT_TRUE(rebuilt.has_value()) << rebuilt.error();
    EXPECT_EQ(*rebuilt, 12U);
    EXPECT_EQ(answers(*store), incremental);
    // Deleting the file is a reindex too (FORMAT.md §7.4).
    store.reset();
    for (const char* f : {"catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"}) {
        fs::remove(root_ / "index" / f);
    }
    EXPECT_EQ(answers(*make_store()), incremental);
}

TEST_F(FolderRunStoreTest, ReindexReportsProgress) {
    struct Recorder final : plugin::ReindexProgress {
        void on_progress(std::size_t done, std::size_t total) override {
            calls.emplace_back(done, total);
        }
        std::vector<std::pair<std::size_t, std::size_t>> calls;
    } progress;
    auto store = make_store();
    ASSERT_EQ(*store->reindex(&progress), 12U);
    ASSERT_EQ(progress.calls.size(), 13U);
    EXPECT_EQ(progress.calls.front(), std::make_pair(std::size_t{0}, std::size_t{12}));
    EXPECT_EQ(progress.calls.back(), std::make_pair(std::size_t{12}, std::size_t{12}));
}

TEST_F(FolderRunStoreTest, UpdateRunFollowsThePatchRulesAndKeepsOtherKeys) {
    auto store = make_store();
    const fs::path meta = run_dir("cv/yolo/20250115_103000_b82213/meta.json");
    auto before = parse_json(slurp(meta))->get_object();
    RunUpdate update;
    update.alias = std::optional<std::string>("  yolo-fail  ");
    update.tags = std::vector<std::string>{" a ", "", "  ", "b"};
    auto run = store->update_run(kFailed, update);
    ASSERT_TRUE(run.has_value()) << run.error();
    EXPECT_EQ(run->alias, "yolo-fail");
    EXPECT_THAT(run->tags, ElementsAre("a", "b"));
    auto after = parse_json(slurp(meta))->get_object();
    EXPECT_EQ(after.at("alias"), "yolo-fail");
    EXPECT_EQ(after.at("tags"), json::array({"a", "b"}));
    for (const auto& kv : before) {
        if (kv.key() != "alias" && kv.key() != "tags") {
            EXPECT_EQ(after.at(kv.key()), kv.value()) << kv.key();
        }
    }
    RunQuery tagged;
    tagged.tags = {"a"};
    EXPECT_THAT(list_ids(*store, tagged), ElementsAre(std::string(kFailed)));

    RunUpdate clear;
    clear.alias = std::optional<std::string>("   ");
    EXPECT_FALSE(store->update_run(kFailed, clear)->alias.has_value());
    EXPECT_TRUE(parse_json(slurp(meta))->get_object().at("alias").is_null());

    RunUpdate too_many;
    too_many.tags.emplace(101, "t");
    for (std::size_t i = 0; i < too_many.tags->size(); ++i) {
        (*too_many.tags)[i] += std::to_string(i);
    }
    EXPECT_EQ(store->update_run(kFailed, too_many).error(),
              Status::invalid_argument("too many tags: 101 (at most 100)"));
    RunUpdate too_long;
    too_long.tags = std::vector<std::string>{std::string(129, 'x')};
    EXPECT_EQ(store->update_run(kFailed, too_long).error(),
              Status::invalid_argument("tag 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is longer than "
                                       "128 characters"));
    EXPECT_EQ(store->update_run(kDeleted, update).error(),
              Status::not_found("run '20250115_123000_6e554c' not found"));
}

TEST_F(FolderRunStoreTest, SoftDeleteAndRestoreRoundTrip) {
    auto store = make_store();
    const fs::path dir = run_dir("cv/yolo/20250115_103000_b82213");
    RUNICORN_ASSERT_OK(store->soft_delete(kFailed, "user_deleted"));
    auto marker = parse_json(slurp(dir / ".deleted"))->get_object();
    EXPECT_THAT(marker.size(), 3U);
    EXPECT_TRUE(marker.at("deleted_at").is_double());
    EXPECT_EQ(marker.at("reason"), "user_deleted");
    EXPECT_EQ(marker.at("original_status"), "failed");
    EXPECT_EQ(list_ids(*store).size(), 10U);
    RunQuery bin;
    bin.deleted = DeletedFilter::kOnly;
    EXPECT_THAT(list_ids(*store, bin), ElementsAre(std::string(kFailed), std::string(kDeleted)));
    EXPECT_EQ(store->soft_delete(kFailed, "user_deleted"),
              Status::failed_precondition("run '20250115_103000_b82213' is already deleted"));

    RUNICORN_ASSERT_OK(store->restore(kFailed));
    EXPECT_FALSE(fs::exists(dir / ".deleted"));
    EXPECT_EQ(list_ids(*store), visible_in_discovery_order);
    EXPECT_EQ(store->restore(kFailed),
              Status::failed_precondition("run '20250115_103000_b82213' is not deleted"));
    EXPECT_EQ(store->restore("nope"), Status::not_found("run 'nope' not found"));
    EXPECT_EQ(store->soft_delete("nope", ""), Status::not_found("run 'nope' not found"));
}

TEST_F(FolderRunStoreTest, PurgeRemovesTheFolderAndRollingOutputsButNeverBlobs) {
    auto store = make_store();
    const auto count_files = [](const fs::path& dir) {
        std::size_t n = 0;
        for (const auto& e : fs::recursive_directory_iterator(dir)) {
            n += e.is_regular_file() ? 1 : 0;
        }
        return n;
    };
    const std::size_t blobs = count_files(root_ / "archive" / "blobs");
    ASSERT_GT(blobs, 0U);
    const fs::path rolling = root_ / "archive" / "outputs" / "rolling" / std::string(kKitchen);
    ASSERT_TRUE(fs::exists(rolling));

    EXPECT_EQ(store->purge(kKitchen),
              Status::failed_precondition("run '20250115_100000_6cefa5' is not deleted; only "
                                          "soft-deleted runs can be purged"));
    RUNICORN_ASSERT_OK(store->soft_delete(kKitchen, "user_deleted"));
    RUNICORN_ASSERT_OK(store->purge(kKitchen));
    EXPECT_FALSE(fs::exists(run_dir("cv/resnet/20250115_100000_6cefa5")));
    EXPECT_FALSE(fs::exists(rolling));
    EXPECT_EQ(count_files(root_ / "archive" / "blobs"), blobs);
    RunQuery any;
    any.deleted = DeletedFilter::kAny;
    EXPECT_EQ(list_ids(*store, any).size(), 11U);
    EXPECT_EQ(store->purge(kKitchen), Status::not_found("run '20250115_100000_6cefa5' not found"));
    RUNICORN_EXPECT_OK(store->purge(kDeleted));
    EXPECT_EQ(list_ids(*store, any).size(), 10U);
}

class FsckTest : public FolderRunStoreTest {
protected:
    /// The fixture copy with the media/ folders git could not keep, so it starts clean.
    void SetUp() override {
        FolderRunStoreTest::SetUp();
        store_ = make_store();
        auto first = store_->fsck(true);
        ASSERT_TRUE(first.has_value()) << first.error();
        for (const auto& p : first->problems) {
            ASSERT_EQ(p.file, "media/") << p.run_dir << ": " << p.file << ": " << p.problem;
            ASSERT_TRUE(p.repaired);
        }
        auto clean = store_->fsck(false);
        ASSERT_TRUE(clean.has_value());
        ASSERT_THAT(clean->problems, IsEmpty());
        ASSERT_EQ(clean->runs_checked, 12U);
    }

    std::vector<std::string> problems(bool repair) {
        auto report = store_->fsck(repair);
        EXPECT_TRUE(report.has_value()) << report.error();
        std::vector<std::string> out;
        for (const auto& p : report->problems) {
            out.push_back(p.run_dir + ": " + p.file + ": " + p.problem +
                          (p.repaired ? " [repaired]" : ""));
        }
        return out;
    }

    std::unique_ptr<FolderRunStore> store_;
};

TEST_F(FsckTest, FindsAndRepairsATornTail) {
    const fs::path events = run_dir("cv/yolo/20250115_103000_b82213/events.jsonl");
    const std::string before = slurp(events);
    std::ofstream(events, std::ios::app) << "{\"ts\":1";
    EXPECT_THAT(problems(false),
                ElementsAre("runs/cv/yolo/20250115_103000_b82213: events.jsonl: torn last line "
                            "(7 bytes after the last newline)"));
    EXPECT_THAT(problems(true),
                ElementsAre("runs/cv/yolo/20250115_103000_b82213: events.jsonl: torn last line "
                            "(7 bytes after the last newline) [repaired]"));
    EXPECT_EQ(slurp(events), before + "{\"ts\":1\n");  // terminated, never truncated
    EXPECT_THAT(problems(false), IsEmpty());
}

TEST_F(FsckTest, MovesUnparsableJsonAsideButOnlyReportsTheFilesThatMarkARun) {
    const fs::path kitchen = run_dir("cv/resnet/20250115_100000_6cefa5");
    const fs::path failed = run_dir("cv/yolo/20250115_103000_b82213");
    write_text(kitchen / "summary.json", "{oops");
    write_text(failed / "meta.json", "[1]");
    write_text(failed / "status.json", "");
    fs::remove(kitchen / "assets.json");
    EXPECT_THAT(problems(false),
                ElementsAre("runs/cv/resnet/20250115_100000_6cefa5: summary.json: not valid JSON: "
                            "line 1, column 2: expected a string key",
                            "runs/cv/resnet/20250115_100000_6cefa5: assets.json: missing",
                            "runs/cv/yolo/20250115_103000_b82213: meta.json: the JSON value is "
                            "not an object",
                            "runs/cv/yolo/20250115_103000_b82213: status.json: the file is empty"));
    const auto repaired = problems(true);
    ASSERT_EQ(repaired.size(), 4U);
    EXPECT_THAT(repaired[0], StartsWith("runs/cv/resnet/20250115_100000_6cefa5: summary.json: not "
                                        "valid JSON: line 1, column 2: expected a string key; "
                                        "moved aside to summary.json.corrupt-"));
    EXPECT_EQ(repaired[1],
              "runs/cv/resnet/20250115_100000_6cefa5: assets.json: missing [repaired]");
    EXPECT_EQ(repaired[2],
              "runs/cv/yolo/20250115_103000_b82213: meta.json: the JSON value is not an object");
    EXPECT_EQ(slurp(failed / "meta.json"), "[1]");  // reported, never touched
    EXPECT_EQ(slurp(kitchen / "assets.json"),
              "{\n  \"code\": {},\n  \"config\": {},\n  \"datasets\": [],\n  \"pretrained\": [],\n"
              "  \"outputs\": []\n}");
    std::size_t aside = 0;
    for (const auto& e : fs::directory_iterator(kitchen)) {
        if (e.path().filename().string().starts_with("summary.json.corrupt-")) {
            ++aside;
            EXPECT_EQ(slurp(e.path()), "{oops");
        }
    }
    EXPECT_EQ(aside, 1U);
    EXPECT_FALSE(fs::exists(kitchen / "summary.json"));
}

TEST_F(FsckTest, RemovesTempLeftoversOlderThanADay) {
    const fs::path dir = run_dir("default/20250115_113000_05a59a");
    write_text(dir / ".status.json.0123abcd.tmp", "{");
    write_text(dir / ".summary.json.fresh.tmp", "{");  // may belong to a writer right now
    const timespec old[2] = {{std::time(nullptr) - 25L * 3600, 0},
                             {std::time(nullptr) - 25L * 3600, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (dir / ".status.json.0123abcd.tmp").c_str(), old, 0), 0);
    EXPECT_THAT(problems(true), ElementsAre("runs/default/20250115_113000_05a59a: "
                                            ".status.json.0123abcd.tmp: leftover temp file older "
                                            "than 24 h [repaired]"));
    EXPECT_FALSE(fs::exists(dir / ".status.json.0123abcd.tmp"));
    EXPECT_TRUE(fs::exists(dir / ".summary.json.fresh.tmp"));
}

TEST_F(FolderRunStoreTest, AMissingRootIsNotFound) {
    FolderRunStore store(tmp_.path() / "absent", nullptr);
    EXPECT_THAT(store.list_runs({}).error(),
                StatusIs(StatusCode::kNotFound, HasSubstr("does not exist")));
    EXPECT_THAT(store.fsck(false).error(), StatusIs(StatusCode::kNotFound, HasSubstr("absent")));
}

// Two processes index the same root at once (RELIABILITY.md T07): SQLite's locks and the
// idempotent upserts keep the catalog whole, and it ends up equal to a fresh rebuild.
TEST_F(FolderRunStoreTest, TwoIndexersInTwoProcessesDoNotCorruptTheCatalog) {
    constexpr int kRounds = 15;
    std::vector<pid_t> children;
    for (int c = 0; c < 2; ++c) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            // The child: no gtest assertions, only an exit code.
            int failures = 0;
            FolderRunStore::Options options;
            FolderRunStore store(root_, nullptr, options);
            for (int i = 0; i < kRounds; ++i) {
                const bool ok = (i + c) % 2 == 0 ? store.reindex(nullptr).has_value()
                                                 : store.refresh().has_value();
                failures += ok ? 0 : 1;
                if (c == 0) {  // the files change under both indexers meanwhile
                    const fs::path dir = root_ / "runs" / "race" / ("r" + std::to_string(i));
                    std::error_code ec;
                    fs::create_directories(dir, ec);
                    std::ofstream(dir / "status.json") << "{\"status\": \"finished\"}";
                }
            }
            ::_exit(failures == 0 ? 0 : 1);
        }
        children.push_back(pid);
    }
    for (const pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "an indexer failed";
    }
    auto store = make_store();
    ASSERT_TRUE(store->refresh().has_value());
    const auto after_race = answers(*store);
    {
        auto db = catalog::Catalog::open((root_ / "index" / "catalog.sqlite").string(), root_);
        ASSERT_TRUE(db.has_value());
        EXPECT_EQ(*(*db)->integrity_check(), "ok");
    }
    ASSERT_TRUE(store->reindex(nullptr).has_value());
    EXPECT_EQ(answers(*store), after_race);
    EXPECT_EQ(list_ids(*store).size(), 11U + kRounds);
}

}  // namespace
}  // namespace runicorn::storage
