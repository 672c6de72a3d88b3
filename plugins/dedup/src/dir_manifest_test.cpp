#include "dir_manifest.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/testing/status_matchers.hpp>
#include <runicorn/testing/temp_dir.hpp>

#include "blob_layout.hpp"
#include "dedup_test_util.hpp"
#include "hardlink_blob_store.hpp"
#include "sha256.hpp"
#include "tolerant_json.hpp"
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::dedup {
namespace {

namespace fs = std::filesystem;
using runicorn::testing::IsOkAndHolds;
using runicorn::testing::StatusIs;
using runicorn::testing::TempDir;
using test_util::slurp;
using test_util::write_file;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const fs::path fixture = fs::path(RUNICORN_FIXTURE_DIR) / "store";
const std::string vector_fp = "f104b706af00c73ca29b4868aafb9036e55671c7f46c72a926ae15c67256b684";
const std::string train_sha = "492d5ea496056f1a6a6592241032fab764c321596317930b4fa0e1e8bc3b7470";
const std::string labels_sha = "175cc6f362b2f75acd08a373e000144fdb8d14a833d4b70fd743f16a7039103f";

TEST(DirManifestTest, FingerprintMatchesTheFormatTestVector) {
    std::vector<plugin::ManifestFile> files = {{"train.csv", train_sha, 8, false},
                                               {"labels/y.txt", labels_sha, 4, false}};
    EXPECT_EQ(manifest_fingerprint(files), vector_fp);
    std::swap(files[0], files[1]);
    EXPECT_EQ(manifest_fingerprint(files), vector_fp);
    EXPECT_EQ(sha256_hex("a,b\n1,2\n"), train_sha);
    EXPECT_EQ(sha256_hex("cat\n"), labels_sha);
}

TEST(DirManifestTest, EmptyDirectoryFingerprint) {
    EXPECT_EQ(manifest_fingerprint({}),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(DirManifestTest, FixtureManifestFingerprintRecomputesFromItsFiles) {
    const auto path = fixture / "archive" / "manifests" / "datasets" / "05" /
                      "05e6c4742742c720356e14e0a68f12952c958bf52a65d8194e6e746d0514207b.json";
    auto v = read_json_file(path);
    ASSERT_TRUE(v.has_value()) << v.error();
    auto m = manifest_from_json(*v);
    ASSERT_TRUE(m.has_value()) << m.error();
    EXPECT_EQ(m->fingerprint, "05e6c4742742c720356e14e0a68f12952c958bf52a65d8194e6e746d0514207b");
    EXPECT_EQ(manifest_fingerprint(m->files), m->fingerprint);
    EXPECT_EQ(m->file_count, 3U);
    EXPECT_EQ(m->total_size_bytes, 84U);
    EXPECT_EQ(m->source_path, "/tmp/runicorn-fixture/ws/data/ds1");
    // The fixture's blobs hash to their names.
    for (const auto& f : m->files) {
        EXPECT_THAT(sha256_file(*blob_path(fixture, f.sha256)), IsOkAndHolds(f.sha256)) << f.rel;
    }
}

TEST(DirManifestTest, RejectsUnsafePathsAndIds) {
    const auto parse = [](std::string_view text) {
        return manifest_from_json(*parse_tolerant_json(text));
    };
    const std::string sha(64, 'a');
    EXPECT_THAT(
        parse(R"({"files": {"../x": {"sha256": ")" + sha + R"(", "size_bytes": 1}}})").error(),
        StatusIs(StatusCode::kInvalidArgument,
                 "unsafe manifest path '../x': has an empty, '.' or '..' component"));
    EXPECT_THAT(
        parse(R"({"files": {"/etc/passwd": {"sha256": ")" + sha + R"(", "size_bytes": 1}}})")
            .error(),
        StatusIs(StatusCode::kInvalidArgument, "unsafe manifest path '/etc/passwd': absolute"));
    EXPECT_THAT(
        parse(R"({"files": {"a": {"sha256": "../../etc/passwd", "size_bytes": 1}}})").error(),
        StatusIs(StatusCode::kInvalidArgument, "manifest entry 'a' has no 64-hex \"sha256\""));
    EXPECT_THAT(
        parse(R"({"files": {"a": {"sha256": ")" + sha + R"(", "size_bytes": -1}}})").error(),
        StatusIs(StatusCode::kInvalidArgument,
                 "manifest entry 'a' \"size_bytes\" is not a non-negative integer"));
    EXPECT_THAT(parse(R"({"files": []})").error(),
                StatusIs(StatusCode::kInvalidArgument, "a manifest's \"files\" is an object"));
}

class StoreDirectoryTest : public ::testing::Test {
protected:
    fs::path root() const { return dir_.path() / "store"; }
    fs::path ds() const { return dir_.path() / "ds"; }

    TempDir dir_;
    HardlinkBlobStore store_{dir_.path() / "store"};
};

TEST_F(StoreDirectoryTest, StoresTheTestVectorDirectory) {
    write_file(ds() / "train.csv", "a,b\n1,2\n");
    write_file(ds() / "labels" / "y.txt", "cat\n");
    auto build = store_.store_directory(ds());
    ASSERT_TRUE(build.has_value()) << build.error();
    const auto& m = build->manifest;
    EXPECT_EQ(m.fingerprint, vector_fp);
    EXPECT_EQ(m.file_count, 2U);
    EXPECT_EQ(m.total_size_bytes, 12U);
    EXPECT_EQ(m.source_path, ds().string());
    ASSERT_EQ(m.files.size(), 2U);
    EXPECT_EQ(m.files[0].rel, "labels/y.txt");
    EXPECT_EQ(m.files[0].sha256, labels_sha);
    EXPECT_EQ(m.files[1].rel, "train.csv");
    EXPECT_TRUE(build->warnings.empty());
    EXPECT_THAT(store_.contains(train_sha), IsOkAndHolds(true));
    // Storing it again costs nothing new.
    auto again = store_.store_directory(ds());
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->bytes_deduplicated, 12U);
}

TEST_F(StoreDirectoryTest, WalkFollowsFileSymlinksOnlyAndSkipsSpecialFiles) {
    write_file(ds() / "a.txt", "a");
    write_file(dir_.path() / "outside" / "b.txt", "b");
    write_file(dir_.path() / "outside_dir" / "c.txt", "c");
    fs::create_symlink(dir_.path() / "outside" / "b.txt", ds() / "link.txt");
    fs::create_symlink(dir_.path() / "outside_dir", ds() / "linked_dir");
    fs::create_symlink(dir_.path() / "nowhere", ds() / "dangling");
    ASSERT_EQ(::mkfifo((ds() / "fifo").c_str(), 0600), 0);
    ::chmod((ds() / "a.txt").c_str(), 0755);
    auto build = store_.store_directory(ds());
    ASSERT_TRUE(build.has_value()) << build.error();
    std::vector<std::string> rels;
    for (const auto& f : build->manifest.files) {
        rels.push_back(f.rel);
    }
    EXPECT_THAT(rels, ElementsAre("a.txt", "link.txt"));
    EXPECT_TRUE(build->manifest.files[0].executable);
    EXPECT_FALSE(build->manifest.files[1].executable);
    EXPECT_EQ(build->manifest.files[1].sha256, sha256_hex("b"));
    EXPECT_THAT(
        build->warnings,
        ::testing::UnorderedElementsAre(
            "skipped dangling symlink '" + (ds() / "dangling").string() + "'",
            "skipped special file '" + (ds() / "fifo").string() + "' (not a regular file)"));
}

TEST_F(StoreDirectoryTest, UnreadableFilesAreSkippedWithAWarning) {
    if (::geteuid() == 0) {
        GTEST_SKIP() << "running as root: a mode-000 file is still readable";
    }
    write_file(ds() / "a.txt", "a");
    write_file(ds() / "secret.txt", "s");
    ::chmod((ds() / "secret.txt").c_str(), 0);
    auto build = store_.store_directory(ds());
    ASSERT_TRUE(build.has_value()) << build.error();
    EXPECT_EQ(build->manifest.file_count, 1U);
    ASSERT_EQ(build->warnings.size(), 1U);
    EXPECT_THAT(build->warnings[0], HasSubstr("skipped unreadable file"));
}

TEST_F(StoreDirectoryTest, MissingDirectoryIsNotFound) {
    EXPECT_THAT(
        store_.store_directory(ds()).error(),
        StatusIs(StatusCode::kNotFound, "directory '" + ds().string() + "' does not exist"));
}

TEST_F(StoreDirectoryTest, WritesTheManifestOnceInV06Shape) {
    write_file(ds() / "train.csv", "a,b\n1,2\n");
    write_file(ds() / "labels" / "y.txt", "cat\n");
    auto build = store_.store_directory(ds());
    ASSERT_TRUE(build.has_value());
    auto m = build->manifest;
    m.created_at = 1795674136.246;
    m.source_path = "/home/user/data/ds";
    auto path = store_.write_manifest("datasets", m);
    ASSERT_TRUE(path.has_value()) << path.error();
    EXPECT_EQ(*path, root() / "archive" / "manifests" / "datasets" / "f1" / (vector_fp + ".json"));
    EXPECT_EQ(slurp(*path), R"({
  "created_at": 1795674136.246,
  "source_path": "/home/user/data/ds",
  "fingerprint": "f104b706af00c73ca29b4868aafb9036e55671c7f46c72a926ae15c67256b684",
  "total_size_bytes": 12,
  "file_count": 2,
  "files": {
    "labels/y.txt": {
      "sha256": "175cc6f362b2f75acd08a373e000144fdb8d14a833d4b70fd743f16a7039103f",
      "size_bytes": 4
    },
    "train.csv": {
      "sha256": "492d5ea496056f1a6a6592241032fab764c321596317930b4fa0e1e8bc3b7470",
      "size_bytes": 8
    }
  }
}
)");
    // Written once: a second write leaves the file as it was.
    m.created_at = 1.0;
    EXPECT_THAT(store_.write_manifest("datasets", m), IsOkAndHolds(*path));
    EXPECT_THAT(slurp(*path), HasSubstr("1795674136.246"));
    auto back = store_.read_manifest(*path);
    ASSERT_TRUE(back.has_value()) << back.error();
    EXPECT_EQ(back->fingerprint, vector_fp);
    EXPECT_EQ(back->files.size(), 2U);
}

TEST_F(StoreDirectoryTest, WriteManifestRejectsAWrongFingerprintAndBadCategory) {
    plugin::DirManifest m;
    m.files = {{"a", train_sha, 8, false}};
    m.fingerprint = vector_fp;
    EXPECT_THAT(store_.write_manifest("datasets", m).error(),
                StatusIs(StatusCode::kInvalidArgument,
                         HasSubstr("manifest fingerprint " + vector_fp + " does not match")));
    finalize_manifest(m);
    EXPECT_THAT(store_.write_manifest("../x", m).error(),
                StatusIs(StatusCode::kInvalidArgument, "'../x' is not a manifest category"));
}

TEST_F(StoreDirectoryTest, RestoreMakesWritableCopiesWithExecuteBits) {
    write_file(ds() / "run.sh", "#!/bin/sh\n");
    write_file(ds() / "sub" / "data.txt", "data");
    ::chmod((ds() / "run.sh").c_str(), 0755);
    auto build = store_.store_directory(ds());
    ASSERT_TRUE(build.has_value());
    const auto out = dir_.path() / "restored";
    ASSERT_OK(store_.restore_manifest(build->manifest, out, {.link = false}));
    EXPECT_EQ(slurp(out / "run.sh"), "#!/bin/sh\n");
    EXPECT_EQ(slurp(out / "sub" / "data.txt"), "data");
    EXPECT_NE(test_util::lstat_of(out / "run.sh").st_mode & 0100, 0U);
    EXPECT_EQ(test_util::lstat_of(out / "sub" / "data.txt").st_mode & 0111, 0U);
    EXPECT_NE(test_util::lstat_of(out / "sub" / "data.txt").st_mode & 0200, 0U);
}

TEST_F(StoreDirectoryTest, RestoreRefusesTraversalBeforeWritingAnything) {
    plugin::DirManifest m;
    m.files = {{"ok.txt", train_sha, 8, false}, {"../escape.txt", train_sha, 8, false}};
    EXPECT_THAT(store_.restore_manifest(m, dir_.path() / "restored", {.link = false}),
                StatusIs(StatusCode::kInvalidArgument,
                         "unsafe manifest path '../escape.txt': has an empty, '.' or '..' "
                         "component"));
    EXPECT_FALSE(fs::exists(dir_.path() / "restored"));
    EXPECT_FALSE(fs::exists(dir_.path() / "escape.txt"));
}

}  // namespace
}  // namespace runicorn::dedup
