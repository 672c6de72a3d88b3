// GC, verify and usage of HardlinkBlobStore (maintenance.cpp). Ages are controlled with a fake
// "now" (GcOptions::now) and explicit mtimes; nothing sleeps.

#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <runicorn/testing/status_matchers.hpp>
#include <runicorn/testing/temp_dir.hpp>

#include "blob_layout.hpp"
#include "dedup_test_util.hpp"
#include "dir_manifest.hpp"
#include "hardlink_blob_store.hpp"
#include "sha256.hpp"
#include <sys/stat.h>

namespace runicorn::dedup {
namespace {

namespace fs = std::filesystem;
using runicorn::testing::StatusIs;
using runicorn::testing::TempDir;
using std::chrono::hours;
using std::chrono::system_clock;
using test_util::write_file;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const fs::path fixture = fs::path(RUNICORN_FIXTURE_DIR) / "store";

class MaintenanceTest : public ::testing::Test {
protected:
    fs::path root() const { return dir_.path() / "store"; }

    // Stores `content` and returns its blob name.
    std::string put(const std::string& content) {
        const auto src = dir_.path() / "src" / sha256_hex(content);
        write_file(src, content);
        auto r = store_.put_file(src, {});
        EXPECT_TRUE(r.has_value()) << r.error();
        return r.has_value() ? r->sha256 : std::string();
    }
    fs::path blob(const std::string& sha) const { return *dedup::blob_path(root(), sha); }

    // A run folder under runs/<rel> with meta.json and the given assets.json text.
    fs::path make_run(const std::string& rel, const std::string& assets) {
        auto run = root() / "runs" / rel;
        write_file(run / "meta.json", "{}");
        write_file(run / "assets.json", assets);
        return run;
    }
    std::string blob_asset(const std::string& sha) const {
        return R"({"pretrained": [{"name": "w", "saved": true, "fingerprint_kind": "sha256", "fingerprint": ")" +
               sha + R"(", "archive_path": "/elsewhere/archive/blobs/)" + sha.substr(0, 2) + "/" +
               sha + R"("}], "config": {"lr": NaN}})";
    }
    std::string manifest_asset(const fs::path& manifest) const {
        return R"({"datasets": [{"name": "d", "saved": true, "fingerprint_kind": "sha256_manifest", "archive_path": ")" +
               manifest.string() + R"(", "manifest_path": ")" + manifest.string() + R"("}]})";
    }

    // GC as if `age` had passed since everything was written.
    Result<plugin::GcReport> gc_after(hours age, bool dry_run) {
        plugin::GcOptions options;
        options.dry_run = dry_run;
        options.now = system_clock::now() + age;
        return store_.gc(options);
    }

    TempDir dir_;
    HardlinkBlobStore store_{dir_.path() / "store"};
};

TEST_F(MaintenanceTest, GcRemovesOnlyUnreferencedBlobsPastTheGracePeriod) {
    const auto kept = put("referenced");
    const auto orphan = put("orphan!");
    make_run("p/r1", blob_asset(kept));
    auto dry = gc_after(hours(2), true);
    ASSERT_TRUE(dry.has_value()) << dry.error();
    EXPECT_TRUE(dry->dry_run);
    EXPECT_THAT(dry->blobs_removed, ElementsAre(orphan));
    EXPECT_EQ(dry->bytes_freed, 7U);
    EXPECT_EQ(dry->blobs_referenced, 1U);
    EXPECT_TRUE(fs::exists(blob(orphan)));  // a dry run deletes nothing

    auto real = gc_after(hours(2), false);
    ASSERT_TRUE(real.has_value()) << real.error();
    EXPECT_THAT(real->blobs_removed, ElementsAre(orphan));
    EXPECT_FALSE(fs::exists(blob(orphan)));
    EXPECT_TRUE(fs::exists(blob(kept)));
}

