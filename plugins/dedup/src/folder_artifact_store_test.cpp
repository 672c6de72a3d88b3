#include "folder_artifact_store.hpp"

#include <thread>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/testing/status_matchers.hpp>
#include <runicorn/testing/temp_dir.hpp>

#include "dedup_test_util.hpp"
#include "hardlink_blob_store.hpp"
#include "sha256.hpp"
#include "tolerant_json.hpp"
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace runicorn::plugin {
// Printers for the matchers' failure messages.
std::ostream& operator<<(std::ostream& os, const ArtifactVersionInfo& v) {
    return os << v.name << ":v" << v.version;
}
std::ostream& operator<<(std::ostream& os, const ArtifactInfo& a) { return os << a.name; }
std::ostream& operator<<(std::ostream& os, const VersionDeletion& d) {
    return os << "deleted v" << d.deleted_version;
}
std::ostream& operator<<(std::ostream& os, const ArtifactDownloadResult& d) {
    return os << d.files << " files";
}
std::ostream& operator<<(std::ostream& os, const AliasChange& c) {
    return os << c.alias << " -> v" << c.version;
}
}  // namespace runicorn::plugin

namespace runicorn::dedup {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using plugin::ArtifactSaveRequest;
using runicorn::testing::StatusIs;
using runicorn::testing::TempDir;
using test_util::slurp;
using test_util::write_file;
using ::testing::_;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

/// The error of a Result, or OK (StatusIs matches a Status).
template <class T>
Status err(const Result<T>& r) {
    return r.has_value() ? Status::ok() : r.error();
}
Status err(Status s) { return s; }

class FolderArtifactStoreTest : public ::testing::Test {
protected:
    fs::path root() const { return dir_.path() / "store"; }
    fs::path src(const std::string& name) const { return dir_.path() / "src" / name; }

    ArtifactSaveRequest request(const std::string& name, const std::string& file_content,
                                std::vector<std::string> aliases = {}) {
        const auto file = src(name + "-" + sha256_hex(file_content).substr(0, 8) + ".bin");
        write_file(file, file_content);
        ArtifactSaveRequest r;
        r.name = name;
        r.type = "model";
        r.description = "weights";
        r.metadata = {{"acc", 0.81}};
        r.sources.push_back({file, "model.pth"});
        r.aliases = std::move(aliases);
        return r;
    }

    // A run folder runs/<rel> with meta.json and status.json; returns its root-relative path.
    std::string make_run(const std::string& rel, const std::string& status = "finished") {
        const auto run = root() / "runs" / rel;
        write_file(run / "meta.json", R"({"path": "cv/resnet"})");
        write_file(run / "status.json", R"({"status": ")" + status + R"("})");
        return "runs/" + rel;
    }

