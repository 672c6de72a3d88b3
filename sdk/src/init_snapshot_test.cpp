// The code snapshot taken by init (InitOptions::snapshot_code, rn_init_options.snapshot_code;
// SDK.md §2.3, §3, FORMAT.md §4.9) against the real storage and dedup plugins (found through
// RUNICORN_PLUGIN_PATH), plus the no-dedup fallback through the in-memory store.

#include <algorithm>
#include <cstddef>
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

/// The only run folder under <root>/runs/<path>.
fs::path only_run_dir(const fs::path& root, const std::string& path) {
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(root / "runs" / path)) {
        if (e.is_directory()) {
            dirs.push_back(e.path());
        }
    }
    EXPECT_EQ(dirs.size(), 1U);
    return dirs.empty() ? fs::path() : dirs.front();
}

class InitSnapshotTest : public ::testing::Test {
protected:
    void SetUp() override {
        ::setenv("RUNICORN_PLUGIN_PATH", RUNICORN_TEST_PLUGIN_DIR, 1);
        ::setenv("RUNICORN_SILENT", "1", 1);
        set_enabled(true);
        root_ = tmp_.path() / "store";
        ws_ = tmp_.path() / "ws";
        write(ws_ / "train.py", "print('hi')\n");
        write(ws_ / "lib/util.py", "X = 1\n");
        write(ws_ / ".rnignore", "*.tmp\n");
        write(ws_ / "scratch.tmp", "t");
    }
    InitOptions options() {
        InitOptions o;
        o.path = "snap";
        o.storage = root_.string();
        o.workspace_root = ws_.string();
        o.on_warning = [this](const Warning& w) {
            std::lock_guard lock(mu_);
            warnings_.push_back(w);
        };
        return o;
    }
    std::vector<Warning> warnings() {
        std::lock_guard lock(mu_);
        return warnings_;
    }

    runicorn::testing::TempDir tmp_;
    fs::path root_;
    fs::path ws_;
    std::mutex mu_;
    std::vector<Warning> warnings_;
};

TEST_F(InitSnapshotTest, DefaultTakesNoSnapshot) {
    auto r = init(options());
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_FALSE(
        read_obj(r->run_dir() / "assets.json").at("code").as_object().contains("snapshot"));
    EXPECT_OK(r->finish());
}

TEST_F(InitSnapshotTest, ManifestSnapshotIsRecordedBeforeInitReturns) {
    InitOptions o = options();
    o.snapshot_code = true;
    auto r = init(std::move(o));
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    // Before any flush or finish: init itself wrote the entry.
    const auto entry =
        read_obj(r->run_dir() / "assets.json").at("code").as_object().at("snapshot").as_object();
    EXPECT_EQ(entry.at("format").as_string(), "manifest");
    const fs::path manifest(std::string(entry.at("manifest_path").as_string()));
    ASSERT_TRUE(fs::is_regular_file(manifest));
    const json::object m = read_obj(manifest);
    std::vector<std::string> files;
    for (const auto& kv : m.at("files").as_object()) {
        files.emplace_back(kv.key());
    }
    std::sort(files.begin(), files.end());
    EXPECT_EQ(files, (std::vector<std::string>{".rnignore", "lib/util.py", "train.py"}));
    EXPECT_TRUE(warnings().empty());
    EXPECT_OK(r->finish());
}

TEST_F(InitSnapshotTest, ZipFormatWritesTheArchiveIntoTheRun) {
    InitOptions o = options();
    o.snapshot_code = true;
    o.snapshot_format = SnapshotFormat::kZip;
    auto r = init(std::move(o));
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    const auto entry =
        read_obj(r->run_dir() / "assets.json").at("code").as_object().at("snapshot").as_object();
    EXPECT_EQ(entry.at("format").as_string(), "zip");
    EXPECT_TRUE(fs::is_regular_file(r->run_dir() / "code_snapshot.zip"));
    EXPECT_OK(r->finish());
}

TEST_F(InitSnapshotTest, TooLargeFailsInitAndFinishesTheRunAsFailed) {
    // 200,001 files would take long; the limit is the same code path as Run::snapshot_code, so
    // a workspace over 500 MiB is simulated with a sparse file.
    {
        std::ofstream big(ws_ / "big.bin", std::ios::binary);
        big.seekp((std::streamoff{500} << 20) + 1);
        big.put('x');
    }
    InitOptions o = options();
    o.snapshot_code = true;
    auto r = init(std::move(o));
    ASSERT_FALSE(r.has_value());
    EXPECT_THAT(r.error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("code snapshot too large")));
    EXPECT_FALSE(active_run().has_value());
    const fs::path dir = only_run_dir(root_, "snap");
    EXPECT_EQ(read_obj(dir / "status.json").at("status").as_string(), "failed");
    EXPECT_FALSE(read_obj(dir / "assets.json").at("code").as_object().contains("snapshot"));

    // force_snapshot (which archives it all the same) is covered through the C ABI below.
}