TEST_F(MaintenanceTest, GcKeepsBlobsOfSoftDeletedRuns) {
    const auto sha = put("kept by a deleted run");
    auto run = make_run("p/deleted", blob_asset(sha));
    write_file(run / ".deleted", R"({"deleted_at": 1.0})");
    auto r = gc_after(hours(2), false);
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_THAT(r->blobs_removed, IsEmpty());
    EXPECT_TRUE(fs::exists(blob(sha)));
}

TEST_F(MaintenanceTest, GcKeepsBlobsOfLegacyLayoutRuns) {
    const auto sha = put("legacy");
    write_file(root() / "proj" / "exp" / "runs" / "r1" / "assets.json", blob_asset(sha));
    auto r = gc_after(hours(2), false);
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_THAT(r->blobs_removed, IsEmpty());
}

TEST_F(MaintenanceTest, GcKeepsBlobsOfManifestsThatRunsName) {
    write_file(dir_.path() / "ds" / "a.txt", "file a");
    write_file(dir_.path() / "ds" / "b.txt", "file b");
    auto build = store_.store_directory(dir_.path() / "ds");
    ASSERT_TRUE(build.has_value());
    auto named = store_.write_manifest("datasets", build->manifest);
    ASSERT_TRUE(named.has_value());
    make_run("p/r1", manifest_asset(*named));
    // A second manifest nobody names: it goes, with its only blob.
    write_file(dir_.path() / "ds2" / "c.txt", "file c");
    auto build2 = store_.store_directory(dir_.path() / "ds2");
    auto unnamed = store_.write_manifest("datasets", build2->manifest);
    ASSERT_TRUE(unnamed.has_value());

    auto r = gc_after(hours(2), false);
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_THAT(r->blobs_removed, ElementsAre(sha256_hex("file c")));
    EXPECT_THAT(r->manifests_removed,
                ElementsAre(unnamed->lexically_relative(root()).generic_string()));
    EXPECT_TRUE(fs::exists(*named));
    EXPECT_TRUE(fs::exists(blob(sha256_hex("file a"))));
    EXPECT_TRUE(fs::exists(blob(sha256_hex("file b"))));
}

TEST_F(MaintenanceTest, GcKeepsBlobsOfEveryArtifactVersion) {
    write_file(dir_.path() / "model" / "w.bin", "weights v1");
    auto build = store_.store_directory(dir_.path() / "model");
    ASSERT_TRUE(build.has_value());
    write_file(root() / "artifacts" / "resnet" / "artifact.json", R"({"name": "resnet"})");
    write_file(root() / "artifacts" / "resnet" / "v1" / "manifest.json",
               manifest_to_json(build->manifest));
    auto r = gc_after(hours(2), false);
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_THAT(r->blobs_removed, IsEmpty());
    EXPECT_EQ(r->blobs_referenced, 1U);
}

TEST_F(MaintenanceTest, GcKeepsBlobsYoungerThanTheGracePeriod) {
    const auto sha = put("just stored");
    auto r = gc_after(hours(0), false);
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_THAT(r->blobs_removed, IsEmpty());
    EXPECT_EQ(r->blobs_young, 1U);
    // A dedup hit refreshes the mtime, so reuse restarts the grace period.
    test_util::set_mtime(blob(sha), 1000);
    put("just stored");
    r = gc_after(hours(0), false);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->blobs_young, 1U);
}