    TempDir dir_;
    std::shared_ptr<HardlinkBlobStore> blobs_ = std::make_shared<HardlinkBlobStore>(root());
    FolderArtifactStore store_{root(), blobs_};
};

TEST_F(FolderArtifactStoreTest, SaveAllocatesV1ThenV2AndWritesTheFormat) {
    auto v1 = store_.save(request("resnet", "one"));
    ASSERT_TRUE(v1.has_value()) << v1.error();
    EXPECT_EQ(v1->version, 1);
    EXPECT_FALSE(v1->deduplicated);
    EXPECT_TRUE(v1->latest);
    EXPECT_EQ(v1->file_count, 1U);
    EXPECT_EQ(v1->total_size_bytes, 3U);
    auto v2 = store_.save(request("resnet", "two!"));
    ASSERT_TRUE(v2.has_value()) << v2.error();
    EXPECT_EQ(v2->version, 2);

    const auto dir = root() / "artifacts" / "resnet";
    auto artifact = read_json_file(dir / "artifact.json");
    ASSERT_TRUE(artifact.has_value());
    EXPECT_EQ(artifact->at("last_version").as_int64(), 2);
    EXPECT_EQ(artifact->at("type").as_string(), "model");
    EXPECT_EQ(artifact->at("format_version").as_int64(), 1);
    auto version = read_json_file(dir / "v2" / "version.json");
    ASSERT_TRUE(version.has_value());
    EXPECT_EQ(version->at("version").as_int64(), 2);
    EXPECT_EQ(version->at("digest").as_string(), v2->digest);
    EXPECT_TRUE(version->at("produced_by").is_null());
    auto m = blobs_->read_manifest(dir / "v2" / "manifest.json");
    ASSERT_TRUE(m.has_value()) << m.error();
    EXPECT_EQ(m->fingerprint, v2->digest);
    ASSERT_EQ(m->files.size(), 1U);
    EXPECT_EQ(m->files[0].rel, "model.pth");
    EXPECT_EQ(m->files[0].sha256, sha256_hex("two!"));
    // No runs/ child (v0.6's legacy scanner) and no staging leftovers.
    EXPECT_FALSE(fs::exists(dir / "runs"));
    EXPECT_TRUE(fs::is_empty(root() / "index" / "staging" / "artifacts"));
}

TEST_F(FolderArtifactStoreTest, IdenticalContentReusesTheLatestVersion) {
    ASSERT_TRUE(store_.save(request("ds", "same")).has_value());
    auto again = store_.save(request("ds", "same", {"best"}));
    ASSERT_TRUE(again.has_value()) << again.error();
    EXPECT_EQ(again->version, 1);
    EXPECT_TRUE(again->deduplicated);
    EXPECT_THAT(again->aliases, ElementsAre("best"));
    EXPECT_TRUE(fs::is_empty(root() / "index" / "staging" / "artifacts"));
}

TEST_F(FolderArtifactStoreTest, DirectoriesAndFilesMapUnderTheirNames) {
    write_file(src("tok/vocab.txt"), "a b c");
    write_file(src("tok/sub/merges.txt"), "ab");
    auto r = request("bert", "weights");
    r.sources.push_back({src("tok"), "tokenizer"});
    auto v = store_.save(r);
    ASSERT_TRUE(v.has_value()) << v.error();
    auto files = store_.files("bert", v->version);
    ASSERT_TRUE(files.has_value()) << files.error();
    ASSERT_EQ(files->size(), 3U);
    EXPECT_EQ((*files)[0].path, "model.pth");
    EXPECT_EQ((*files)[1].path, "tokenizer/sub/merges.txt");
    EXPECT_EQ((*files)[2].path, "tokenizer/vocab.txt");
    EXPECT_EQ((*files)[2].sha256, sha256_hex("a b c"));
}

TEST_F(FolderArtifactStoreTest, SaveRefusesBadInput) {
    auto r = request("x", "data");
    r.name = "../evil";
    EXPECT_THAT(err(store_.save(r)), StatusIs(StatusCode::kInvalidArgument, HasSubstr("../evil")));
    r = request("x", "data");
    r.type = "bad type";
    EXPECT_THAT(err(store_.save(r)), StatusIs(StatusCode::kInvalidArgument, HasSubstr("bad type")));
    r = request("x", "data", {"latest"});
    EXPECT_THAT(err(store_.save(r)), StatusIs(StatusCode::kInvalidArgument, HasSubstr("reserved")));
    r = request("x", "data", {"v7"});
    EXPECT_THAT(err(store_.save(r)), StatusIs(StatusCode::kInvalidArgument, HasSubstr("reserved")));
    r = request("x", "data");
    r.sources.push_back({src("missing.bin"), ""});
    EXPECT_THAT(err(store_.save(r)), StatusIs(StatusCode::kNotFound, HasSubstr("missing.bin")));
    r = request("x", "data");
    r.sources.push_back(r.sources[0]);
    EXPECT_THAT(err(store_.save(r)),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("model.pth")));
    r = request("x", "data");
    r.sources[0].name = "../outside.pth";
    EXPECT_THAT(err(store_.save(r)), StatusIs(StatusCode::kInvalidArgument, _));
    r = request("x", "data");
    r.sources.clear();
    EXPECT_THAT(err(store_.save(r)), StatusIs(StatusCode::kInvalidArgument, HasSubstr("no files")));
    // A name's type is fixed by its first version.
    ASSERT_TRUE(store_.save(request("x", "data")).has_value());
    r = request("x", "other");
    r.type = "dataset";
    EXPECT_THAT(err(store_.save(r)),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("has type 'model'")));
    // Nothing was published by the failures.
    auto versions = store_.versions("x");
    ASSERT_TRUE(versions.has_value());
    EXPECT_EQ(versions->size(), 1U);
}

