// The run commands of the `runicorn` executable end to end (ls, show, reindex, fsck, delete,
// restore) on a copy of the Runicorn v0.6 fixture store; user-facing text checked verbatim.
#include <fstream>
#include <sstream>

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
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

const std::string runicorn_exe = RUNICORN_EXE;
const fs::path fixture_store = fs::path(RUNICORN_FIXTURE_DIR) / "store";

const std::vector<std::string> visible_in_discovery_order = {
    "20250115_120000_2eeb83", "20250115_100000_6cefa5", "20250115_101500_df538c",
    "20250115_103000_b82213", "20250115_104500_6e73fa", "20250115_124500_e7cb53",
    "20250115_121500_5faeb7", "20250115_113000_05a59a", "20250115_114500_1a030f",
    "20250115_110000_3256c3", "20250115_111500_06bd22"};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

class CliRunsTest : public ::testing::Test {
protected:
    /// A writable copy of the fixture (the original is never touched).
    void SetUp() override { ::runicorn::testing::copy_tree_writable(fixture_store, store_); }

    ProcessResult run(std::vector<std::string> args, const EnvChanges& extra = {}) const {
        args.insert(args.begin(), runicorn_exe);
        EnvChanges e = {{"RUNICORN_CONFIG_DIR", (tmp_.path() / "config").string()},
                        {"RUNICORN_DIR", store_.string()},
                        {"RUNICORN_PLUGIN_PATH", std::nullopt},
                        {"RUNICORN_PLUGINS", std::nullopt},
                        {"RUNICORN_LOG_LEVEL", std::nullopt},
                        {"TZ", "UTC"}};
        for (const auto& [k, v] : extra) {
            e[k] = v;
        }
        return run_process(args, e);
    }

