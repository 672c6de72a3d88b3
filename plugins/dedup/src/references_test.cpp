#include "references.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/testing/status_matchers.hpp>
#include <runicorn/testing/temp_dir.hpp>

#include "blob_layout.hpp"
#include "dedup_test_util.hpp"

namespace runicorn::dedup {
namespace {

namespace fs = std::filesystem;
using runicorn::testing::TempDir;
using ::testing::Contains;
using ::testing::ElementsAre;

const fs::path fixture = fs::path(RUNICORN_FIXTURE_DIR) / "store";
const std::string sha_0510 = "0510f528e0325d5ad0572c65fb1b9bc5f9ba1fb5022533011de76998acfd0369";

// The mapped value, "none" for a path outside archive/blobs, or the error message.
std::string blob_name(std::string_view recorded) {
    auto r = blob_name_from_archive_path(recorded);
    if (!r) {
        return r.error().message();
    }
    return r->value_or("none");
}

std::string manifest_path(std::string_view recorded) {
    auto r = manifest_path_from_archive_path("/root", recorded);
    if (!r) {
        return r.error().message();
    }
    return r->has_value() ? (*r)->string() : "none";
}

TEST(ArchivePathTest, RebasesBlobPathsFromAnyRoot) {
    EXPECT_EQ(blob_name("/tmp/runicorn-fixture/store/archive/blobs/05/" + sha_0510), sha_0510);
    EXPECT_EQ(blob_name("C:\\data\\archive\\blobs\\05\\" + sha_0510), sha_0510);
    EXPECT_EQ(blob_name("archive/blobs/05/" + sha_0510), sha_0510);
    EXPECT_EQ(blob_name("/x/archive/outputs/rolling/r/abc_best.pth"), "none");
    EXPECT_EQ(blob_name("/x/archive/blobs/../../etc/passwd"),
              "'/x/archive/blobs/../../etc/passwd' does not name a blob");
    EXPECT_EQ(blob_name("/x/archive/blobs/aa/" + sha_0510),
              "'/x/archive/blobs/aa/" + sha_0510 + "' does not name a blob");
}

TEST(ArchivePathTest, RebasesManifestPathsAndRefusesTraversal) {
    EXPECT_EQ(manifest_path("/old/archive/manifests/datasets/05/x.json"),
              "/root/archive/manifests/datasets/05/x.json");
    EXPECT_EQ(manifest_path("/old/archive/blobs/05/x"), "none");
    EXPECT_EQ(manifest_path("/old/archive/manifests/datasets/../../x.json"),
              "'/old/archive/manifests/datasets/../../x.json' does not name a manifest");
    EXPECT_EQ(manifest_path("/old/archive/manifests/datasets/05/x.txt"),
              "'/old/archive/manifests/datasets/05/x.txt' does not name a manifest");
}

TEST(DiscoverRunsTest, FindsEveryFixtureRunIncludingTheSoftDeletedOne) {
    const auto runs = discover_runs(fixture);
    EXPECT_EQ(runs.size(), 12U);
    EXPECT_THAT(runs, Contains(fs::path("runs/nlp/t5/20250115_123000_6e554c")));
    EXPECT_THAT(runs, Contains(fs::path("runs/20250115_120000_2eeb83")));
}

TEST(DiscoverRunsTest, FindsLegacyLayoutRuns) {
    TempDir dir;
    test_util::write_file(dir.path() / "proj" / "exp" / "runs" / "r1" / "events.jsonl", "");
    test_util::write_file(dir.path() / "runs" / "a" / "r2" / "status.json", "{}");
    test_util::write_file(dir.path() / "archive" / "x" / "runs" / "r3" / "meta.json", "{}");
    EXPECT_THAT(discover_runs(dir.path()),
                ElementsAre(fs::path("proj/exp/runs/r1"), fs::path("runs/a/r2")));
}

TEST(ScanReferencesTest, FixtureReferencesEveryBlob) {
    TempDir dir;
    test_util::copy_tree(fixture, dir.path() / "store");
    auto scan = scan_references(dir.path() / "store", {});
    ASSERT_TRUE(scan.has_value()) << scan.error();
    EXPECT_TRUE(scan->unreadable.empty());
    EXPECT_TRUE(scan->problems.empty());
    EXPECT_EQ(scan->runs, 12U);
    for (const auto* sha : {"f641fdcd8af73b2f6334ab63c13d2eb857cd16f2aa4ea0ba20ba0eb9627918b5",
                            "7459b9682d326abebe87bc5f7ebe5c25ca46b1c94626b775af968c203b12e2d6",
                            "2a2b86e74ffd5e6a9b75e52a105cf9d02920837179f8e8961aa15411d380f7a3",
                            "0510f528e0325d5ad0572c65fb1b9bc5f9ba1fb5022533011de76998acfd0369",
                            "eac89462e9925ed9c01585d096910f8a857f5f1dfe10b4546141e0b76bfdb8a8"}) {
        EXPECT_TRUE(scan->blobs.contains(sha)) << sha;
    }
    EXPECT_THAT(
        scan->manifests_named,
        ElementsAre("archive/manifests/datasets/05/"
                    "05e6c4742742c720356e14e0a68f12952c958bf52a65d8194e6e746d0514207b.json"));
    // The dataset's files are referenced by both runs that logged it, and by the v0.6 index.
    std::vector<std::string> referrers;
    for (const auto& r :
         scan->blobs.at("2a2b86e74ffd5e6a9b75e52a105cf9d02920837179f8e8961aa15411d380f7a3")) {
        referrers.push_back(r.referrer);
        EXPECT_EQ(r.size, 12);
    }
    EXPECT_THAT(referrers,
                ElementsAre("run runs/cv/resnet/20250115_100000_6cefa5",
                            "run runs/cv/yolo/v8/20250115_121500_5faeb7", "index runicorn.db"));
}

}  // namespace
}  // namespace runicorn::dedup