TEST_F(FolderArtifactStoreTest, ResolvesNameLatestVersionAndAlias) {
    ASSERT_TRUE(store_.save(request("m", "1", {"production"})).has_value());
    ASSERT_TRUE(store_.save(request("m", "22")).has_value());
    ASSERT_TRUE(store_.save(request("m", "333")).has_value());
    EXPECT_EQ(store_.resolve("m")->version, 3);
    EXPECT_EQ(store_.resolve("m:latest")->version, 3);
    EXPECT_EQ(store_.resolve("m:v2")->version, 2);
    EXPECT_EQ(store_.resolve("m:production")->version, 1);
    EXPECT_THAT(err(store_.resolve("m:v9")),
                StatusIs(StatusCode::kNotFound, HasSubstr("version 'm:v9' not found")));
    EXPECT_THAT(err(store_.resolve("m:staging")), StatusIs(StatusCode::kNotFound, _));
    EXPECT_THAT(err(store_.resolve("nope")),
                StatusIs(StatusCode::kNotFound, HasSubstr("artifact 'nope' not found")));
    EXPECT_THAT(err(store_.resolve("m:")), StatusIs(StatusCode::kInvalidArgument, _));
    EXPECT_THAT(err(store_.resolve("m:bad/ref")), StatusIs(StatusCode::kInvalidArgument, _));
    EXPECT_THAT(err(store_.resolve("../m")), StatusIs(StatusCode::kInvalidArgument, _));
    auto versions = store_.versions("m");
    ASSERT_TRUE(versions.has_value());
    ASSERT_EQ(versions->size(), 3U);
    EXPECT_EQ((*versions)[0].version, 3);  // newest first
    EXPECT_TRUE((*versions)[0].latest);
    EXPECT_THAT((*versions)[2].aliases, ElementsAre("production"));
}

TEST_F(FolderArtifactStoreTest, AliasesMoveAndAreRemoved) {
    ASSERT_TRUE(store_.save(request("m", "1")).has_value());
    ASSERT_TRUE(store_.save(request("m", "22")).has_value());
    auto set = store_.set_alias("m", "production", 1);
    ASSERT_TRUE(set.has_value()) << set.error();
    EXPECT_FALSE(set->previous_version.has_value());
    auto moved = store_.set_alias("m", "production", 2);
    ASSERT_TRUE(moved.has_value());
    EXPECT_EQ(moved->previous_version, 1);
    EXPECT_EQ(store_.resolve("m:production")->version, 2);
    auto info = store_.info("m");
    ASSERT_TRUE(info.has_value());
    ASSERT_EQ(info->aliases.size(), 1U);  // one version per alias
    EXPECT_EQ(info->aliases[0].second, 2);
    EXPECT_THAT(err(store_.set_alias("m", "latest", 1)), StatusIs(StatusCode::kInvalidArgument, _));
    EXPECT_THAT(err(store_.set_alias("m", "v1", 1)), StatusIs(StatusCode::kInvalidArgument, _));
    EXPECT_THAT(err(store_.set_alias("m", "best", 7)), StatusIs(StatusCode::kNotFound, _));
    EXPECT_OK(store_.remove_alias("m", "production"));
    EXPECT_THAT(err(store_.remove_alias("m", "production")),
                StatusIs(StatusCode::kNotFound, HasSubstr("is not set")));
    EXPECT_THAT(err(store_.resolve("m:production")), StatusIs(StatusCode::kNotFound, _));
}

