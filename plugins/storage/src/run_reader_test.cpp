#include "run_reader.hpp"

#include <map>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <gtest/gtest.h>

#include "folder_run_store.hpp"
#include "json_io.hpp"
#include "run_discovery.hpp"
#include "run_writer.hpp"
#include "storage_test_util.hpp"
#include "sys_info.hpp"
#include <sys/wait.h>
#include <unistd.h>

namespace runicorn::storage {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using plugin::RunInfo;
using plugin::RunLiveness;
using plugin::RunLocation;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::RecordingLogger;
using testing::slurp;
using testing::StatusIs;
using testing::TempDir;
using testing::write_text;

constexpr std::string_view kRunningId = "20250115_124500_e7cb53";

json::object read_object(const fs::path& p) {
    auto v = parse_json(slurp(p));
    EXPECT_TRUE(v.has_value() && v->is_object()) << p;
    return v.has_value() && v->is_object() ? v->get_object() : json::object();
}

void edit_object(const fs::path& p, const std::function<void(json::object&)>& edit) {
    auto o = read_object(p);
    edit(o);
    write_text(p, to_pretty_json(o));
}

std::vector<std::string> keys_of(const json::object& o) {
    std::vector<std::string> out;
    for (const auto& kv : o) {
        out.emplace_back(kv.key());
    }
    return out;
}

/// A writable copy of the v0.6 fixture store (the original is never touched).
class FixtureCopyTest : public ::testing::Test {
protected:
    void SetUp() override {
        // Copied by hand: fs::copy would give the copy the checkout's read-only modes, and the
        // liveness check writes into it.
        const fs::path src = testing::fixture_dir() / "store";
        fs::create_directories(root_);
        for (const auto& e : fs::recursive_directory_iterator(src)) {
            const fs::path dst = root_ / fs::relative(e.path(), src);
            if (e.is_directory()) {
                fs::create_directories(dst);
            } else {
                fs::copy_file(e.path(), dst);
                fs::permissions(dst, fs::perms::owner_read | fs::perms::owner_write,
                                fs::perm_options::add);
            }
        }
    }

    FolderRunStore store(FolderRunStore::Options options = {}) {
        return FolderRunStore(root_, rec_.logger, std::move(options));
    }

    RunLocation location_of(std::string_view id) {
        auto runs = discover_runs(root_, true, nullptr);
        EXPECT_TRUE(runs.has_value());
        for (const auto& r : *runs) {
            if (r.run_id == id) {
                return r;
            }
        }
        ADD_FAILURE() << "no run " << id;
        return {};
    }

    fs::path running_dir() { return root_ / "runs/cv/yolo" / std::string(kRunningId); }

