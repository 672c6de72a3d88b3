// Archive copies (log_dataset / log_pretrained with save) and code snapshots against the real
// storage and dedup plugins (found through RUNICORN_PLUGIN_PATH), plus the no-dedup fallback
// through the in-memory store.

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/c/runicorn.h>
#include <runicorn/runicorn.hpp>
#include <runicorn/testing/status_matchers.hpp>
#include <runicorn/testing/temp_dir.hpp>

#include "assets_util.hpp"
#include "fake_store.hpp"
#include "sdk_internal.hpp"
#include <sys/stat.h>

namespace runicorn {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;
using testing::StatusIs;

void write(const fs::path& p, std::string_view text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

json::object read_obj(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str()).as_object();
}

std::vector<std::string> keys_of(const json::object& o) {
    std::vector<std::string> k;
    for (const auto& kv : o) {
        k.emplace_back(kv.key());
    }
    return k;
}

const fs::path kFixture = fs::path(RUNICORN_TEST_FIXTURE_DIR) / "store";
const fs::path kKitchen = kFixture / "runs/cv/resnet/20250115_100000_6cefa5";

std::size_t count_blobs(const fs::path& root) {
    std::size_t n = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root / "archive/blobs", ec), end; !ec && it != end;
         it.increment(ec)) {
        if (it->is_regular_file() && it->path().filename().string()[0] != '.') {
            ++n;
        }
    }
    return n;
}

class AssetsTest : public ::testing::Test {
protected:
    void SetUp() override {
        ::setenv("RUNICORN_PLUGIN_PATH", RUNICORN_TEST_PLUGIN_DIR, 1);
        ::setenv("RUNICORN_SILENT", "1", 1);
        set_enabled(true);
        root_ = tmp_.path() / "store";
        ws_ = tmp_.path() / "ws";
        fs::create_directories(ws_);
    }
    runicorn::Run open(std::vector<Warning>* warnings = nullptr) {
        InitOptions o;
        o.storage = root_.string();
        o.workspace_root = ws_.string();
        if (warnings != nullptr) {
            o.on_warning = [warnings](const Warning& w) { warnings->push_back(w); };
        }
        auto r = init(std::move(o));
        EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error().to_string());
        return r.has_value() ? r.value() : runicorn::Run();
    }
    json::object assets(const runicorn::Run& run) {
        return read_obj(run.run_dir() / "assets.json");
    }

    runicorn::testing::TempDir tmp_;
    fs::path root_;
    fs::path ws_;
};