TEST_F(FolderArtifactStoreTest, DeleteRefusesAliasedVersionsUnlessForcedAndNeverReusesNumbers) {
    ASSERT_TRUE(store_.save(request("m", "1", {"production"})).has_value());
    ASSERT_TRUE(store_.save(request("m", "22")).has_value());
    EXPECT_THAT(err(store_.delete_version("m", 1, false)),
                StatusIs(StatusCode::kFailedPrecondition, HasSubstr("production")));
    EXPECT_TRUE(fs::exists(root() / "artifacts" / "m" / "v1"));
    auto forced = store_.delete_version("m", 1, true);
    ASSERT_TRUE(forced.has_value()) << forced.error();
    EXPECT_THAT(forced->removed_aliases, ElementsAre("production"));
    EXPECT_FALSE(fs::exists(root() / "artifacts" / "m" / "v1"));
    // Deleting the latest version makes the previous one latest; numbers only grow.
    ASSERT_TRUE(store_.delete_version("m", 2, false).has_value());
    EXPECT_THAT(err(store_.resolve("m")), StatusIs(StatusCode::kNotFound, _));
    auto v3 = store_.save(request("m", "333"));
    ASSERT_TRUE(v3.has_value());
    EXPECT_EQ(v3->version, 3);
    EXPECT_THAT(err(store_.delete_version("m", 2, false)), StatusIs(StatusCode::kNotFound, _));
    EXPECT_TRUE(fs::is_empty(root() / "index" / "staging" / "artifacts"));
}

TEST_F(FolderArtifactStoreTest, LineageJoinsProducerAndUsers) {
    const auto producer = make_run("cv/resnet/20250115_100000_aaaaaa");
    const auto user = make_run("cv/resnet/20250115_110000_bbbbbb", "running");
    auto r = request("m", "weights", {"production"});
    r.produced_by = plugin::ArtifactRunRef{"20250115_100000_aaaaaa", "cv/resnet", producer, "vm"};
    auto v = store_.save(r);
    ASSERT_TRUE(v.has_value()) << v.error();
    ASSERT_TRUE(v->produced_by.has_value());
    EXPECT_EQ(v->produced_by->run_dir, producer);

    auto used = store_.use("m:production", user);
    ASSERT_TRUE(used.has_value()) << used.error();
    EXPECT_EQ(used->version, 1);
    // A read-only resolve records nothing.
    ASSERT_TRUE(store_.use("m", "").has_value());

    auto logged = read_json_file(root() / producer / "artifacts.json");
    ASSERT_TRUE(logged.has_value());
    EXPECT_EQ(logged->at("logged").as_array().size(), 1U);
    EXPECT_EQ(logged->at("logged").at(0).at("version").as_int64(), 1);
    auto uses = read_json_file(root() / user / "artifacts.json");
    ASSERT_TRUE(uses.has_value());
    EXPECT_EQ(uses->at("used").at(0).at("requested").as_string(), "m:production");

    auto lineage = store_.lineage("m", 1);
    ASSERT_TRUE(lineage.has_value()) << lineage.error();
    ASSERT_TRUE(lineage->produced_by.has_value());
    EXPECT_EQ(lineage->produced_by->run_id, "20250115_100000_aaaaaa");
    EXPECT_EQ(lineage->produced_by_status, "finished");
    ASSERT_EQ(lineage->used_by.size(), 1U);
    EXPECT_EQ(lineage->used_by[0].run_id, "20250115_110000_bbbbbb");
    EXPECT_EQ(lineage->used_by[0].status, "running");
    EXPECT_EQ(lineage->used_by[0].requested, "m:production");
    EXPECT_GT(lineage->used_by[0].used_at, 0);

    EXPECT_THAT(err(store_.use("m", "runs/missing")), StatusIs(StatusCode::kNotFound, _));
    EXPECT_THAT(err(store_.use("m", "../outside")), StatusIs(StatusCode::kInvalidArgument, _));
}