    TempDir tmp_;
    fs::path root_ = tmp_.path() / "store";
    RecordingLogger rec_;
};

TEST_F(FixtureCopyTest, EveryRunReadsAsTheReferenceViewerAnswered) {
    auto expected = parse_json(slurp(testing::fixture_dir() / "expected.json"));
    ASSERT_TRUE(expected.has_value()) << expected.error();
    std::map<std::string, json::object> by_id;
    for (const auto& r : expected->get_object().at("runs").get_array()) {
        by_id[std::string(r.get_object().at("id").get_string())] = r.get_object();
    }
    ASSERT_EQ(by_id.size(), 11U);

    auto s = store();
    auto runs = s.discover_runs(false);
    ASSERT_TRUE(runs.has_value());
    ASSERT_EQ(runs->size(), 11U);
    const bool same_host = local_hostname() == "vm";  // meta.hostname of the fixture
    for (const auto& loc : *runs) {
        SCOPED_TRACE(loc.run_id);
        auto info = s.read_run(loc);
        ASSERT_TRUE(info.has_value()) << info.error();
        const auto& want = by_id.at(loc.run_id);
        if (loc.run_id == kRunningId) {
            EXPECT_EQ(info->status, same_host ? "failed" : "running");
        } else {
            EXPECT_EQ(info->status, want.at("status").get_string());
        }
        if (want.at("path").is_null()) {
            EXPECT_FALSE(info->location.path.has_value());
        } else {
            EXPECT_EQ(info->location.path, want.at("path").get_string());
        }
        if (want.at("alias").is_null()) {
            EXPECT_FALSE(info->alias.has_value());
        } else {
            EXPECT_EQ(info->alias, want.at("alias").get_string());
        }
        std::vector<std::string> tags;
        for (const auto& t : want.at("tags").get_array()) {
            tags.emplace_back(t.get_string());
        }
        EXPECT_EQ(info->tags, tags);
        EXPECT_EQ(info->assets_count, want.at("assets_count").get_int64());
        EXPECT_EQ(info->created_at, want.at("created_time").get_double());
        EXPECT_EQ(info->pid, want.at("pid").get_int64());
        if (want.at("best_metric_name").is_null()) {
            EXPECT_FALSE(info->best_metric_name.has_value());
        } else {
            EXPECT_EQ(info->best_metric_name, want.at("best_metric_name").get_string());
            EXPECT_EQ(info->best_metric_value, want.at("best_metric_value").to_number<double>());
        }
        EXPECT_FALSE(info->format_version.has_value());  // written by v0.6
        EXPECT_FALSE(info->deleted_at.has_value());
    }
    EXPECT_THAT(rec_.sink->messages(), IsEmpty());
}

TEST_F(FixtureCopyTest, ReadmeTableValues) {
    auto s = store();
    auto kitchen = s.read_run(location_of("20250115_100000_6cefa5"));
    ASSERT_TRUE(kitchen.has_value());
    EXPECT_EQ(kitchen->assets_count, 8);
    EXPECT_EQ(kitchen->best_metric_mode, "max");
    EXPECT_EQ(kitchen->best_metric_step, 30);
    EXPECT_EQ(kitchen->summary.at("notes").get_string(), "kitchen sink run");
    EXPECT_EQ(kitchen->ended_at, 1736935220.048);
    auto sweep = s.read_run(location_of("20250115_101500_df538c"));
    ASSERT_TRUE(sweep.has_value());
    EXPECT_THAT(sweep->tags, ElementsAre("sweep", "lr=0.1", "baseline"));
    EXPECT_EQ(sweep->alias, "r50-lr-sweep");
    auto root_run = s.read_run(location_of("20250115_120000_2eeb83"));
    ASSERT_TRUE(root_run.has_value());
    EXPECT_FALSE(root_run->location.path.has_value());
    EXPECT_EQ(root_run->alias, "root-run");
    auto interrupted = s.read_run(location_of("20250115_104500_6e73fa"));
    ASSERT_TRUE(interrupted.has_value());
    EXPECT_EQ(interrupted->status, "interrupted");
    auto failed = s.read_run(location_of("20250115_103000_b82213"));
    ASSERT_TRUE(failed.has_value());
    EXPECT_EQ(failed->status, "failed");
    EXPECT_EQ(failed->assets_count, 2);
    auto nested = s.read_run(location_of("20250115_121500_5faeb7"));
    ASSERT_TRUE(nested.has_value());
    EXPECT_EQ(nested->location.path, "cv/yolo/v8");
    EXPECT_EQ(nested->assets_count, 1);
}

TEST_F(FixtureCopyTest, SoftDeletedRunCarriesItsMarker) {
    auto info = store().read_run(location_of("20250115_123000_6e554c"));
    ASSERT_TRUE(info.has_value());
    EXPECT_TRUE(info->location.deleted);
    EXPECT_EQ(info->location.path, "nlp/t5");
    EXPECT_EQ(info->alias, "to-be-deleted");
    EXPECT_EQ(info->status, "finished");
    EXPECT_EQ(info->deleted_reason, "user_deleted");
    EXPECT_EQ(info->original_status, "finished");
    EXPECT_TRUE(info->deleted_at.has_value());
}

TEST_F(FixtureCopyTest, KilledRunOnThisHostBecomesFailedOnDisk) {
    const std::string host = local_hostname();
    edit_object(running_dir() / "meta.json", [&](json::object& m) { m["hostname"] = host; });
    auto info = store().read_run(location_of(kRunningId));
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->status, "failed");
    EXPECT_EQ(info->exit_reason, "process_not_found");
    EXPECT_EQ(info->liveness, RunLiveness::kDead);
    ASSERT_TRUE(info->ended_at.has_value());
    const auto status = read_object(running_dir() / "status.json");
    EXPECT_THAT(keys_of(status), ElementsAre("status", "started_at", "ended_at", "exit_reason"));
    EXPECT_EQ(status.at("status").get_string(), "failed");
    EXPECT_EQ(status.at("exit_reason").get_string(), "process_not_found");
    EXPECT_EQ(status.at("ended_at").get_double(), *info->ended_at);
    // The next read finds the file already failed and writes nothing.
    auto again = store().read_run(location_of(kRunningId));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->status, "failed");
    EXPECT_EQ(again->liveness, RunLiveness::kNotChecked);
    EXPECT_EQ(again->ended_at, info->ended_at);
}