TEST_F(AssetsTest, DatasetDirSavedTwiceHasOneFingerprintAndStoresBlobsOnce) {
    const fs::path ds = ws_ / "data/ds";
    write(ds / "train.csv", "a,b\n1,2\n");
    write(ds / "labels/y.txt", "cat\n");
    runicorn::Run a = open();
    ASSERT_TRUE(a.enabled());
    DatasetOptions o;
    o.save = true;
    o.description = "tiny";
    EXPECT_OK(a.log_dataset("ds", ds.string(), o));
    runicorn::Run b = open();
    EXPECT_OK(b.log_dataset("ds", ds.string(), o));

    const auto ea = assets(a)["datasets"].as_array().at(0).as_object();
    const auto eb = assets(b)["datasets"].as_array().at(0).as_object();
    // FORMAT.md §5.2 test vector.
    EXPECT_EQ(ea.at("fingerprint").as_string(),
              "f104b706af00c73ca29b4868aafb9036e55671c7f46c72a926ae15c67256b684");
    EXPECT_EQ(ea.at("fingerprint"), eb.at("fingerprint"));
    EXPECT_EQ(ea.at("saved"), json::value(true));
    EXPECT_EQ(ea.at("file_count").as_int64(), 2);
    EXPECT_EQ(ea.at("total_size_bytes").as_int64(), 12);
    EXPECT_EQ(count_blobs(root_), 2U);
    const fs::path blob = root_ / "archive/blobs/49" /
                          "492d5ea496056f1a6a6592241032fab764c321596317930b4fa0e1e8bc3b7470";
    struct stat st {};
    ASSERT_EQ(::stat(blob.c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 1U);  // stored once, never linked from the user's file
    struct stat user {};
    ASSERT_EQ(::stat((ds / "train.csv").c_str(), &user), 0);
    EXPECT_NE(user.st_ino, st.st_ino);

    // Same shapes as v0.6 (the fixture's kitchen run and its manifest).
    const auto fx = read_obj(kKitchen / "assets.json")["datasets"].as_array().at(0).as_object();
    EXPECT_EQ(keys_of(ea), keys_of(fx));
    const fs::path manifest(std::string(ea.at("manifest_path").as_string()));
    EXPECT_TRUE(manifest.is_absolute());
    EXPECT_EQ(manifest.parent_path().parent_path().filename(), "datasets");
    const auto fm =
        read_obj(kFixture / "archive/manifests/datasets/05" /
                 "05e6c4742742c720356e14e0a68f12952c958bf52a65d8194e6e746d0514207b.json");
    const auto om = read_obj(manifest);
    EXPECT_EQ(keys_of(om), keys_of(fm));
    EXPECT_EQ(keys_of(om.at("files").as_object().at("train.csv").as_object()),
              keys_of(fm.at("files").as_object().at("train.csv").as_object()));
    EXPECT_EQ(om.at("source_path").as_string(), ds.string());
}

TEST_F(AssetsTest, PretrainedFileSavedHasTheFixtureShape) {
    write(ws_ / "init.pth", "weights");
    runicorn::Run run = open();
    PretrainedOptions o;
    o.path_or_uri = (ws_ / "init.pth").string();
    o.save = true;
    o.source_type = "local";
    o.description = "saved local weights";
    EXPECT_OK(run.log_pretrained("init", o));
    PretrainedOptions hub;
    hub.path_or_uri = "bert-base-uncased";
    hub.source_type = "huggingface";
    EXPECT_OK(run.log_pretrained("bert", hub));
    const auto items = assets(run)["pretrained"].as_array();
    const auto fx = read_obj(kKitchen / "assets.json")["pretrained"].as_array();
    ASSERT_EQ(items.size(), 2U);
    EXPECT_EQ(keys_of(items[0].as_object()), keys_of(fx[0].as_object()));
    EXPECT_EQ(keys_of(items[1].as_object()), keys_of(fx[1].as_object()));
    EXPECT_EQ(items[1].as_object().at("path_or_uri").as_string(), "bert-base-uncased");
    const std::string path(items[0].as_object().at("archive_path").as_string());
    EXPECT_THAT(path, HasSubstr("/archive/blobs/"));
    EXPECT_TRUE(fs::exists(path));
}

TEST_F(AssetsTest, LimitsAreRefusedWithoutForceSave) {
    const fs::path ds = ws_ / "ds";
    write(ds / "a", "1");
    write(ds / "b", "2");
    runicorn::Run run = open();
    DatasetOptions o;
    o.save = true;
    o.max_archive_files = 1;
    EXPECT_THAT(run.log_dataset("big", ds.string(), o),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("too large to archive")));
    o.max_archive_files = 100;
    o.max_archive_bytes = 1;
    EXPECT_THAT(run.log_dataset("big", ds.string(), o),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("too large to archive")));
    EXPECT_TRUE(assets(run)["datasets"].as_array().empty());
    EXPECT_EQ(count_blobs(root_), 0U);
    o.force_save = true;
    EXPECT_OK(run.log_dataset("big", ds.string(), o));
    EXPECT_EQ(assets(run)["datasets"].as_array().size(), 1U);
    PretrainedOptions p;
    p.save = true;
    EXPECT_THAT(run.log_pretrained("x", p),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("path_or_uri")));
}

TEST_F(AssetsTest, UnsavedAndUriEntries) {
    write(ws_ / "f.bin", "xyz");
    runicorn::Run run = open();
    EXPECT_OK(run.log_dataset("remote", "s3://bucket/x", {}));
    EXPECT_OK(run.log_dataset("file", (ws_ / "f.bin").string(), {}));
    const auto items = assets(run)["datasets"].as_array();
    ASSERT_EQ(items.size(), 2U);
    EXPECT_EQ(items[0].as_object().at("uri").as_string(), "s3://bucket/x");
    EXPECT_TRUE(items[0].as_object().at("fingerprint").is_null());
    EXPECT_EQ(items[1].as_object().at("fingerprint").as_object().at("size_bytes").as_int64(), 3);
    EXPECT_EQ(items[1].as_object().at("saved"), json::value(false));
}