TEST_F(MaintenanceTest, GcKeepsBlobsOfYoungManifestsAndStagedArtifacts) {
    write_file(dir_.path() / "ds" / "a.txt", "young manifest file");
    auto build = store_.store_directory(dir_.path() / "ds");
    ASSERT_TRUE(build.has_value());
    auto manifest = store_.write_manifest("datasets", build->manifest);
    ASSERT_TRUE(manifest.has_value());
    write_file(dir_.path() / "st" / "b.txt", "staged artifact file");
    auto staged = store_.store_directory(dir_.path() / "st");
    write_file(root() / "index" / "staging" / "artifacts" / "u1" / "manifest.json",
               manifest_to_json(staged->manifest));
    // Blobs are old, the manifest and the staging folder are young (R6, R4).
    const auto old = std::chrono::duration_cast<std::chrono::seconds>(
                         (system_clock::now() - hours(3)).time_since_epoch())
                         .count();
    test_util::set_mtime(blob(sha256_hex("young manifest file")), old);
    test_util::set_mtime(blob(sha256_hex("staged artifact file")), old);
    auto r = gc_after(hours(0), false);
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_THAT(r->blobs_removed, IsEmpty());
    EXPECT_THAT(r->manifests_removed, IsEmpty());
    EXPECT_EQ(r->blobs_referenced, 2U);
}

TEST_F(MaintenanceTest, GcGivesUpWhileAWriterHoldsTheLock) {
    put("x");
    auto lease = store_.begin_write();
    ASSERT_TRUE(lease.has_value());
    EXPECT_THAT(gc_after(hours(2), false).error(),
                StatusIs(StatusCode::kUnavailable,
                         "gc: writers are storing blobs (archive/.gc.lock is held); nothing was "
                         "deleted, try again later"));
    lease->reset();
    EXPECT_TRUE(gc_after(hours(2), false).has_value());
}

TEST_F(MaintenanceTest, GcRefusesToSweepWhenAReferrerCannotBeRead) {
    const auto sha = put("maybe referenced");
    const auto run = make_run("p/r1", "{broken");
    EXPECT_THAT(gc_after(hours(2), false).error(),
                StatusIs(StatusCode::kFailedPrecondition,
                         "gc: cannot read '" + (run / "assets.json").string() + "': reading '" +
                             (run / "assets.json").string() +
                             "': not valid JSON: syntax error; nothing was deleted"));
    EXPECT_TRUE(fs::exists(blob(sha)));
}

TEST_F(MaintenanceTest, GcRemovesOldTempFilesAndReportsStrangers) {
    put("x");
    write_file(root() / "archive" / "blobs" / ".tmp-crashed", "partial");
    write_file(root() / "archive" / "blobs" / "README", "not a blob");
    auto young = gc_after(hours(2), false);
    ASSERT_TRUE(young.has_value());
    EXPECT_THAT(young->temp_files_removed, IsEmpty());
    auto r = gc_after(hours(25), false);
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_THAT(r->temp_files_removed, ElementsAre("archive/blobs/.tmp-crashed"));
    EXPECT_THAT(r->unexpected, ElementsAre("archive/blobs/README"));
    EXPECT_TRUE(fs::exists(root() / "archive" / "blobs" / "README"));
}

TEST_F(MaintenanceTest, BytesFreedCountOnlyInodesThatLoseTheirLastLink) {
    const auto sha = put("linked out");
    ASSERT_TRUE(store_.materialize(sha, dir_.path() / "download" / "f", {}).has_value());
    auto r = gc_after(hours(2), false);
    ASSERT_TRUE(r.has_value());
    EXPECT_THAT(r->blobs_removed, ElementsAre(sha));
    EXPECT_EQ(r->bytes_freed, 0U);  // the downloaded hard link keeps the inode
}

TEST_F(MaintenanceTest, FixtureGcRemovesNothing) {
    test_util::copy_tree(fixture, root());
    auto r = gc_after(hours(24 * 365 * 10), true);
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_THAT(r->blobs_removed, IsEmpty());
    EXPECT_THAT(r->manifests_removed, IsEmpty());
    EXPECT_EQ(r->blobs_found, 5U);
    EXPECT_EQ(r->blobs_referenced, 5U);
}

