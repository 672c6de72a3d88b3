// The outputs scanner (SDK.md §4.11) against the real storage and dedup plugins.

#include "outputs_scanner.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/runicorn.hpp>
#include <runicorn/testing/status_matchers.hpp>
#include <runicorn/testing/temp_dir.hpp>

#include "assets_util.hpp"
#include <sys/stat.h>
#include <sys/time.h>

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

/// Sets a file's mtime to `secs` (so tests do not depend on the clock's resolution).
void set_mtime(const fs::path& p, long secs) {
    struct timeval tv[2] = {{secs, 0}, {secs, 0}};
    ASSERT_EQ(::utimes(p.c_str(), tv), 0);
}

json::object read_obj(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str()).as_object();
}

class OutputsScannerTest : public ::testing::Test {
protected:
    void SetUp() override {
        ::setenv("RUNICORN_PLUGIN_PATH", RUNICORN_TEST_PLUGIN_DIR, 1);
        ::setenv("RUNICORN_SILENT", "1", 1);
        set_enabled(true);
        ws_ = tmp_.path() / "ws";
        out_ = ws_ / "outputs";
        fs::create_directories(out_);
        InitOptions o;
        o.storage = (tmp_.path() / "store").string();
        o.workspace_root = ws_.string();
        auto r = init(std::move(o));
        ASSERT_TRUE(r.has_value()) << r.error().to_string();
        run_ = r.value();
        opts_.output_dirs = {out_};
        opts_.min_age_sec = 0;
    }
    void TearDown() override { (void)run_.finish(); }
    json::array outputs() { return read_obj(run_.run_dir() / "assets.json")["outputs"].as_array(); }
    ScanResult scan() {
        auto r = run_.scan_outputs_once(opts_);
        EXPECT_TRUE(r.has_value()) << r.error().to_string();
        return r.has_value() ? r.value() : ScanResult{};
    }

    runicorn::testing::TempDir tmp_;
    fs::path ws_;
    fs::path out_;
    runicorn::Run run_;
    OutputsOptions opts_;
};

TEST(OutputPatternTest, Globs) {
    EXPECT_TRUE(sdk::output_pattern_matches("**/*.pth", "best.pth", false));
    EXPECT_TRUE(sdk::output_pattern_matches("**/*.pth", "a/b/best.pth", false));
    EXPECT_FALSE(sdk::output_pattern_matches("*.pth", "best.pt", false));
    EXPECT_TRUE(sdk::output_pattern_matches("ckpt/", "ckpt", true));
    EXPECT_FALSE(sdk::output_pattern_matches("ckpt/", "ckpt", false));
    EXPECT_FALSE(sdk::output_pattern_matches("*.pth", "x.pth", true));
    EXPECT_TRUE(sdk::is_log_like("events.out.tfevents.123"));
    EXPECT_TRUE(sdk::is_log_like("train.log"));
    EXPECT_FALSE(sdk::is_log_like("best.pth"));
    EXPECT_EQ(sdk::stat_fingerprint_text(1736935188.044, 24),
              "{\"mtime\": 1736935188.044, \"size_bytes\": 24}");
    EXPECT_EQ(sdk::stat_fingerprint_text(5, 1), "{\"mtime\": 5.0, \"size_bytes\": 1}");
}

TEST_F(OutputsScannerTest, RollingFileIsArchivedOnceStable) {
    write(out_ / "best.pth", "v1");
    set_mtime(out_ / "best.pth", 1000);
    auto r1 = scan();
    EXPECT_EQ(r1.scanned, 1U);
    EXPECT_EQ(r1.changed, 1U);
    EXPECT_EQ(r1.archived, 0U);  // seen once: not stable yet
    auto r2 = scan();
    ASSERT_EQ(r2.archived, 1U);
    EXPECT_EQ(r2.run_id, run_.id());
    const auto items = outputs();
    ASSERT_EQ(items.size(), 1U);
    const auto& e = items[0].as_object();
    // The fixture's rolling entry, in its key order.
    const std::vector<std::string> keys = {
        "key",         "name", "kind",       "path", "saved", "archive_path", "fingerprint_kind",
        "fingerprint", "mode", "archived_at"};
    std::vector<std::string> got;
    for (const auto& kv : e) {
        got.emplace_back(kv.key());
    }
    EXPECT_EQ(got, keys);
    EXPECT_EQ(e.at("key").as_string(), "outputs/best.pth");
    EXPECT_EQ(e.at("path").as_string(), "./outputs/best.pth");
    EXPECT_EQ(e.at("mode").as_string(), "rolling");
    EXPECT_EQ(e.at("fingerprint_kind").as_string(), "sha256");
    const fs::path copy(std::string(e.at("archive_path").as_string()));
    EXPECT_EQ(copy.filename().string(), sdk::sha1_hex("outputs/best.pth") + "_best.pth");
    EXPECT_EQ(copy.parent_path().filename().string(), run_.id());
    EXPECT_TRUE(fs::exists(copy));

    // Unchanged: nothing recorded.
    EXPECT_EQ(scan().archived, 0U);
    // Changed: stability starts over, then the new version replaces the entry.
    write(out_ / "best.pth", "v2");
    set_mtime(out_ / "best.pth", 2000);
    auto r4 = scan();
    EXPECT_EQ(r4.changed, 1U);
    EXPECT_EQ(r4.archived, 0U);
    EXPECT_EQ(scan().archived, 1U);
    ASSERT_EQ(outputs().size(), 1U);
    const auto state = read_obj(run_.run_dir() / ".outputs_state.json");
    const auto& item = state.at("items").as_object().at("outputs/best.pth").as_object();
    EXPECT_EQ(item.at("stable_count").as_int64(), 2);
    EXPECT_EQ(item.at("last_mtime_ns").as_int64(), 2000LL * 1000000000);

    // Same bytes written again (new mtime): stable, hashed, unchanged fingerprint → nothing.
    write(out_ / "best.pth", "v2");
    set_mtime(out_ / "best.pth", 3000);
    scan();
    EXPECT_EQ(scan().archived, 0U);
}