TEST_F(AssetsTest, CodeSnapshotHonoursIgnoreRulesAndLimits) {
    write(ws_ / ".gitignore", "build/\n/scratch.txt\n!keep.log\n*.log\n");
    write(ws_ / ".rnignore", "*.tmp\n");
    write(ws_ / "train.py", "print(1)\n");
    write(ws_ / "scratch.txt", "x");
    write(ws_ / "sub/scratch.txt", "y");
    write(ws_ / "a.tmp", "t");
    write(ws_ / "build/out.o", "o");
    write(ws_ / "run.log", "l");
    fs::path outside = tmp_.path() / "secret.txt";
    write(outside, "secret");
    fs::create_symlink(outside, ws_ / "link.txt");
    runicorn::Run run = open();
    SnapshotOptions o;
    o.max_files = 2;
    EXPECT_THAT(run.snapshot_code(o).error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("code snapshot too large")));
    auto snap = run.snapshot_code({});
    ASSERT_TRUE(snap.has_value()) << snap.error().to_string();
    const auto entry = assets(run)["code"].as_object().at("snapshot").as_object();
    EXPECT_EQ(entry.at("format").as_string(), "manifest");
    EXPECT_EQ(entry.at("fingerprint_kind").as_string(), "sha256_manifest");
    const fs::path m(std::string(entry.at("manifest_path").as_string()));
    EXPECT_EQ(m.parent_path().parent_path().filename(), "code");
    std::vector<std::string> files = keys_of(read_obj(m).at("files").as_object());
    std::sort(files.begin(), files.end());
    EXPECT_EQ(files,
              (std::vector<std::string>{".gitignore", ".rnignore", "sub/scratch.txt", "train.py"}));
    EXPECT_FALSE(fs::exists(ws_ / ".rnignore.bak"));
}