// The v0.6 bug: two runs share a dataset; one is purged; v0.6 deletes the shared blobs.
TEST_F(MaintenanceTest, PurgingOneOfTwoRunsSharingADatasetKeepsTheDataset) {
    test_util::copy_tree(fixture, root());
    const std::string kitchen = "20250115_100000_6cefa5";
    fs::remove_all(root() / "runs" / "cv" / "resnet" / kitchen);
    // What the permanent delete does to the v0.6 index: the run's rows and the assets left
    // without links go.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((root() / "index" / "runicorn.db").c_str(), &db), SQLITE_OK);
    const std::string sql = "DELETE FROM run_assets WHERE run_id = '" + kitchen +
                            "'; DELETE FROM assets WHERE asset_id NOT IN (SELECT asset_id FROM "
                            "run_assets); DELETE FROM runs WHERE run_id = '" +
                            kitchen + "';";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);

    auto r = gc_after(hours(24 * 365 * 10), false);
    ASSERT_TRUE(r.has_value()) << r.error();
    // The code snapshot zip and the pretrained weights were the purged run's alone.
    EXPECT_THAT(r->blobs_removed,
                ElementsAre("0510f528e0325d5ad0572c65fb1b9bc5f9ba1fb5022533011de76998acfd0369",
                            "7459b9682d326abebe87bc5f7ebe5c25ca46b1c94626b775af968c203b12e2d6"));
    EXPECT_THAT(r->manifests_removed, IsEmpty());
    // The dataset the nested run still uses survives, and verifies.
    auto v = store_.verify({});
    ASSERT_TRUE(v.has_value()) << v.error();
    EXPECT_THAT(v->problems, IsEmpty());
    EXPECT_EQ(v->blobs_found, 3U);
    EXPECT_EQ(v->orphans, 0U);
}

// The whole v0.6 scenario: two runs share the dataset manifest; purging the first keeps the
// dataset (above), purging the second as well lets GC remove it.
TEST_F(MaintenanceTest, PurgingBothRunsSharingADatasetFreesItOnlyThen) {
    test_util::copy_tree(fixture, root());
    const auto manifest = root() / "archive" / "manifests" / "datasets" / "05" /
                          "05e6c4742742c720356e14e0a68f12952c958bf52a65d8194e6e746d0514207b.json";
    auto dataset = store_.read_manifest(manifest);
    ASSERT_TRUE(dataset.has_value()) << dataset.error();
    ASSERT_EQ(dataset->files.size(), 3U);
    const auto purge = [&](const std::string& rel_dir, const std::string& run_id) {
        fs::remove_all(root() / rel_dir);
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open((root() / "index" / "runicorn.db").c_str(), &db), SQLITE_OK);
        const std::string sql = "DELETE FROM run_assets WHERE run_id = '" + run_id +
                                "'; DELETE FROM assets WHERE asset_id NOT IN (SELECT asset_id "
                                "FROM run_assets); DELETE FROM runs WHERE run_id = '" +
                                run_id + "';";
        ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
    };

    purge("runs/cv/resnet/20250115_100000_6cefa5", "20250115_100000_6cefa5");
    auto first = gc_after(hours(24 * 365 * 10), false);
    ASSERT_TRUE(first.has_value()) << first.error();
    for (const auto& f : dataset->files) {
        EXPECT_TRUE(fs::exists(blob(f.sha256))) << f.rel << " was deleted with the first run";
    }
    EXPECT_TRUE(fs::exists(manifest));

    purge("runs/cv/yolo/v8/20250115_121500_5faeb7", "20250115_121500_5faeb7");
    auto dry = gc_after(hours(24 * 365 * 10), true);
    ASSERT_TRUE(dry.has_value()) << dry.error();
    EXPECT_EQ(dry->blobs_removed.size(), 3U);
    EXPECT_EQ(dry->bytes_freed, dataset->total_size_bytes + fs::file_size(manifest));
    for (const auto& f : dataset->files) {
        EXPECT_TRUE(fs::exists(blob(f.sha256))) << "a dry run deleted " << f.rel;
    }
    auto second = gc_after(hours(24 * 365 * 10), false);
    ASSERT_TRUE(second.has_value()) << second.error();
    EXPECT_EQ(second->blobs_removed.size(), 3U);
    for (const auto& f : dataset->files) {
        EXPECT_FALSE(fs::exists(blob(f.sha256))) << f.rel << " outlived both runs";
    }
    EXPECT_FALSE(fs::exists(manifest));
    auto v = store_.verify({});
    ASSERT_TRUE(v.has_value()) << v.error();
    EXPECT_THAT(v->problems, IsEmpty());
}