TEST_F(FixtureCopyTest, KilledRunFromAnotherHostStaysRunning) {
    edit_object(running_dir() / "meta.json",
                [](json::object& m) { m["hostname"] = "some-other-host." + random_hex(8); });
    const std::string before = slurp(running_dir() / "status.json");
    auto info = store().read_run(location_of(kRunningId));
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->status, "running");
    EXPECT_EQ(info->liveness, RunLiveness::kUnknown);
    EXPECT_EQ(slurp(running_dir() / "status.json"), before);
}

TEST_F(FixtureCopyTest, LivenessCanBeTurnedOff) {
    edit_object(running_dir() / "meta.json",
                [](json::object& m) { m["hostname"] = local_hostname(); });
    const std::string before = slurp(running_dir() / "status.json");
    auto info =
        store({.check_liveness = false, .catalog_file = {}}).read_run(location_of(kRunningId));
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->status, "running");
    EXPECT_EQ(info->liveness, RunLiveness::kNotChecked);
    EXPECT_EQ(slurp(running_dir() / "status.json"), before);
}

TEST_F(FixtureCopyTest, CorruptOrEmptyFilesAreAbsentWithOneWarningEach) {
    const fs::path dir = root_ / "runs/cv/resnet/20250115_100000_6cefa5";
    write_text(dir / "meta.json", "{garbage");
    write_text(dir / "status.json", "");
    auto info = store().read_run(location_of("20250115_100000_6cefa5"));
    ASSERT_TRUE(info.has_value());
    EXPECT_TRUE(info->meta.empty());
    EXPECT_FALSE(info->alias.has_value());
    EXPECT_TRUE(info->tags.empty());
    EXPECT_EQ(info->status, "finished");
    EXPECT_EQ(info->assets_count, 8);  // the other files still count
    EXPECT_THAT(
        rec_.sink->messages(),
        ElementsAre("ignoring '" + (dir / "meta.json").string() +
                        "': not valid JSON: line 1, column 2: expected a string key",
                    "ignoring '" + (dir / "status.json").string() + "': the file is empty"));
    EXPECT_EQ(slurp(dir / "meta.json"), "{garbage");  // never rewritten
    EXPECT_EQ(slurp(dir / "status.json"), "");
}

TEST_F(FixtureCopyTest, NonUtf8BytesDoNotBreakTheReader) {
    const fs::path dir = root_ / "runs/default/20250115_113000_05a59a";
    write_text(dir / "logs.txt", "10:00:00 | caf\xe9 \xff\xfe\r\n[10:00:01] \x1b[31mred\n");
    write_text(dir / "events.jsonl", slurp(dir / "events.jsonl") +
                                         "{\"ts\":1,\"type\":\"metrics\",\"data\":{\"n\":\"\xff\","
                                         "\"global_step\":77}}\n");
    edit_object(dir / "meta.json", [](json::object& m) { m["alias"] = "bad \xc3\x28 bytes"; });
    auto info = store().read_run(location_of("20250115_113000_05a59a"));
    ASSERT_TRUE(info.has_value()) << info.error();
    EXPECT_EQ(info->alias, "bad \xc3\x28 bytes");
    EXPECT_EQ(find_last_step(dir / "events.jsonl"), 77);
    EXPECT_THAT(rec_.sink->messages(), IsEmpty());
}

TEST_F(FixtureCopyTest, MissingStatusFileOrKeyMeansFinished) {
    const fs::path dir = root_ / "runs/cv/yolo/20250115_103000_b82213";
    write_text(dir / "status.json", R"({"started_at": 1.0})");
    auto info = store().read_run(location_of("20250115_103000_b82213"));
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->status, "finished");
    EXPECT_EQ(info->started_at, 1.0);
    fs::remove(dir / "status.json");
    info = store().read_run(location_of("20250115_103000_b82213"));
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->status, "finished");
    EXPECT_FALSE(info->started_at.has_value());
}

TEST(RunReaderTest, MissingFolderIsNotFound) {
    RunLocation loc{"gone", std::nullopt, "/nonexistent/runicorn/runs/gone", false, false};
    EXPECT_THAT(read_run_folder(loc, {}, nullptr).error(),
                StatusIs(StatusCode::kNotFound,
                         "run folder '/nonexistent/runicorn/runs/gone' does not exist"));
}