    /// The ids of `runicorn ls --json ARGS...`.
    std::vector<std::string> ls_ids(std::vector<std::string> args) const {
        args.insert(args.begin(), {"ls", "--json"});
        auto r = run(args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        std::vector<std::string> ids;
        const auto v = json::parse(r.out);
        for (const auto& item : v.at("runs").as_array()) {
            ids.emplace_back(item.at("id").as_string());
        }
        return ids;
    }

    TempDir tmp_;
    fs::path store_ = tmp_.path() / "store";
};

TEST_F(CliRunsTest, LsShowsTheVisibleRunsInDiscoveryOrder) {
    auto r = run({"ls"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    std::istringstream lines(r.out);
    std::string line;
    std::getline(lines, line);
    EXPECT_EQ(line,
              "ID                      PATH        ALIAS         STATUS       CREATED              "
              "BEST               ASSETS");
    std::vector<std::string> ids;
    std::vector<std::string> rows;
    while (std::getline(lines, line)) {
        ids.push_back(line.substr(0, line.find(' ')));
        rows.push_back(line);
    }
    EXPECT_EQ(ids, visible_in_discovery_order);
    EXPECT_EQ(rows[1],
              "20250115_100000_6cefa5  cv/resnet   r50-baseline  finished     2025-01-15 10:00:00  "
              "val_acc=0.8        8");
    EXPECT_EQ(rows[0],
              "20250115_120000_2eeb83  -           root-run      finished     2025-01-15 12:00:00  "
              "-                  0");
}

TEST_F(CliRunsTest, LsFiltersSortsAndPages) {
    EXPECT_EQ(ls_ids({"--path", "cv/yolo", "--exact"}).size(), 3U);
    EXPECT_EQ(ls_ids({"--path", "cv"}).size(), 6U);
    EXPECT_THAT(ls_ids({"--path", "/"}), ElementsAre("20250115_120000_2eeb83"));
    EXPECT_THAT(ls_ids({"--status", "interrupted,nothing"}), ElementsAre("20250115_104500_6e73fa"));
    EXPECT_THAT(ls_ids({"--tag", "sweep", "--tag", "baseline"}),
                ElementsAre("20250115_101500_df538c"));
    EXPECT_THAT(ls_ids({"--text", "MANY-keys"}), ElementsAre("20250115_110000_3256c3"));
    EXPECT_THAT(ls_ids({"--since", "2025-01-15T11:30:00Z", "--until", "1736942400"}),
                ElementsAre("20250115_113000_05a59a", "20250115_114500_1a030f"));
    EXPECT_THAT(ls_ids({"--since", "2025-01-15 12:30"}),  // local time; TZ=UTC here
                ElementsAre("20250115_124500_e7cb53"));
    EXPECT_THAT(ls_ids({"--deleted"}), ElementsAre("20250115_123000_6e554c"));
    EXPECT_THAT(ls_ids({"--sort", "id", "--desc", "--limit", "2"}),
                ElementsAre("20250115_124500_e7cb53", "20250115_121500_5faeb7"));

    // Pages: the table names the cursor, --json carries it; following it gives the rest.
    auto first = run({"ls", "--sort", "created", "--limit", "4"});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_THAT(first.out, HasSubstr("\nshowing 4 of 11 runs; next page: --cursor "));
    std::vector<std::string> seen;
    std::string cursor;
    do {
        std::vector<std::string> args = {"ls", "--json", "--sort", "created", "--limit", "4"};
        if (!cursor.empty()) {
            args.insert(args.end(), {"--cursor", cursor});
        }
        auto page = run(args);
        ASSERT_EQ(page.exit_code, 0) << page.err;
        const auto v = json::parse(page.out);
        EXPECT_EQ(v.at("total").as_int64(), 11);
        for (const auto& item : v.at("runs").as_array()) {
            seen.emplace_back(item.at("id").as_string());
        }
        cursor = v.at("next_cursor").is_null() ? "" : std::string(v.at("next_cursor").as_string());
    } while (!cursor.empty());
    ASSERT_EQ(seen.size(), 11U);
    EXPECT_EQ(seen.front(), "20250115_124500_e7cb53");
    EXPECT_EQ(seen.back(), "20250115_100000_6cefa5");
}

TEST_F(CliRunsTest, LsRefusesBadInputWithAClearMessage) {
    auto sort = run({"ls", "--sort", "size"});
    EXPECT_EQ(sort.exit_code, 2);
    EXPECT_EQ(
        sort.err,
        "runicorn: error: --sort: unknown key 'size' (use created, started, ended, duration, path, "
        "alias, status, best, id, discovery or summary.<key>)\n");
    auto since = run({"ls", "--since", "yesterday"});
    EXPECT_EQ(since.exit_code, 2);
    EXPECT_EQ(since.err,
              "runicorn: error: --since: invalid time 'yesterday': expected an ISO date "
              "(2025-01-15), a date and time (2025-01-15T10:00:00, local unless it ends in Z or "
              "+HH:MM) or epoch seconds\n");
    auto cursor = run({"ls", "--limit", "2", "--cursor", "abcd"});
    EXPECT_EQ(cursor.exit_code, 2);
    EXPECT_EQ(cursor.err,
              "runicorn: error: the cursor does not belong to this query (same sort, order and "
              "filters needed)\n");
    auto missing = run({"ls"}, {{"RUNICORN_DIR", (tmp_.path() / "absent").string()}});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_EQ(missing.err, "runicorn: error: storage root '" + (tmp_.path() / "absent").string() +
                               "' does not exist\n");
}

TEST_F(CliRunsTest, ShowPrintsEverythingAboutOneRun) {
    auto r = run({"show", "20250115_101500_df538c"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string dir = (store_ / "runs/cv/resnet/20250115_101500_df538c").string();
    EXPECT_EQ(r.out,
              "id:           20250115_101500_df538c\n"
              "path:         cv/resnet\n"
              "alias:        r50-lr-sweep\n"
              "tags:         [\"sweep\",\"lr=0.1\",\"baseline\"]\n"
              "status:       finished\n"
              "exit reason:  -\n"
              "liveness:     ended\n"
              "created:      2025-01-15 10:15:00\n"
              "started:      2025-01-15 10:15:00\n"
              "ended:        2025-01-15 10:15:15\n"
              "duration:     15.011 s\n"
              "host:         vm (pid 29519)\n"
              "best metric:  loss=0.291338 at step 601\n"
              "assets:       0\n"
              "written by:   Runicorn v0.6\n"
              "folder:       " +
                  dir +
                  "\n"
                  "summary:\n"
                  "{\n"
                  "  \"best_metric_value\": 0.291338,\n"
                  "  \"best_metric_name\": \"loss\",\n"
                  "  \"best_metric_step\": 601,\n"
                  "  \"best_metric_mode\": \"min\"\n"
                  "}\n");
    auto j = run({"show", "20250115_123000_6e554c", "--json"});
    ASSERT_EQ(j.exit_code, 0) << j.err;
    const auto v = json::parse(j.out);
    EXPECT_EQ(v.at("alias").as_string(), "to-be-deleted");
    EXPECT_EQ(v.at("deleted").as_bool(), true);
    EXPECT_EQ(v.at("delete_reason").as_string(), "user_deleted");
    EXPECT_EQ(v.at("meta").at("id").as_string(), "20250115_123000_6e554c");

    auto missing = run({"show", "nope"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_EQ(missing.out, "");
    EXPECT_EQ(missing.err, "runicorn: error: run 'nope' not found\n");
}

TEST_F(CliRunsTest, DeleteAndRestoreRoundTrip) {
    const std::string id = "20250115_103000_b82213";
    const fs::path dir = store_ / "runs/cv/yolo" / id;
    auto del = run({"delete", id});
    ASSERT_EQ(del.exit_code, 0) << del.err;
    EXPECT_EQ(del.out, "deleted " + id + "\n");
    EXPECT_TRUE(fs::exists(dir / ".deleted"));
    EXPECT_EQ(ls_ids({}).size(), 10U);
    EXPECT_THAT(ls_ids({"--deleted"}), ElementsAre(id, "20250115_123000_6e554c"));

    auto again = run({"delete", id, "nope"});
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_EQ(again.out, "");
    EXPECT_EQ(again.err, "runicorn: error: run '" + id +
                             "' is already deleted\nrunicorn: error: run 'nope' not found\n");

    auto restore = run({"restore", id});
    ASSERT_EQ(restore.exit_code, 0) << restore.err;
    EXPECT_EQ(restore.out, "restored " + id + "\n");
    EXPECT_FALSE(fs::exists(dir / ".deleted"));
    EXPECT_EQ(ls_ids({}), visible_in_discovery_order);
    auto not_deleted = run({"restore", id});
    EXPECT_EQ(not_deleted.exit_code, 1);
    EXPECT_EQ(not_deleted.err, "runicorn: error: run '" + id + "' is not deleted\n");

    auto purge = run({"delete", "--permanent", id, "20250115_123000_6e554c"});
    ASSERT_EQ(purge.exit_code, 0) << purge.err;
    EXPECT_EQ(purge.out,
              "permanently deleted " + id + "\npermanently deleted 20250115_123000_6e554c\n");
    EXPECT_FALSE(fs::exists(dir));
    EXPECT_TRUE(ls_ids({"--deleted"}).empty());
    EXPECT_EQ(ls_ids({}).size(), 10U);
}

TEST_F(CliRunsTest, FsckFindsATornTailAndRepairFixesIt) {
    // The checkout has no empty media/ folders (git keeps none): the first repair adds them.
    auto first = run({"fsck", "--repair"});
    EXPECT_EQ(first.exit_code, 1) << first.err;
    EXPECT_THAT(first.out, HasSubstr("runs/20250115_120000_2eeb83: media/: missing directory "
                                     "(repaired)\n"));
    EXPECT_THAT(first.out, HasSubstr("\nchecked 12 runs: 11 problems, 11 repaired\n"));
    auto clean = run({"fsck"});
    EXPECT_EQ(clean.exit_code, 0) << clean.out << clean.err;
    EXPECT_EQ(clean.out, "checked 12 runs: no problems\n");

    const fs::path events = store_ / "runs/cv/yolo/20250115_103000_b82213/events.jsonl";
    std::ofstream(events, std::ios::app) << "{\"ts\":1";
    auto torn = run({"fsck"});
    EXPECT_EQ(torn.exit_code, 1);
    EXPECT_EQ(torn.out,
              "runs/cv/yolo/20250115_103000_b82213: events.jsonl: torn last line (7 bytes after "
              "the last newline)\n"
              "checked 12 runs: 1 problem (runicorn fsck --repair fixes what can be fixed)\n");
    auto repair = run({"fsck", "--repair"});
    EXPECT_EQ(repair.exit_code, 1);
    EXPECT_EQ(repair.out,
              "runs/cv/yolo/20250115_103000_b82213: events.jsonl: torn last line (7 bytes after "
              "the last newline) (repaired)\n"
              "checked 12 runs: 1 problem, 1 repaired\n");
    EXPECT_THAT(slurp(events), ::testing::EndsWith("{\"ts\":1\n"));
    auto after = run({"fsck"});
    EXPECT_EQ(after.exit_code, 0);
    EXPECT_EQ(after.out, "checked 12 runs: no problems\n");

    auto missing = run({"fsck"}, {{"RUNICORN_DIR", (tmp_.path() / "absent").string()}});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_EQ(missing.err, "runicorn: error: storage root '" + (tmp_.path() / "absent").string() +
                               "' does not exist\n");
}

TEST_F(CliRunsTest, ReindexAfterDeletingTheCatalogGivesIdenticalListings) {
    auto before = run({"ls", "--json"});
    ASSERT_EQ(before.exit_code, 0) << before.err;
    ASSERT_TRUE(fs::exists(store_ / "index" / "catalog.sqlite"));
    auto reindex = run({"reindex"});
    ASSERT_EQ(reindex.exit_code, 0) << reindex.err;
    EXPECT_THAT(reindex.out, MatchesRegex("indexed 12 runs in [0-9]+\\.[0-9][0-9] s\n"));
    EXPECT_EQ(reindex.err, "");  // no progress bar without a terminal
    EXPECT_EQ(run({"ls", "--json"}).out, before.out);

    for (const char* f : {"catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"}) {
        fs::remove(store_ / "index" / f);
    }
    auto rebuilt = run({"reindex"});
    ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
    EXPECT_EQ(run({"ls", "--json"}).out, before.out);
    EXPECT_EQ(run({"ls", "--json", "--deleted"}).exit_code, 0);
}

TEST_F(CliRunsTest, OnlyTheStoragePluginIsLoaded) {
    // A broken http configuration cannot matter: the run commands do not load that plugin.
    fs::create_directories(tmp_.path() / "config");
    std::ofstream(tmp_.path() / "config" / "config.json")
        << R"({"runicorn_cpp": {"plugins": {"http": {"port": "not a number"}}}})";
    auto r = run({"ls", "--limit", "1"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    auto none = run({"--plugins", "nothing", "--log-level", "error", "ls"});
    EXPECT_EQ(none.exit_code, 2);
    EXPECT_EQ(none.err,
              "runicorn: error: no run store: plugin 'storage' is disabled: not in the enabled "
              "plugin list\n");
}

}  // namespace
}  // namespace runicorn::test