TEST_F(MaintenanceTest, FixtureVerifiesClean) {
    test_util::copy_tree(fixture, root());
    auto v = store_.verify({});
    ASSERT_TRUE(v.has_value()) << v.error();
    EXPECT_THAT(v->problems, IsEmpty());
    EXPECT_EQ(v->blobs_found, 5U);
    EXPECT_EQ(v->blobs_hashed, 5U);
    EXPECT_EQ(v->orphans, 0U);
    EXPECT_GE(v->references_checked, 5U);
}

TEST_F(MaintenanceTest, VerifyFindsEveryKindOfDamage) {
    write_file(dir_.path() / "ds" / "flip.bin", "bit flip target");
    write_file(dir_.path() / "ds" / "trunc.bin", "truncation target");
    write_file(dir_.path() / "ds" / "gone.bin", "deleted target");
    write_file(dir_.path() / "ds" / "link.bin", "symlink target");
    auto build = store_.store_directory(dir_.path() / "ds");
    ASSERT_TRUE(build.has_value());
    auto manifest = store_.write_manifest("datasets", build->manifest);
    ASSERT_TRUE(manifest.has_value());
    make_run("p/r1", manifest_asset(*manifest));
    const auto orphan = put("orphan");
    write_file(root() / "archive" / "blobs" / ".tmp-left", "x");
    // A run whose manifest names "../../etc/passwd" as a blob.
    const auto bad_manifest = root() / "archive" / "manifests" / "datasets" / "ee" / "bad.json";
    write_file(bad_manifest,
               R"({"files": {"p": {"sha256": "../../etc/passwd", "size_bytes": 1}}})");
    make_run("p/r2", manifest_asset(bad_manifest));

    const auto flip = sha256_hex("bit flip target");
    const auto trunc = sha256_hex("truncation target");
    const auto gone = sha256_hex("deleted target");
    const auto link = sha256_hex("symlink target");
    ::chmod(blob(flip).c_str(), 0644);
    write_file(blob(flip), "bit flip targeT");
    ::chmod(blob(trunc).c_str(), 0644);
    write_file(blob(trunc), "truncation");
    fs::remove(blob(gone));
    fs::remove(blob(link));
    fs::create_symlink("/etc/hostname", blob(link));

    auto v = store_.verify({});
    ASSERT_TRUE(v.has_value()) << v.error();
    std::map<std::string, plugin::BlobProblem> by_object;
    for (const auto& p : v->problems) {
        by_object[p.kind + " " + p.object] = p;
    }
    const std::vector<std::string> r1 = {"run runs/p/r1"};
    EXPECT_EQ(by_object.at("corrupt " + flip).referrers, r1);
    EXPECT_EQ(by_object.at("corrupt " + flip).detail,
              "its bytes hash to " + sha256_hex("bit flip targeT"));
    EXPECT_EQ(by_object.at("corrupt " + trunc).referrers, r1);
    EXPECT_EQ(by_object.at("size_mismatch " + trunc).detail, "blob has 10 bytes; 17 recorded");
    EXPECT_EQ(by_object.at("missing " + gone).referrers, r1);
    EXPECT_EQ(by_object.at("not_a_file " + link).referrers, r1);
    EXPECT_EQ(
        by_object.at("bad_manifest " + bad_manifest.string()).detail,
        "reading '" + bad_manifest.string() + "': manifest entry 'p' has no 64-hex \"sha256\"");
    EXPECT_EQ(by_object.at("bad_manifest " + bad_manifest.string()).referrers,
              std::vector<std::string>{"run runs/p/r2"});
    EXPECT_EQ(v->problems.size(), 6U);
    EXPECT_EQ(v->orphans, 1U);
    EXPECT_THAT(v->temp_files, ElementsAre("archive/blobs/.tmp-left"));
    EXPECT_TRUE(fs::exists(blob(orphan)));

    // --repair moves the damaged blobs aside; the next verify reports them missing.
    auto repaired = store_.verify({.repair = true});
    ASSERT_TRUE(repaired.has_value());
    EXPECT_TRUE(by_object.at("corrupt " + flip).quarantined == false);
    int quarantined = 0;
    for (const auto& p : repaired->problems) {
        quarantined += p.quarantined ? 1 : 0;
    }
    EXPECT_EQ(quarantined, 3);  // flip, trunc, the symlink
    EXPECT_FALSE(fs::exists(blob(flip)));
    EXPECT_FALSE(fs::is_symlink(blob(link)));
    EXPECT_EQ(std::distance(fs::directory_iterator(root() / "archive" / "quarantine"),
                            fs::directory_iterator()),
              3);
}

