// The blob-store and artifact commands of the `runicorn` executable end to end (gc, verify, du,
// artifacts ls/show/versions/alias/download) on a copy of the Runicorn v0.6 fixture store.
// Artifacts are created through the dedup plugin's own store code; the commands under test load
// the built plugin.
#include <fstream>
#include <sstream>

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/testing/copy_tree.hpp>
#include <runicorn/testing/temp_dir.hpp>

#include "folder_artifact_store.hpp"
#include "hardlink_blob_store.hpp"
#include "process.hpp"
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::test {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;

const std::string runicorn_exe = RUNICORN_EXE;
const fs::path fixture_store = fs::path(RUNICORN_FIXTURE_DIR) / "store";
const std::string dataset_blob = "2a2b86e74ffd5e6a9b75e52a105cf9d02920837179f8e8961aa15411d380f7a3";

void write_file(const fs::path& p, const std::string& bytes) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
}

class CliDedupTest : public ::testing::Test {
protected:
    void SetUp() override { ::runicorn::testing::copy_tree_writable(fixture_store, store_); }

    ProcessResult run(std::vector<std::string> args) const {
        args.insert(args.begin(), runicorn_exe);
        return run_process(args, {{"RUNICORN_CONFIG_DIR", (tmp_.path() / "config").string()},
                                  {"RUNICORN_DIR", store_.string()},
                                  {"RUNICORN_PLUGIN_PATH", std::nullopt},
                                  {"RUNICORN_PLUGINS", std::nullopt},
                                  {"RUNICORN_LOG_LEVEL", std::nullopt},
                                  {"RUNICORN_LANG", "en"},
                                  {"TZ", "UTC"}});
    }

    /// Saves a version of `name` holding one file `model.pth` with `content`.
    int save(const std::string& name, const std::string& content,
             std::vector<std::string> aliases = {}) {
        auto blobs = std::make_shared<dedup::HardlinkBlobStore>(store_);
        dedup::FolderArtifactStore store(store_, blobs);
        const auto src = tmp_.path() / "src" / (name + std::to_string(content.size()));
        write_file(src, content);
        plugin::ArtifactSaveRequest r;
        r.name = name;
        r.type = "model";
        r.sources.push_back({src, "model.pth"});
        r.aliases = std::move(aliases);
        auto v = store.save(r);
        EXPECT_TRUE(v.has_value()) << v.error();
        return v.has_value() ? v->version : 0;
    }

    runicorn::testing::TempDir tmp_;
    fs::path store_ = tmp_.path() / "store";
};