TEST(RunReaderTest, CountsAssetsByTheV06Rule) {
    auto assets = parse_json(R"({"code": {"snapshot": {"saved": true}}, "config": {"args": {}},
                                 "datasets": [1, 2], "pretrained": [3], "outputs": [4, 5, 6]})");
    EXPECT_EQ(count_assets(assets->get_object()), 8);
    auto empty = parse_json(R"({"code": {}, "config": {}, "datasets": [], "pretrained": [],
                                "outputs": []})");
    EXPECT_EQ(count_assets(empty->get_object()), 0);
    auto wrong = parse_json(R"({"code": {"snapshot": "zip"}, "config": [1], "datasets": {"a": 1},
                                "outputs": [1]})");
    EXPECT_EQ(count_assets(wrong->get_object()), 1);
}

/// Runs written by our own writer, checked by the liveness rules of FORMAT.md §7.2.
class LivenessTest : public ::testing::Test {
protected:
    std::shared_ptr<FolderRunWriter> open_run(const std::string& id) {
        plugin::RunCreateOptions o;
        o.path = "live";
        o.run_id = id;
        o.writer = "runicorn-cpp/0.1.0 cpp";
        o.workspace_root = tmp_.path().string();
        auto w = FolderRunWriter::open(root_, o, nullptr);
        EXPECT_TRUE(w.has_value()) << w.error();
        return w.has_value() ? *w : nullptr;
    }
    Result<RunInfo> read(const std::string& id) {
        RunLocation loc{id, "live", root_ / "runs/live" / id, false, false};
        ReadRunOptions options;
        options.tracker = tracker_.get();
        return read_run_folder(loc, options, nullptr);
    }
    void write_heartbeat(const std::string& id, const std::string& host, const std::string& boot,
                         double ts) {
        json::object hb;
        hb["ts"] = ts;
        hb["seq"] = 3;
        hb["interval_s"] = 10;
        hb["hostname"] = host;
        hb["boot_id"] = boot;
        hb["pid"] = 1;
        hb["process_start"] = 1.0;
        hb["session"] = "0123456789abcdef";
        hb["writer"] = "runicorn-cpp/0.1.0 cpp";
        write_text(root_ / "runs/live" / id / ".heartbeat.json", to_pretty_json(hb));
    }

    TempDir tmp_;
    fs::path root_ = tmp_.path() / "store";
    std::unique_ptr<HeartbeatTracker> tracker_ = std::make_unique<HeartbeatTracker>();
};

TEST_F(LivenessTest, LiveWriterIsAliveAndAClosedOneIsDead) {
    auto w = open_run("a");
    ASSERT_NE(w, nullptr);
    auto before_heartbeat = read("a");
    ASSERT_TRUE(before_heartbeat.has_value());
    EXPECT_EQ(before_heartbeat->status, "running");
    EXPECT_EQ(before_heartbeat->liveness, RunLiveness::kAlive);
    RUNICORN_ASSERT_OK(w->heartbeat(std::chrono::seconds(10)));
    auto alive = read("a");
    ASSERT_TRUE(alive.has_value());
    EXPECT_EQ(alive->status, "running");
    EXPECT_EQ(alive->liveness, RunLiveness::kAlive);
    EXPECT_EQ(alive->format_version, 1);
    // A session that ends without finish() (its lock released, status still running) is dead.
    RUNICORN_ASSERT_OK(w->close());
    auto dead = read("a");
    ASSERT_TRUE(dead.has_value());
    EXPECT_EQ(dead->status, "failed");
    EXPECT_EQ(dead->exit_reason, "process_not_found");
    EXPECT_EQ(read_object(root_ / "runs/live/a/status.json").at("status").get_string(), "failed");
}

TEST_F(LivenessTest, ChangedBootIdMeansTheHostRebooted) {
    auto w = open_run("b");
    ASSERT_NE(w, nullptr);
    RUNICORN_ASSERT_OK(w->close());
    write_heartbeat("b", local_hostname(), "00000000-dead-beef-0000-000000000000", wall_now());
    auto info = read("b");
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->status, "failed");
    EXPECT_EQ(info->exit_reason, "host_rebooted");
    EXPECT_EQ(read_object(root_ / "runs/live/b/status.json").at("exit_reason").get_string(),
              "host_rebooted");
}