TEST_F(FolderArtifactStoreTest, DownloadHardLinksAndRefusesOtherContent) {
    write_file(src("d/a.txt"), "alpha");
    write_file(src("d/b/c.txt"), "gamma");
    ArtifactSaveRequest r;
    r.name = "data";
    r.type = "dataset";
    r.sources.push_back({src("d"), ""});
    auto v = store_.save(r);
    ASSERT_TRUE(v.has_value()) << v.error();
    const auto dest = dir_.path() / "out";
    auto d = store_.download("data", 1, dest, {});
    ASSERT_TRUE(d.has_value()) << d.error();
    EXPECT_EQ(d->files, 2U);
    EXPECT_EQ(d->hardlinks, 2U);
    EXPECT_EQ(slurp(dest / "b" / "c.txt"), "gamma");
    EXPECT_EQ(test_util::lstat_of(dest / "a.txt").st_nlink, 2U);
    // Again: identical files are left as they are.
    auto again = store_.download("data", 1, dest, {});
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->unchanged, 2U);
    // Other content is refused unless overwriting.
    fs::remove(dest / "a.txt");
    write_file(dest / "a.txt", "changed");
    EXPECT_THAT(err(store_.download("data", 1, dest, {})),
                StatusIs(StatusCode::kAlreadyExists, HasSubstr("a.txt")));
    plugin::ArtifactDownloadOptions overwrite;
    overwrite.overwrite = true;
    overwrite.link = false;
    auto replaced = store_.download("data", 1, dest, overwrite);
    ASSERT_TRUE(replaced.has_value()) << replaced.error();
    EXPECT_EQ(slurp(dest / "a.txt"), "alpha");
    // A destination that cannot be created.
    write_file(dir_.path() / "plainfile", "x");
    EXPECT_FALSE(store_.download("data", 1, dir_.path() / "plainfile" / "sub", {}).has_value());
    EXPECT_THAT(err(store_.download("data", 9, dest, {})), StatusIs(StatusCode::kNotFound, _));
}

TEST_F(FolderArtifactStoreTest, ListShowsEveryArtifactWithItsAliases) {
    ASSERT_TRUE(store_.save(request("b", "1", {"best"})).has_value());
    ASSERT_TRUE(store_.save(request("a", "22")).has_value());
    ASSERT_TRUE(store_.save(request("a", "333")).has_value());
    fs::create_directories(root() / "artifacts" / "not-an-artifact");  // no artifact.json
    auto list = store_.list();
    ASSERT_TRUE(list.has_value());
    ASSERT_EQ(list->size(), 2U);
    EXPECT_EQ((*list)[0].name, "a");
    EXPECT_EQ((*list)[0].latest_version, 2);
    EXPECT_EQ((*list)[0].version_count, 2U);
    EXPECT_EQ((*list)[0].total_size_bytes, 5U);
    EXPECT_EQ((*list)[1].aliases, (std::vector<std::pair<std::string, int>>{{"best", 1}}));
    EXPECT_THAT(err(store_.info("not-an-artifact")), StatusIs(StatusCode::kNotFound, _));
}

// Artifact versions are GC roots (FORMAT.md §7.7 R3) until they are deleted.
TEST_F(FolderArtifactStoreTest, GcKeepsVersionBlobsUntilTheVersionIsDeleted) {
    ASSERT_TRUE(store_.save(request("m", "version one")).has_value());
    ASSERT_TRUE(store_.save(request("m", "version two")).has_value());
    plugin::GcOptions gc;
    gc.dry_run = false;
    gc.now = std::chrono::system_clock::now() + std::chrono::hours(24 * 365);
    auto kept = blobs_->gc(gc);
    ASSERT_TRUE(kept.has_value()) << kept.error();
    EXPECT_THAT(kept->blobs_removed, IsEmpty());
    EXPECT_EQ(kept->blobs_referenced, 2U);

    ASSERT_TRUE(store_.delete_version("m", 1, false).has_value());
    // While a writer holds a lease, GC deletes nothing.
    {
        auto lease = blobs_->begin_write();
        ASSERT_TRUE(lease.has_value());
        EXPECT_THAT(err(blobs_->gc(gc)), StatusIs(StatusCode::kUnavailable, _));
        EXPECT_TRUE(fs::exists(*blobs_->blob_path(sha256_hex("version one"))));
    }
    auto swept = blobs_->gc(gc);
    ASSERT_TRUE(swept.has_value()) << swept.error();
    EXPECT_THAT(swept->blobs_removed, ElementsAre(sha256_hex("version one")));
    EXPECT_TRUE(fs::exists(*blobs_->blob_path(sha256_hex("version two"))));
    auto files = store_.download("m", 2, dir_.path() / "dl", {});
    ASSERT_TRUE(files.has_value()) << files.error();
}