TEST_F(CliDedupTest, VerifyPassesOnTheFixtureArchive) {
    auto r = run({"verify"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("OK: 5 blobs, 5 re-hashed"));
    auto j = run({"verify", "--json", "--sample", "2"});
    ASSERT_EQ(j.exit_code, 0) << j.err;
    const auto v = json::parse(j.out);
    EXPECT_EQ(v.at("blobs_found").as_int64(), 5);
    EXPECT_EQ(v.at("blobs_hashed").as_int64(), 2);
    EXPECT_TRUE(v.at("ok").as_bool());
}

TEST_F(CliDedupTest, VerifyFailsNamingTheRunsOfACorruptOrMissingBlob) {
    const auto blob = store_ / "archive" / "blobs" / "2a" / dataset_blob;
    fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
    write_file(blob, "flipped bytes");
    auto r = run({"verify"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.out, HasSubstr("corrupt " + dataset_blob));
    EXPECT_THAT(r.out, HasSubstr("run runs/cv/yolo/v8/20250115_121500_5faeb7"));
    EXPECT_THAT(r.out, HasSubstr("problems found"));

    fs::remove(blob);
    auto j = run({"verify", "--json"});
    EXPECT_EQ(j.exit_code, 1);
    const auto v = json::parse(j.out);
    ASSERT_FALSE(v.at("problems").as_array().empty());
    EXPECT_EQ(v.at("problems").at(0).at("kind").as_string(), "missing");
    EXPECT_EQ(v.at("problems").at(0).at("object").as_string(), dataset_blob);
}

TEST_F(CliDedupTest, GcDryRunReportsAndDeletesNothing) {
    fs::remove_all(store_ / "runs" / "cv" / "yolo" / "v8");  // one of the two dataset users
    // An unreferenced blob past the grace period (its name need not be its hash for GC).
    write_file(store_ / "archive" / "blobs" / "aa" / std::string(64, 'a'), "orphan");
    auto r = run({"gc", "--dry-run", "--grace", "0", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto v = json::parse(r.out);
    EXPECT_TRUE(v.at("dry_run").as_bool());
    EXPECT_EQ(v.at("blobs_deleted").as_int64(), 1);
    EXPECT_EQ(v.at("bytes_freed").as_int64(), 6);
    EXPECT_EQ(v.at("blobs").at(0).as_string(), std::string(64, 'a'));
    EXPECT_TRUE(fs::exists(store_ / "archive" / "blobs" / "aa" / std::string(64, 'a')));
    // The dataset the kitchen run still uses is not a candidate.
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr(dataset_blob)));

    auto human = run({"gc", "--dry-run", "--grace", "0"});
    EXPECT_EQ(human.exit_code, 0);
    EXPECT_THAT(human.out, HasSubstr("Dry run: would remove 1 blob, 0 manifests"));

    auto real = run({"gc", "--grace", "0"});
    EXPECT_EQ(real.exit_code, 0) << real.err;
    EXPECT_THAT(real.out, HasSubstr("Removed 1 blob, 0 manifests"));
    EXPECT_FALSE(fs::exists(store_ / "archive" / "blobs" / "aa" / std::string(64, 'a')));
    EXPECT_TRUE(fs::exists(store_ / "archive" / "blobs" / "2a" / dataset_blob));

    auto bad = run({"gc", "--grace", "-5"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_THAT(bad.err, HasSubstr("--grace must be 0 or more seconds"));
}

TEST_F(CliDedupTest, DuReportsSpaceSavedByDedup) {
    auto r = run({"du", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto v = json::parse(r.out);
    EXPECT_EQ(v.at("blob_count").as_int64(), 5);
    // The dataset's three files are referenced by two runs: each counted twice without dedup.
    EXPECT_GT(v.at("saved_bytes").as_int64(), 0);
    EXPECT_EQ(v.at("referenced_bytes").as_int64() - v.at("saved_bytes").as_int64(),
              v.at("physical_bytes").as_int64());
    auto human = run({"du"});
    EXPECT_EQ(human.exit_code, 0);
    EXPECT_THAT(human.out, HasSubstr("Saved by dedup"));
}

TEST_F(CliDedupTest, LangOptionMakesBlobCommandsSpeakChinese) {
    auto du = run({"--lang", "zh-CN", "du"});
    ASSERT_EQ(du.exit_code, 0) << du.err;
    EXPECT_THAT(du.out, HasSubstr("去重节省"));
    EXPECT_THAT(du.out, ::testing::Not(HasSubstr("Saved by dedup")));

    auto verify = run({"--lang", "zh-CN", "verify"});
    EXPECT_EQ(verify.exit_code, 0) << verify.err;
    EXPECT_THAT(verify.out, HasSubstr("正常：共 5 个 blob，重新计算哈希 5 个"));

    write_file(store_ / "archive" / "blobs" / "aa" / std::string(64, 'a'), "orphan");
    auto gc = run({"--lang", "zh-CN", "gc", "--dry-run", "--grace", "0"});
    EXPECT_EQ(gc.exit_code, 0) << gc.err;
    EXPECT_THAT(gc.out, HasSubstr("试运行：将删除 1 个 blob、0 个清单和 0 个临时文件，可释放 6 B"));

    auto bad = run({"--lang", "zh-CN", "gc", "--grace", "-5"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_THAT(bad.err, HasSubstr("--grace 必须是不小于 0 的秒数"));

    auto ls = run({"--lang", "zh-CN", "artifacts", "ls"});
    EXPECT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_EQ(ls.out, "没有制品。\n");
}

TEST_F(CliDedupTest, ArtifactsListShowVersionsAliasAndDownload) {
    ASSERT_EQ(save("resnet", "one", {"production"}), 1);
    ASSERT_EQ(save("resnet", "two!"), 2);

    auto ls = run({"artifacts", "ls"});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_THAT(ls.out, HasSubstr("resnet"));
    EXPECT_THAT(ls.out, HasSubstr("production=v1"));
    auto ls_json = json::parse(run({"artifacts", "ls", "--json"}).out);
    EXPECT_EQ(ls_json.at("artifacts").at(0).at("latest_version").as_int64(), 2);

    auto show = run({"artifacts", "show", "resnet", "--json"});
    ASSERT_EQ(show.exit_code, 0) << show.err;
    const auto sv = json::parse(show.out);
    EXPECT_EQ(sv.at("versions").as_array().size(), 2U);
    EXPECT_EQ(sv.at("versions").at(0).at("version").as_int64(), 2);

    auto versions = run({"artifacts", "versions", "resnet"});
    ASSERT_EQ(versions.exit_code, 0);
    EXPECT_THAT(versions.out,
                ::testing::MatchesRegex(
                    "VERSION +ALIASES.*\nv2 +latest +1 +4 B .*\nv1 +production +1 +3 B .*\n"));

    auto alias = run({"artifacts", "alias", "resnet", "v2", "production"});
    ASSERT_EQ(alias.exit_code, 0) << alias.err;
    EXPECT_EQ(alias.out, "resnet:production moved from v1 to v2\n");

    const auto dest = tmp_.path() / "dl";
    auto dl = run({"artifacts", "download", "resnet:production", dest.string()});
    ASSERT_EQ(dl.exit_code, 0) << dl.err;
    EXPECT_THAT(dl.out, HasSubstr("Downloaded resnet:v2"));
    std::ifstream in(dest / "model.pth");
    std::string content((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(content, "two!");
    struct stat st {};
    ASSERT_EQ(::stat((dest / "model.pth").c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 2U);  // a hard link to the blob
}

TEST_F(CliDedupTest, ArtifactCommandsRefuseBadInput) {
    ASSERT_EQ(save("resnet", "one"), 1);
    auto unknown = run({"artifacts", "show", "nope"});
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_EQ(unknown.err, "runicorn: error: artifact 'nope' not found\n");
    auto bad_ref = run({"artifacts", "download", "resnet:v9", (tmp_.path() / "x").string()});
    EXPECT_EQ(bad_ref.exit_code, 1);
    EXPECT_THAT(bad_ref.err, HasSubstr("version 'resnet:v9' not found"));
    auto malformed = run({"artifacts", "download", "res/net", (tmp_.path() / "x").string()});
    EXPECT_EQ(malformed.exit_code, 2);
    EXPECT_THAT(malformed.err, HasSubstr("invalid artifact name 'res/net'"));
    auto reserved = run({"artifacts", "alias", "resnet", "v1", "latest"});
    EXPECT_EQ(reserved.exit_code, 2);
    EXPECT_THAT(reserved.err, HasSubstr("alias 'latest' is reserved"));
    auto bad_version = run({"artifacts", "alias", "resnet", "one", "best"});
    EXPECT_EQ(bad_version.exit_code, 2);
    EXPECT_THAT(bad_version.err, HasSubstr("'one' is not a version"));
    write_file(tmp_.path() / "file", "x");
    auto unwritable = run({"artifacts", "download", "resnet", (tmp_.path() / "file").string()});
    EXPECT_EQ(unwritable.exit_code, 1);
    EXPECT_THAT(unwritable.err, HasSubstr("cannot download resnet:v1 to"));
    auto missing_arg = run({"artifacts", "download", "resnet"});
    EXPECT_NE(missing_arg.exit_code, 0);
}

}  // namespace
}  // namespace runicorn::test
