#include "folder_watcher.hpp"

#include <chrono>
#include <functional>
#include <thread>

#include <boost/json/object.hpp>
#include <gtest/gtest.h>

#include "folder_run_store.hpp"
#include "storage_test_util.hpp"
#include <sys/wait.h>
#include <unistd.h>

namespace runicorn::storage {
namespace {
namespace fs = std::filesystem;
using plugin::DeletedFilter;
using plugin::RunQuery;
using testing::TempDir;
using testing::write_text;

/// A generous safety net: the waits below end as soon as the catalog shows the change.
constexpr auto kSafetyTimeout = std::chrono::seconds(30);

/// The fixture copy, its store and a watcher keeping the store's catalog current.
class FolderWatcherTest : public ::testing::Test {
protected:
    void SetUp() override {
        testing::copy_fixture_store(root_);
        store_ = std::make_shared<FolderRunStore>(root_, nullptr);
    }

    void start_watcher() {
        FolderWatcherCallbacks callbacks;
        callbacks.changed = [store = store_](const std::vector<fs::path>& dirs) {
            (void)store->refresh_dirs(dirs);
        };
        callbacks.rescan = [store = store_] { (void)store->refresh(); };
        FolderWatcherOptions options;
        options.scan_interval = std::chrono::hours(1);  // only inotify can make the tests pass
        auto w = FolderWatcher::start(root_, options, std::move(callbacks), nullptr);
        ASSERT_TRUE(w.has_value()) << w.error();
        watcher_ = std::move(*w);
    }

    /// Polls list_runs until `pred` holds for the listing (true) or the safety timeout passes.
    bool eventually(const std::function<bool(const plugin::RunPage&)>& pred,
                    DeletedFilter deleted = DeletedFilter::kExclude) {
        RunQuery q;
        q.deleted = deleted;
        const auto give_up = std::chrono::steady_clock::now() + kSafetyTimeout;
        while (std::chrono::steady_clock::now() < give_up) {
            auto page = store_->list_runs(q);
            if (page && pred(*page)) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // poll interval
        }
        return false;
    }

    static std::optional<plugin::RunInfo> find(const plugin::RunPage& page, std::string_view id) {
        for (const auto& r : page.runs) {
            if (r.location.run_id == id) {
                return r;
            }
        }
        return std::nullopt;
    }

    TempDir tmp_;
    fs::path root_ = tmp_.path() / "store";
    std::shared_ptr<FolderRunStore> store_;
    std::unique_ptr<FolderWatcher> watcher_;
};

TEST_F(FolderWatcherTest, ACopiedRunFolderAppearsWithoutARestart) {
    start_watcher();
    ASSERT_TRUE(eventually([](const auto& page) { return page.runs.size() == 11; }));
    const fs::path dst = root_ / "runs" / "copied" / "deeper" / "20260101_000000_c0ffee";
    fs::create_directories(dst.parent_path());
    fs::copy(root_ / "runs" / "cv" / "yolo" / "20250115_103000_b82213", dst,
             fs::copy_options::recursive);
    EXPECT_TRUE(eventually([](const auto& page) {
        auto r = find(page, "20260101_000000_c0ffee");
        return r && r->location.path == "copied/deeper" && r->status == "failed";
    }));
    EXPECT_GT(watcher_->watch_count(), 20U);
}

TEST_F(FolderWatcherTest, ChangesToRunFilesAndRemovedFoldersShowUp) {
    start_watcher();
    ASSERT_TRUE(eventually([](const auto& page) { return page.runs.size() == 11; }));
    write_text(root_ / "runs" / "default" / "20250115_113000_05a59a" / "status.json",
               "{\"status\": \"interrupted\"}");
    EXPECT_TRUE(eventually([](const auto& page) {
        auto r = find(page, "20250115_113000_05a59a");
        return r && r->status == "interrupted";
    }));
    write_text(root_ / "runs" / "cv" / "resnet" / "20250115_101500_df538c" / ".deleted",
               "{\"reason\": \"user_deleted\"}");
    EXPECT_TRUE(eventually(
        [](const auto& page) { return !find(page, "20250115_101500_df538c").has_value(); }));
    fs::remove_all(root_ / "runs" / "nlp");
    EXPECT_TRUE(
        eventually([](const auto& page) { return page.runs.size() == 9; }, DeletedFilter::kAny));
}

TEST_F(FolderWatcherTest, ARunWrittenByAnotherProcessAppearsAndItsStatusFollows) {
    // The writer is forked before any thread exists; two pipes pace it.
    int go[2];
    int ready[2];
    ASSERT_EQ(::pipe(go), 0);
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        char c = 0;
        FolderRunStore store(root_, nullptr);
        plugin::RunCreateOptions options;
        options.path = "other/process";
        options.run_id = "writer-child";
        options.writer = "runicorn-cpp/test cpp";
        if (::read(go[0], &c, 1) != 1) {
            ::_exit(2);
        }
        auto run = store.open_run(options);
        if (!run ||
            !(*run)->append_events("{\"ts\":1,\"type\":\"metrics\",\"data\":{}}\n").is_ok()) {
            ::_exit(3);
        }
        if (::write(ready[1], "r", 1) != 1 || ::read(go[0], &c, 1) != 1) {
            ::_exit(4);
        }
        const boost::json::object finished{{"status", "finished"}, {"ended_at", 2.0}};
        const bool ok = (*run)->merge_json(plugin::RunJsonFile::kStatus, finished).is_ok() &&
                        (*run)->close().is_ok();
        ::_exit(ok ? 0 : 5);
    }
    ::close(go[0]);
    ::close(ready[1]);
    start_watcher();
    ASSERT_TRUE(eventually([](const auto& page) { return page.runs.size() == 11; }));
    ASSERT_EQ(::write(go[1], "g", 1), 1);
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    EXPECT_TRUE(eventually([](const auto& page) {
        auto r = find(page, "writer-child");
        return r && r->location.path == "other/process" && r->status == "running";
    }));
    ASSERT_EQ(::write(go[1], "g", 1), 1);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << status;
    ASSERT_EQ(WEXITSTATUS(status), 0);
    EXPECT_TRUE(eventually([](const auto& page) {
        auto r = find(page, "writer-child");
        return r && r->status == "finished";
    }));
    ::close(go[1]);
    ::close(ready[0]);
}

TEST_F(FolderWatcherTest, StopEndsTheThreadAndIsIdempotent) {
    start_watcher();
    watcher_->stop();  // wakes poll() through the eventfd; the hour-long scan timer never fires
    watcher_->stop();
    EXPECT_GE(watcher_->rescans(), 0U);
    watcher_.reset();
}

TEST(FolderWatcherRootTest, AMissingRootIsLeftToThePeriodicScan) {
    TempDir tmp;
    std::size_t rescans = 0;
    FolderWatcherCallbacks callbacks;
    callbacks.changed = [](const std::vector<fs::path>&) {};
    callbacks.rescan = [&rescans] { ++rescans; };
    auto w = FolderWatcher::start(tmp.path() / "absent", {}, std::move(callbacks), nullptr);
    ASSERT_TRUE(w.has_value());
    (*w)->stop();
    EXPECT_EQ((*w)->watch_count(), 0U);
}

}  // namespace
}  // namespace runicorn::storage