TEST_F(InitSnapshotTest, MissingWorkspaceWarnsAndInitSucceeds) {
    InitOptions o = options();
    o.snapshot_code = true;
    o.workspace_root = (tmp_.path() / "no-such-dir").string();
    auto r = init(std::move(o));
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_TRUE(r->enabled());
    EXPECT_FALSE(r->finished());
    const auto w = warnings();
    ASSERT_EQ(w.size(), 1U);
    EXPECT_EQ(w[0].kind, "snapshot");
    EXPECT_THAT(w[0].message, HasSubstr("the run continues without one"));
    r->log({{"loss", 1.0}});
    EXPECT_OK(r->finish());
    EXPECT_EQ(read_obj(r->run_dir() / "status.json").at("status").as_string(), "finished");
}

TEST_F(InitSnapshotTest, WithoutTheDedupPluginInitWarnsAndSucceeds) {
    // A plugin directory with the storage plugin only (a copy: the loader refuses symlinks).
    const fs::path plugins = tmp_.path() / "plugins";
    fs::create_directories(plugins);
    fs::copy(fs::path(RUNICORN_TEST_PLUGIN_DIR) / "storage", plugins / "storage",
             fs::copy_options::recursive);
    ::setenv("RUNICORN_PLUGIN_PATH", plugins.c_str(), 1);
    InitOptions o = options();
    o.path = "nodedup";
    o.storage = (tmp_.path() / "store-nodedup").string();  // a fresh root loads plugins anew
    o.snapshot_code = true;
    auto r = init(std::move(o));
    ::setenv("RUNICORN_PLUGIN_PATH", RUNICORN_TEST_PLUGIN_DIR, 1);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    bool saw = false;
    for (const auto& w : warnings()) {
        if (w.kind == "snapshot") {
            saw = true;
            EXPECT_EQ(w.code, StatusCode::kUnavailable);
            EXPECT_THAT(w.message, HasSubstr("dedup"));
        }
    }
    EXPECT_TRUE(saw);
    EXPECT_FALSE(
        read_obj(r->run_dir() / "assets.json").at("code").as_object().contains("snapshot"));
    r->log({{"loss", 1.0}});
    EXPECT_OK(r->finish());
}

TEST_F(InitSnapshotTest, DisabledInitTakesNoSnapshot) {
    set_enabled(false);
    InitOptions o = options();
    o.snapshot_code = true;
    auto r = init(std::move(o));
    set_enabled(true);
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->enabled());
    EXPECT_FALSE(fs::exists(root_));
}

// ---- C ABI ------------------------------------------------------------------------------------

TEST_F(InitSnapshotTest, CAbiSnapshotCodeAndFormat) {
    const std::string storage = root_.string();
    const std::string ws = ws_.string();
    rn_init_options o;
    rn_init_options_default(&o);
    EXPECT_EQ(o.snapshot_code, 0);
    EXPECT_EQ(o.force_snapshot, 0);
    o.path = "csnap";
    o.storage = storage.c_str();
    o.workspace_root = ws.c_str();
    o.snapshot_code = 1;
    o.snapshot_format = RN_SNAPSHOT_ZIP;
    rn_run* run = nullptr;
    ASSERT_EQ(rn_init(&o, &run), RN_OK) << rn_last_error();
    const fs::path dir = only_run_dir(root_, "csnap");
    EXPECT_EQ(read_obj(dir / "assets.json")
                  .at("code")
                  .as_object()
                  .at("snapshot")
                  .as_object()
                  .at("format")
                  .as_string(),
              "zip");
    EXPECT_EQ(rn_run_release(run), RN_OK);

    o.snapshot_format = 5;
    run = nullptr;
    EXPECT_EQ(rn_init(&o, &run), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(), "rn_init: invalid snapshot_format 5");
    EXPECT_EQ(run, nullptr);
}

TEST_F(InitSnapshotTest, CAbiTooLargeAndForceSnapshot) {
    {
        std::ofstream big(ws_ / "big.bin", std::ios::binary);
        big.seekp((std::streamoff{500} << 20) + 1);
        big.put('x');
    }
    const std::string storage = root_.string();
    const std::string ws = ws_.string();
    rn_init_options o;
    rn_init_options_default(&o);
    o.path = "cbig";
    o.storage = storage.c_str();
    o.workspace_root = ws.c_str();
    o.snapshot_code = 1;
    rn_run* run = nullptr;
    EXPECT_EQ(rn_init(&o, &run), RN_E_INVALID_ARGUMENT);
    EXPECT_THAT(std::string(rn_last_error()), HasSubstr("code snapshot too large"));
    EXPECT_EQ(run, nullptr);

    o.force_snapshot = 1;
    ASSERT_EQ(rn_init(&o, &run), RN_OK) << rn_last_error();
    EXPECT_EQ(rn_run_release(run), RN_OK);

    // An ABI 1.1 caller (no force_snapshot member) gets the default: limits apply.
    o.struct_size = offsetof(rn_init_options, force_snapshot);
    run = nullptr;
    EXPECT_EQ(rn_init(&o, &run), RN_E_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace runicorn