TEST_F(LivenessTest, AnotherHostsHeartbeatGoesStaleThenIsPersisted) {
    auto w = open_run("c");
    ASSERT_NE(w, nullptr);
    RUNICORN_ASSERT_OK(w->close());
    const fs::path status = root_ / "runs/live/c/status.json";
    const std::string before = slurp(status);
    write_heartbeat("c", "elsewhere", "x", wall_now() - 5);
    auto fresh = read("c");
    ASSERT_TRUE(fresh.has_value());
    EXPECT_EQ(fresh->status, "running");
    EXPECT_EQ(fresh->liveness, RunLiveness::kAlive);

    tracker_ = std::make_unique<HeartbeatTracker>();  // a reader with no earlier observation judges
                                                      // by the heartbeat's clock
    write_heartbeat("c", "elsewhere", "x", wall_now() - 200);  // > 30 s + 120 s
    auto stale = read("c");
    ASSERT_TRUE(stale.has_value());
    EXPECT_EQ(stale->status, "failed");
    EXPECT_EQ(stale->exit_reason, "heartbeat_lost");
    EXPECT_EQ(stale->liveness, RunLiveness::kStale);
    EXPECT_EQ(slurp(status), before);  // a guess: not written yet

    tracker_ = std::make_unique<HeartbeatTracker>();
    write_heartbeat("c", "elsewhere", "x", wall_now() - 4000);  // past stale_persist_after
    auto persisted = read("c");
    ASSERT_TRUE(persisted.has_value());
    EXPECT_EQ(persisted->status, "failed");
    EXPECT_EQ(read_object(status).at("exit_reason").get_string(), "heartbeat_lost");
}

TEST(HeartbeatTrackerTest, MeasuresHowLongTheSeqStayedTheSame) {
    HeartbeatTracker t;
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    EXPECT_FALSE(t.observe("/r", 1, t0).has_value());
    EXPECT_EQ(t.observe("/r", 1, t0 + std::chrono::seconds(40)), std::chrono::seconds(40));
    EXPECT_EQ(t.observe("/r", 2, t0 + std::chrono::seconds(50)), std::chrono::seconds(0));
    EXPECT_EQ(t.observe("/r", 2, t0 + std::chrono::seconds(55)), std::chrono::seconds(5));
}

TEST_F(LivenessTest, V06RunWithDeadOrReusedPid) {
    // A v0.6-style run: no heartbeat, no writer lock, no process_start.
    const fs::path dir = root_ / "runs/live/v06";
    const auto write_meta = [&](std::int64_t pid, double created_at) {
        json::object m;
        m["id"] = "v06";
        m["hostname"] = local_hostname();
        m["pid"] = pid;
        m["created_at"] = created_at;
        write_text(dir / "meta.json", to_pretty_json(m));
        write_text(dir / "status.json", R"({"status": "running", "started_at": 1.0})");
    };
    const double my_start = *process_start_time(::getpid());
    write_meta(::getpid(), my_start + 10);  // this process, started before the run: alive
    auto alive = read("v06");
    ASSERT_TRUE(alive.has_value());
    EXPECT_EQ(alive->status, "running");
    EXPECT_EQ(alive->liveness, RunLiveness::kAlive);

    write_meta(::getpid(), my_start - 100);  // a live pid that started after the run: reused
    auto reused = read("v06");
    ASSERT_TRUE(reused.has_value());
    EXPECT_EQ(reused->status, "failed");
    EXPECT_EQ(reused->exit_reason, "process_not_found");

    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::_exit(0);
    }
    ASSERT_EQ(::waitpid(child, nullptr, 0), child);
    write_meta(child, wall_now());
    auto gone = read("v06");
    ASSERT_TRUE(gone.has_value());
    EXPECT_EQ(gone->status, "failed");
    EXPECT_EQ(gone->liveness, RunLiveness::kDead);
}

TEST_F(LivenessTest, MarkRunFailedLeavesAFinishedRunAlone) {
    auto w = open_run("d");
    ASSERT_NE(w, nullptr);
    json::object done;
    done["status"] = "finished";
    RUNICORN_ASSERT_OK(w->merge_json(plugin::RunJsonFile::kStatus, done));
    auto wrote = mark_run_failed(w->run_dir(), "process_not_found", 1.0, nullptr);
    ASSERT_TRUE(wrote.has_value());
    EXPECT_FALSE(*wrote);
    EXPECT_EQ(read_object(w->run_dir() / "status.json").at("status").get_string(), "finished");
}

TEST_F(LivenessTest, MarkRunFailedYieldsToAWriterHoldingTheRun) {
    auto w = open_run("e");
    ASSERT_NE(w, nullptr);
    auto wrote = mark_run_failed(w->run_dir(), "process_not_found", 1.0, nullptr);
    ASSERT_TRUE(wrote.has_value());
    EXPECT_FALSE(*wrote);
    EXPECT_EQ(read_object(w->run_dir() / "status.json").at("status").get_string(), "running");
}

}  // namespace
}  // namespace runicorn::storage