TEST_F(MaintenanceTest, VerifySampleHashesOnlyNBlobs) {
    for (int i = 0; i < 5; ++i) {
        put("blob " + std::to_string(i));
    }
    auto v = store_.verify({.sample = 2, .seed = 7});
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->blobs_found, 5U);
    EXPECT_EQ(v->blobs_hashed, 2U);
}

TEST_F(MaintenanceTest, UsageCountsBytesSavedByDedup) {
    write_file(dir_.path() / "ds" / "a.txt", "0123456789");
    auto build = store_.store_directory(dir_.path() / "ds");
    auto manifest = store_.write_manifest("datasets", build->manifest);
    ASSERT_TRUE(manifest.has_value());
    // Two runs name the dataset, a third stores the same bytes as a pretrained file.
    make_run("p/r1", manifest_asset(*manifest));
    make_run("p/r2", manifest_asset(*manifest));
    make_run("p/r3", blob_asset(sha256_hex("0123456789")));
    auto u = store_.usage();
    ASSERT_TRUE(u.has_value()) << u.error();
    EXPECT_EQ(u->blobs.blob_count, 1U);
    EXPECT_EQ(u->blobs.bytes_stored, 10U);
    EXPECT_EQ(u->references, 3U);
    EXPECT_EQ(u->bytes_referenced, 30U);
    EXPECT_EQ(u->bytes_saved_by_dedup, 20U);
    EXPECT_EQ(u->bytes_referenced_by_runs, 30U);
    EXPECT_EQ(u->bytes_referenced_by_artifacts, 0U);
    EXPECT_EQ(u->unreferenced_count, 0U);
    EXPECT_EQ(u->hardlinked_copies, 0U);

    // An orphan, an artifact version naming the dataset's blob, and a hard-linked download.
    const auto orphan = put("orphan!");
    write_file(root() / "artifacts" / "m" / "v1" / "manifest.json",
               R"({"files": {"a.txt": {"sha256": ")" + sha256_hex("0123456789") +
                   R"(", "size_bytes": 10}}})");
    ASSERT_TRUE(store_.materialize(orphan, dir_.path() / "dl" / "o", {}).has_value());
    u = store_.usage();
    ASSERT_TRUE(u.has_value()) << u.error();
    EXPECT_EQ(u->unreferenced_count, 1U);
    EXPECT_EQ(u->unreferenced_bytes, 7U);
    EXPECT_EQ(u->hardlinked_copies, 1U);
    EXPECT_EQ(u->bytes_referenced_by_artifacts, 10U);
    EXPECT_EQ(u->bytes_referenced, 40U);
    EXPECT_EQ(u->bytes_saved_by_dedup, 30U);
}

}  // namespace
}  // namespace runicorn::dedup