TEST_F(FolderArtifactStoreTest, ParallelThreadsNeverShareAVersionNumber) {
    constexpr int kThreads = 8;
    std::vector<ArtifactSaveRequest> requests;
    for (int i = 0; i < kThreads; ++i) {
        requests.push_back(request("shared", "content " + std::to_string(i)));
    }
    std::vector<int> got(kThreads, 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            auto v = store_.save(requests[static_cast<std::size_t>(i)]);
            got[static_cast<std::size_t>(i)] = v.has_value() ? v->version : -1;
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    std::sort(got.begin(), got.end());
    EXPECT_THAT(got, ElementsAre(1, 2, 3, 4, 5, 6, 7, 8));
}

TEST_F(FolderArtifactStoreTest, TwoProcessesSavingAtOnceGetDistinctVersions) {
    constexpr int kPerProcess = 10;
    // Each child saves kPerProcess versions with distinct content; the gate starts them together.
    int gate[2];
    ASSERT_EQ(::pipe(gate), 0);
    std::vector<pid_t> children;
    for (int p = 0; p < 2; ++p) {
        for (int i = 0; i < kPerProcess; ++i) {
            write_file(src("p" + std::to_string(p) + "-" + std::to_string(i)),
                       "process " + std::to_string(p) + " save " + std::to_string(i));
        }
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(gate[1]);
            char c = 0;
            (void)::read(gate[0], &c, 1);
            auto blobs = std::make_shared<HardlinkBlobStore>(root());
            FolderArtifactStore store(root(), blobs);
            int failures = 0;
            for (int i = 0; i < kPerProcess; ++i) {
                ArtifactSaveRequest r;
                r.name = "shared";
                r.type = "model";
                r.sources.push_back(
                    {src("p" + std::to_string(p) + "-" + std::to_string(i)), "model.pth"});
                r.aliases = {p == 0 ? "zero" : "one"};
                auto v = store.save(r);
                if (!v.has_value()) {
                    std::fprintf(stderr, "child %d: %s\n", p, v.error().to_string().c_str());
                    ++failures;
                }
            }
            ::_exit(failures == 0 ? 0 : 1);
        }
        children.push_back(pid);
    }
    ::close(gate[0]);
    ::close(gate[1]);
    for (pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    auto versions = store_.versions("shared");
    ASSERT_TRUE(versions.has_value()) << versions.error();
    ASSERT_EQ(versions->size(), static_cast<std::size_t>(2 * kPerProcess));
    std::set<std::string> digests;
    for (std::size_t i = 0; i < versions->size(); ++i) {
        EXPECT_EQ((*versions)[i].version, 2 * kPerProcess - static_cast<int>(i));
        digests.insert((*versions)[i].digest);
    }
    EXPECT_EQ(digests.size(), static_cast<std::size_t>(2 * kPerProcess));  // none overwritten
    auto artifact = read_json_file(root() / "artifacts" / "shared" / "artifact.json");
    ASSERT_TRUE(artifact.has_value());
    EXPECT_EQ(artifact->at("last_version").as_int64(), 2 * kPerProcess);
    auto info = store_.info("shared");
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->aliases.size(), 2U);  // both aliases survived the concurrent rewrites
    EXPECT_TRUE(fs::is_empty(root() / "index" / "staging" / "artifacts"));
}

}  // namespace
}  // namespace runicorn::dedup