TEST_F(OutputsScannerTest, LogFilesAreRolledWithAStatFingerprint) {
    write(out_ / "train.log", "line\n");
    set_mtime(out_ / "train.log", 1000);
    auto r = scan();
    ASSERT_EQ(r.archived, 1U);
    const auto e = outputs()[0].as_object();
    EXPECT_EQ(e.at("fingerprint_kind").as_string(), "stat");
    EXPECT_EQ(e.at("fingerprint").as_string(), "{\"mtime\": 1000.0, \"size_bytes\": 5}");
    // Within the snapshot interval a change is not copied again.
    write(out_ / "train.log", "line\nmore\n");
    EXPECT_EQ(scan().archived, 0U);
    opts_.log_snapshot_interval_sec = 0;
    EXPECT_EQ(scan().archived, 1U);
}

TEST_F(OutputsScannerTest, CasModesStoreBlobsAndOverwriteVersionsAppends) {
    opts_.mode = "overwrite_versions";
    opts_.stable_required = 1;
    write(out_ / "m.onnx", "v1");
    set_mtime(out_ / "m.onnx", 1000);
    EXPECT_EQ(scan().archived, 1U);
    write(out_ / "m.onnx", "v2");
    set_mtime(out_ / "m.onnx", 2000);
    EXPECT_EQ(scan().archived, 1U);
    const auto items = outputs();
    ASSERT_EQ(items.size(), 2U);
    for (const auto& v : items) {
        EXPECT_THAT(std::string(v.as_object().at("archive_path").as_string()),
                    HasSubstr("/archive/blobs/"));
        EXPECT_EQ(v.as_object().at("mode").as_string(), "overwrite_versions");
    }
    // A directory in CAS mode becomes an outputs manifest.
    opts_.mode = "cas";
    opts_.patterns = {"ckpt/"};
    write(out_ / "ckpt/a.bin", "a");
    EXPECT_EQ(scan().archived, 1U);
    const auto last = outputs().back().as_object();
    EXPECT_EQ(last.at("kind").as_string(), "dir");
    EXPECT_THAT(std::string(last.at("archive_path").as_string()),
                HasSubstr("/archive/manifests/outputs/"));
}

TEST_F(OutputsScannerTest, RollingDirectoryCopyIsCompleteAndSymlinksOutAreSkipped) {
    opts_.patterns = {"ckpt/", "*.pth"};
    opts_.stable_required = 1;
    write(out_ / "ckpt/a.bin", "a");
    write(tmp_.path() / "secret.pth", "s");
    fs::create_symlink(tmp_.path() / "secret.pth", out_ / "evil.pth");
    auto r = scan();
    EXPECT_EQ(r.scanned, 1U);  // the symlink leading out of the output dir is not followed
    ASSERT_EQ(r.archived, 1U);
    const fs::path copy(std::string(outputs()[0].as_object().at("archive_path").as_string()));
    EXPECT_TRUE(fs::exists(copy / "a.bin"));
    std::ifstream in(copy / ".complete");
    std::string ok;
    std::getline(in, ok);
    EXPECT_EQ(ok, "ok");
}

TEST_F(OutputsScannerTest, DotDotInOutputDirsIsNormalisedAndOutsideKeysAreAbsolute) {
    opts_.stable_required = 1;
    write(out_ / "best.pth", "v1");
    opts_.output_dirs = {out_ / "sub" / ".."};
    auto r = scan();
    ASSERT_EQ(r.archived, 1U);
    EXPECT_EQ(outputs()[0].as_object().at("key").as_string(), "outputs/best.pth");
    // An output directory outside the workspace: the key is the absolute posix path.
    const fs::path other = tmp_.path() / "elsewhere";
    write(other / "x.pt", "x");
    opts_.output_dirs = {other};
    ASSERT_EQ(scan().archived, 1U);
    const auto e = outputs().back().as_object();
    EXPECT_EQ(e.at("key").as_string(), (other / "x.pt").string());
    EXPECT_EQ(e.at("path").as_string(), (other / "x.pt").string());
}

TEST_F(OutputsScannerTest, BadOptionsAndWatcher) {
    OutputsOptions bad;
    EXPECT_THAT(run_.scan_outputs_once(bad).error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("output_dirs")));
    bad.output_dirs = {out_};
    bad.stable_required = 0;
    EXPECT_THAT(run_.scan_outputs_once(bad).error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("stable_required")));
    write(out_ / "train.log", "x\n");
    EXPECT_OK(run_.watch_outputs(opts_, std::chrono::milliseconds(20)));
    EXPECT_THAT(run_.watch_outputs(opts_),
                StatusIs(StatusCode::kAlreadyExists, HasSubstr("watcher")));
    for (int i = 0; i < 400 && outputs().empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    EXPECT_FALSE(outputs().empty());
    // finish stops the watcher and returns.
    EXPECT_OK(run_.finish());
}

}  // namespace
}  // namespace runicorn