TEST_F(AssetsTest, ZipSnapshotIsOneBlobHardLinkedIntoTheRun) {
    write(ws_ / "train.py", "print(1)\n");
    runicorn::Run run = open();
    SnapshotOptions o;
    o.format = SnapshotFormat::kZip;
    auto snap = run.snapshot_code(o);
    ASSERT_TRUE(snap.has_value()) << snap.error().to_string();
    const auto entry = assets(run)["code"].as_object().at("snapshot").as_object();
    EXPECT_EQ(entry.at("format").as_string(), "zip");
    const fs::path blob(std::string(entry.at("archive_path").as_string()));
    struct stat a {};
    struct stat b {};
    ASSERT_EQ(::stat(blob.c_str(), &a), 0);
    ASSERT_EQ(::stat((run.run_dir() / "code_snapshot.zip").c_str(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST_F(AssetsTest, CAbiTakesJsonOptionsAndKeepsTheScanResult) {
    write(ws_ / "ds/a.txt", "a");
    write(ws_ / "out/train.log", "x\n");
    rn_init_options o;
    rn_init_options_default(&o);
    const std::string storage = root_.string();
    const std::string ws = ws_.string();
    o.storage = storage.c_str();
    o.workspace_root = ws.c_str();
    rn_run* run = nullptr;
    ASSERT_EQ(rn_init(&o, &run), RN_OK) << rn_last_error();
    const std::string ds = (ws_ / "ds").string();
    EXPECT_EQ(rn_log_dataset(run, "ds", ds.c_str(), "{\"save\": \"yes\"}"), RN_E_INVALID_ARGUMENT);
    EXPECT_THAT(rn_last_error(), HasSubstr("save"));
    EXPECT_EQ(rn_log_dataset(run, "ds", ds.c_str(), "{\"save\": true}"), RN_OK) << rn_last_error();
    EXPECT_EQ(rn_log_pretrained(run, "m", "{\"save\": true}"), RN_E_INVALID_ARGUMENT);
    const std::string opts = "{\"output_dirs\": [\"" + (ws_ / "out").string() + "\"]}";
    char small[4];
    std::size_t needed = 0;
    EXPECT_EQ(rn_scan_outputs_once(run, opts.c_str(), small, sizeof small, &needed),
              RN_E_BUFFER_TOO_SMALL);
    std::string big(needed, '\0');
    ASSERT_EQ(rn_last_scan_result(big.data(), big.size(), &needed), RN_OK);
    const auto result = json::parse(big.c_str()).as_object();
    EXPECT_EQ(result.at("archived").as_int64(), 1);
    EXPECT_EQ(result.at("archived_entries").as_array().size(), 1U);
    EXPECT_EQ(rn_watch_outputs(run, opts.c_str(), 50), RN_OK);
    EXPECT_EQ(rn_watch_outputs(run, opts.c_str(), 50), RN_E_ALREADY_EXISTS);
    EXPECT_EQ(rn_stop_outputs_watch(run), RN_OK);
    EXPECT_EQ(rn_run_release(run), RN_OK);
}

TEST(AssetsUtilTest, IgnoreRulesLastMatchDecides) {
    sdk::IgnoreRules r;
    r.add_lines("# comment\n\n*.log\n!keep.log\n/top.txt\ncache/\n");
    EXPECT_TRUE(r.ignored("a/b.log", false));
    EXPECT_FALSE(r.ignored("a/keep.log", false));
    EXPECT_TRUE(r.ignored("top.txt", false));
    EXPECT_FALSE(r.ignored("sub/top.txt", false));
    EXPECT_TRUE(r.ignored("x/cache", true));
    EXPECT_FALSE(r.ignored("x/cache", false));
}

TEST(AssetsUtilTest, ManifestFingerprintMatchesTheSpecVector) {
    std::vector<plugin::ManifestFile> f = {
        {"train.csv", "492d5ea496056f1a6a6592241032fab764c321596317930b4fa0e1e8bc3b7470", 8, false},
        {"labels/y.txt", "175cc6f362b2f75acd08a373e000144fdb8d14a833d4b70fd743f16a7039103f", 4,
         false}};
    EXPECT_EQ(sdk::manifest_fingerprint(f),
              "f104b706af00c73ca29b4868aafb9036e55671c7f46c72a926ae15c67256b684");
    EXPECT_EQ(sdk::manifest_fingerprint({}),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sdk::safe_name("a b/ü.pth"), "a_b___.pth");
}

/// Without the dedup plugin the archive copy is skipped with a warning and logging goes on.
TEST(AssetsNoDedupTest, SaveWarnsAndRecordsAnUnsavedEntry) {
    runicorn::testing::TempDir tmp;
    write(tmp.path() / "ds/a.txt", "a");
    auto store = std::make_shared<test::MemoryRunStore>();
    sdk::set_test_hooks({store, nullptr});
    set_enabled(true);
    std::vector<Warning> warnings;
    std::mutex mu;
    InitOptions o;
    o.on_warning = [&](const Warning& w) {
        std::lock_guard lock(mu);
        warnings.push_back(w);
    };
    auto r = init(std::move(o));
    ASSERT_TRUE(r.has_value());
    runicorn::Run run = r.value();
    DatasetOptions d;
    d.save = true;
    EXPECT_OK(run.log_dataset("ds", (tmp.path() / "ds").string(), d));
    run.log({{"loss", 1.0}});
    EXPECT_OK(run.flush());
    const auto files = store->last_writer()->files();
    const auto& e = files.assets.at("datasets").as_array().at(0).as_object();
    EXPECT_EQ(e.at("saved"), json::value(false));
    EXPECT_THAT(files.events, HasSubstr("\"loss\""));
    {
        std::lock_guard lock(mu);
        ASSERT_FALSE(warnings.empty());
        EXPECT_EQ(warnings[0].kind, "no_blob_store");
    }
    SnapshotOptions so;
    so.workspace_root = tmp.path();
    EXPECT_THAT(run.snapshot_code(so).error(),
                StatusIs(StatusCode::kUnavailable, HasSubstr("dedup")));
    EXPECT_OK(run.finish());
    sdk::set_test_hooks({});
}

}  // namespace
}  // namespace runicorn
