#include "run_discovery.hpp"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace runicorn::storage {
namespace {
namespace fs = std::filesystem;
using ::testing::ElementsAre;

std::vector<std::string> ids(const std::vector<plugin::RunLocation>& runs) {
    std::vector<std::string> out;
    out.reserve(runs.size());
    for (const auto& r : runs) {
        out.push_back(r.run_id);
    }
    return out;
}

TEST(RunDiscoveryTest, FixtureOrderMatchesRunicorn06) {
    auto runs = discover_runs(fs::path(RUNICORN_FIXTURE_DIR) / "store", false, nullptr);
    ASSERT_TRUE(runs.has_value()) << runs.error();
    // The order of /api/runs in the fixture README (case-insensitive depth-first), deleted hidden.
    EXPECT_THAT(
        ids(*runs),
        ElementsAre("20250115_120000_2eeb83", "20250115_100000_6cefa5", "20250115_101500_df538c",
                    "20250115_103000_b82213", "20250115_104500_6e73fa", "20250115_124500_e7cb53",
                    "20250115_121500_5faeb7", "20250115_113000_05a59a", "20250115_114500_1a030f",
                    "20250115_110000_3256c3", "20250115_111500_06bd22"));
    EXPECT_FALSE((*runs)[0].path.has_value());  // the root-path run
    EXPECT_EQ((*runs)[1].path, "cv/resnet");
    EXPECT_EQ((*runs)[6].path, "cv/yolo/v8");
    EXPECT_EQ((*runs)[7].path, "default");
}

TEST(RunDiscoveryTest, IncludesSoftDeletedOnRequest) {
    auto runs = discover_runs(fs::path(RUNICORN_FIXTURE_DIR) / "store", true, nullptr);
    ASSERT_TRUE(runs.has_value());
    ASSERT_EQ(runs->size(), 12U);
    const auto& deleted = (*runs)[11];
    EXPECT_EQ(deleted.run_id, "20250115_123000_6e554c");
    EXPECT_EQ(deleted.path, "nlp/t5");
    EXPECT_TRUE(deleted.deleted);
}

class RunDiscoveryTmpTest : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() /
                ("rn-discovery-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(root_);
        fs::create_directories(root_);
    }
    void TearDown() override { fs::remove_all(root_); }
    void touch(const fs::path& rel) {
        fs::create_directories((root_ / rel).parent_path());
        std::ofstream(root_ / rel) << "{}";
    }
    fs::path root_;
};

TEST_F(RunDiscoveryTmpTest, LegacyLayoutAfterNewLayoutAndCaseInsensitiveOrder) {
    touch("runs/B/r2/meta.json");
    touch("runs/a/r1/status.json");
    touch("runs/.hidden/r0/meta.json");
    touch("proj/exp/runs/old1/meta.json");
    touch("archive/x/runs/notarun/meta.json");  // reserved top-level name
    auto runs = discover_runs(root_, false, nullptr);
    ASSERT_TRUE(runs.has_value());
    EXPECT_THAT(ids(*runs), ElementsAre("r1", "r2", "old1"));
    EXPECT_EQ((*runs)[2].path, "proj/exp");
    EXPECT_TRUE((*runs)[2].legacy);
}

TEST_F(RunDiscoveryTmpTest, SymlinkOutOfRootIsNotFollowed) {
    const fs::path outside = root_.string() + "-outside";
    fs::create_directories(outside / "evil");
    std::ofstream(outside / "evil" / "meta.json") << "{}";
    fs::create_directories(root_ / "runs");
    fs::create_directory_symlink(outside, root_ / "runs" / "link");
    auto runs = discover_runs(root_, false, nullptr);
    fs::remove_all(outside);
    ASSERT_TRUE(runs.has_value());
    EXPECT_TRUE(runs->empty());
}

TEST_F(RunDiscoveryTmpTest, UnderASubtreeFindsWhatAFullWalkFindsThere) {
    touch("runs/cv/a/r1/meta.json");
    touch("runs/cv/a/r2/status.json");
    touch("runs/cv/a/r2/media/x/meta.json");  // inside a run: not a run
    touch("runs/cv/b/r3/meta.json");
    touch("runs/cv/.h/r4/meta.json");
    touch("proj/exp/runs/old1/meta.json");
    touch("proj/exp/runs/old2/anything");

    auto cv = discover_runs_under(root_, root_ / "runs" / "cv", nullptr);
    ASSERT_TRUE(cv.has_value());
    EXPECT_EQ(cv->scope, "runs/cv");
    EXPECT_THAT(ids(cv->runs), ElementsAre("r1", "r2", "r3"));
    EXPECT_EQ(cv->runs[0].path, "cv/a");

    // A folder inside a run stands for the run.
    auto inside = discover_runs_under(root_, root_ / "runs/cv/a/r2/media/x", nullptr);
    ASSERT_TRUE(inside.has_value());
    EXPECT_EQ(inside->scope, "runs/cv/a/r2");
    EXPECT_THAT(ids(inside->runs), ElementsAre("r2"));

    auto gone = discover_runs_under(root_, root_ / "runs/cv/zzz", nullptr);
    ASSERT_TRUE(gone.has_value());
    EXPECT_EQ(gone->scope, "runs/cv/zzz");
    EXPECT_TRUE(gone->runs.empty());
    EXPECT_TRUE(discover_runs_under(root_, root_ / "runs/cv/.h", nullptr)->runs.empty());

    auto legacy = discover_runs_under(root_, root_ / "proj/exp/runs", nullptr);
    ASSERT_TRUE(legacy.has_value());
    EXPECT_EQ(legacy->runs.size(), 2U);
    EXPECT_TRUE(legacy->runs[0].legacy);
    auto one = discover_runs_under(root_, root_ / "proj/exp/runs/old1", nullptr);
    ASSERT_TRUE(one.has_value());
    EXPECT_THAT(ids(one->runs), ElementsAre("old1"));
    EXPECT_EQ(one->runs[0].path, "proj/exp");

    // Places only a full walk can answer for.
    for (const char* rel : {"", "runs", "proj", "proj/exp", "archive/x/runs", "../elsewhere"}) {
        EXPECT_FALSE(discover_runs_under(root_, root_ / rel, nullptr).has_value()) << rel;
    }
}

TEST(RunDiscoveryErrorTest, MissingRootIsNotFound) {
    auto runs = discover_runs("/nonexistent/runicorn-root", false, nullptr);
    ASSERT_FALSE(runs.has_value());
    EXPECT_EQ(runs.error(),
              Status::not_found("storage root '/nonexistent/runicorn-root' does not exist"));
}

}  // namespace
}  // namespace runicorn::storage
