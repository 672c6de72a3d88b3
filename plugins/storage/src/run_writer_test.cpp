#include "run_writer.hpp"

#include <array>
#include <cmath>
#include <csignal>
#include <random>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <gtest/gtest.h>

#include "folder_run_store.hpp"
#include "json_io.hpp"
#include "run_paths.hpp"
#include "storage_test_util.hpp"
#include "sys_info.hpp"
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace runicorn::storage {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using plugin::RunCreateOptions;
using plugin::RunJsonFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::slurp;
using testing::StatusIs;
using testing::TempDir;
using testing::write_text;
using Resume = RunCreateOptions::Resume;

json::object read_object(const fs::path& p) {
    auto v = parse_json(slurp(p));
    EXPECT_TRUE(v.has_value() && v->is_object()) << p;
    return v.has_value() && v->is_object() ? v->get_object() : json::object();
}

std::vector<std::string> keys_of(const json::object& o) {
    std::vector<std::string> out;
    for (const auto& kv : o) {
        out.emplace_back(kv.key());
    }
    return out;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto nl = text.find('\n', start);
        if (nl == std::string::npos) {
            out.push_back(text.substr(start));  // unterminated tail
            break;
        }
        out.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

std::string metrics_line(std::int64_t step, double loss) {
    json::object data;
    data["loss"] = loss;
    data["global_step"] = step;
    data["time"] = 1795674136.25;
    json::object rec;
    rec["ts"] = 1795674136.25;
    rec["type"] = "metrics";
    rec["data"] = std::move(data);
    return to_compact_json(rec) + "\n";
}

class RunWriterTest : public ::testing::Test {
protected:
    RunCreateOptions options(std::optional<std::string> path, std::string id = {}) {
        RunCreateOptions o;
        o.path = std::move(path);
        o.run_id = std::move(id);
        o.writer = "runicorn-cpp/0.1.0 cpp";
        o.workspace_root = tmp_.path().string();
        return o;
    }
    std::shared_ptr<FolderRunWriter> open(const RunCreateOptions& o) {
        auto w = FolderRunWriter::open(root_, o, nullptr);
        EXPECT_TRUE(w.has_value()) << w.error();
        return w.has_value() ? *w : nullptr;
    }

    TempDir tmp_;
    fs::path root_ = tmp_.path() / "store";
};

TEST_F(RunWriterTest, NewRunHasEveryV06FileAndField) {
    auto o = options("cv/yolo");
    o.alias = "baseline";
    o.tags = {"a", "准确率"};
    auto w = open(o);
    ASSERT_NE(w, nullptr);
    EXPECT_TRUE(is_generated_run_id(w->run_id()));
    EXPECT_EQ(w->run_dir(), root_ / "runs" / "cv" / "yolo" / w->run_id());
    EXPECT_EQ(w->path(), "cv/yolo");
    EXPECT_FALSE(w->resumed());
    EXPECT_EQ(w->last_step(), 0);
    EXPECT_FALSE(w->resumed_summary().has_value());

    const auto meta = read_object(w->run_dir() / "meta.json");
    EXPECT_THAT(keys_of(meta),
                ElementsAre("id", "path", "alias", "created_at", "python", "platform", "hostname",
                            "pid", "storage_dir", "workspace_root", "tags", "format_version",
                            "writer", "boot_id", "process_start"));
    EXPECT_EQ(meta.at("id").get_string(), w->run_id());
    EXPECT_EQ(meta.at("path").get_string(), "cv/yolo");
    EXPECT_EQ(meta.at("alias").get_string(), "baseline");
    EXPECT_TRUE(meta.at("python").is_null());
    EXPECT_EQ(meta.at("platform").get_string(), platform_string());
    EXPECT_EQ(meta.at("hostname").get_string(), local_hostname());
    EXPECT_EQ(meta.at("pid").get_int64(), ::getpid());
    EXPECT_EQ(meta.at("storage_dir").get_string(), root_.string());
    EXPECT_EQ(meta.at("workspace_root").get_string(), tmp_.path().string());
    EXPECT_EQ(meta.at("tags"), (json::array{"a", "准确率"}));
    EXPECT_EQ(meta.at("format_version").get_int64(), 1);
    EXPECT_EQ(meta.at("writer").get_string(), "runicorn-cpp/0.1.0 cpp");
    EXPECT_EQ(meta.at("boot_id").get_string(), local_boot_id());
    EXPECT_GT(meta.at("process_start").get_double(), 0.0);

    const auto status = read_object(w->run_dir() / "status.json");
    EXPECT_THAT(keys_of(status), ElementsAre("status", "started_at"));
    EXPECT_EQ(status.at("status").get_string(), "running");
    EXPECT_EQ(status.at("started_at").get_double(), meta.at("created_at").get_double());
    EXPECT_EQ(slurp(w->run_dir() / "assets.json"),
              "{\n  \"code\": {},\n  \"config\": {},\n  \"datasets\": [],\n  \"pretrained\": [],\n"
              "  \"outputs\": []\n}");
    EXPECT_TRUE(fs::is_directory(w->run_dir() / "media"));
    EXPECT_TRUE(fs::exists(w->run_dir() / ".writer.lock"));
    EXPECT_FALSE(fs::exists(w->run_dir() / "events.jsonl"));  // created by the first record

    const auto marker = read_object(root_ / "runicorn-store.json");
    EXPECT_THAT(keys_of(marker), ElementsAre("format", "format_version", "store_id", "created_at",
                                             "created_by", "features", "required_features"));
    EXPECT_EQ(marker.at("format").get_string(), "runicorn-store");
    EXPECT_EQ(marker.at("store_id").get_string().size(), 32U);
    EXPECT_EQ(marker.at("created_by").get_string(), "runicorn-cpp/0.1.0");
    EXPECT_EQ(marker.at("features"), json::array{"heartbeat"});
    RUNICORN_EXPECT_OK(w->close());
}

TEST_F(RunWriterTest, RootPathAndDefaultPath) {
    auto root_run = open(options("/", "top"));
    ASSERT_NE(root_run, nullptr);
    EXPECT_EQ(root_run->run_dir(), root_ / "runs" / "top");
    EXPECT_FALSE(root_run->path().has_value());
    EXPECT_EQ(read_object(root_run->run_dir() / "meta.json").at("path").get_string(), "");
    auto default_run = open(options(std::nullopt, "d1"));
    ASSERT_NE(default_run, nullptr);
    EXPECT_EQ(default_run->run_dir(), root_ / "runs" / "default" / "d1");
    EXPECT_EQ(default_run->path(), "default");
    auto collapsed = open(options("a//b\\c/", "c1"));
    ASSERT_NE(collapsed, nullptr);
    EXPECT_EQ(collapsed->run_dir(), root_ / "runs" / "a" / "b" / "c" / "c1");
    EXPECT_EQ(read_object(collapsed->run_dir() / "meta.json").at("path").get_string(), "a/b/c");
}

TEST_F(RunWriterTest, InvalidPathOrIdCreatesNothing) {
    EXPECT_THAT(FolderRunWriter::open(root_, options("cv/../etc"), nullptr).error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "invalid run path 'cv/../etc': only ASCII letters, digits, '_', '-' "
                         "and '/' are allowed"));
    EXPECT_THAT(FolderRunWriter::open(root_, options("cv", "../evil"), nullptr).error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "invalid run id '../evil': must start with an ASCII letter or digit"));
    auto must = options("cv");
    must.resume = Resume::kMust;
    EXPECT_THAT(FolderRunWriter::open(root_, must, nullptr).error(),
                StatusIs(StatusCode::kInvalidArgument, "resume 'must' needs a run id"));
    EXPECT_FALSE(fs::exists(root_));
}

TEST_F(RunWriterTest, TakenIdAndMissingRun) {
    auto w = open(options("cv", "exp1"));
    ASSERT_NE(w, nullptr);
    RUNICORN_ASSERT_OK(w->close());
    EXPECT_THAT(FolderRunWriter::open(root_, options("cv", "exp1"), nullptr).error(),
                StatusIs(StatusCode::kAlreadyExists, "run 'exp1' already exists at '" +
                                                         (root_ / "runs/cv/exp1").string() + "'"));
    auto must = options("cv", "nope");
    must.resume = Resume::kMust;
    EXPECT_THAT(FolderRunWriter::open(root_, must, nullptr).error(),
                StatusIs(StatusCode::kNotFound, "run 'nope' does not exist under path 'cv'"));
    EXPECT_FALSE(fs::exists(root_ / "runs/cv/nope"));
}

TEST_F(RunWriterTest, SecondWriterOnALiveRunIsUnavailable) {
    auto first = open(options("cv", "busy"));
    ASSERT_NE(first, nullptr);
    auto again = options("cv", "busy");
    again.resume = Resume::kAllow;
    EXPECT_THAT(FolderRunWriter::open(root_, again, nullptr).error(),
                StatusIs(StatusCode::kUnavailable, "run 'busy' is in use by another writer"));
    RUNICORN_ASSERT_OK(first->close());
    auto second = open(again);
    ASSERT_NE(second, nullptr);
    EXPECT_TRUE(second->resumed());
}

TEST_F(RunWriterTest, ResumeAfterCrashEndsTornTailAndRestoresState) {
    auto w = open(options("cv", "r1"));
    ASSERT_NE(w, nullptr);
    RUNICORN_ASSERT_OK(w->append_events(metrics_line(6, 0.5) + metrics_line(7, 0.25)));
    RUNICORN_ASSERT_OK(w->append_events(
        R"({"ts":1.0,"type":"image","data":{"key":"k","path":"media/x.png","step":99}})"
        "\n"));
    RUNICORN_ASSERT_OK(w->append_logs("10:00:00 | hello\n"));
    json::object best;
    best["final"] = 1;
    best["best_metric_value"] = 0.25;
    best["best_metric_name"] = "loss";
    best["best_metric_step"] = 7;
    best["best_metric_mode"] = "min";
    RUNICORN_ASSERT_OK(w->merge_json(RunJsonFile::kSummary, best));
    json::object end;
    end["status"] = "failed";
    end["ended_at"] = 2.0;
    end["exit_reason"] = "process_not_found";
    RUNICORN_ASSERT_OK(w->merge_json(RunJsonFile::kStatus, end));
    RUNICORN_ASSERT_OK(w->close());
    // The crash: a torn record at the end of both files.
    const fs::path events = w->run_dir() / "events.jsonl";
    const std::string before = slurp(events) + R"({"ts":3.0,"type":"metrics","data":{"lo)";
    write_text(events, before);
    write_text(w->run_dir() / "logs.txt", slurp(w->run_dir() / "logs.txt") + "10:00:01 | par");

    auto o = options("cv", "r1");
    o.resume = Resume::kAllow;
    auto r = open(o);
    ASSERT_NE(r, nullptr);
    EXPECT_TRUE(r->resumed());
    EXPECT_EQ(r->last_step(), 7);
    ASSERT_TRUE(r->resumed_summary().has_value());
    EXPECT_THAT(keys_of(*r->resumed_summary()),
                ElementsAre("best_metric_name", "best_metric_value", "best_metric_step",
                            "best_metric_mode"));
    EXPECT_EQ(r->resumed_summary()->at("best_metric_value").get_double(), 0.25);
    EXPECT_EQ(slurp(events), before + "\n");  // exactly one newline added, nothing cut
    EXPECT_EQ(slurp(r->run_dir() / "logs.txt"), "10:00:00 | hello\n10:00:01 | par\n");
    const auto status = read_object(r->run_dir() / "status.json");
    EXPECT_THAT(keys_of(status), ElementsAre("status", "started_at", "resume_count", "resumed_at"));
    EXPECT_EQ(status.at("status").get_string(), "running");
    EXPECT_EQ(status.at("resume_count").get_int64(), 1);
    const auto meta = read_object(r->run_dir() / "meta.json");
    EXPECT_EQ(meta.at("pid").get_int64(), ::getpid());
    EXPECT_EQ(meta.at("hostname").get_string(), local_hostname());

    // Ten new records: none is glued to the torn one.
    std::string batch;
    for (int i = 8; i < 18; ++i) {
        batch += metrics_line(i, 0.1);
    }
    RUNICORN_ASSERT_OK(r->append_events(batch));
    const auto lines = split_lines(slurp(events));
    ASSERT_EQ(lines.size(), 14U);
    int bad = 0;
    for (const auto& line : lines) {
        auto v = parse_json(line);
        bad += v.has_value() ? 0 : 1;
    }
    EXPECT_EQ(bad, 1);
    EXPECT_FALSE(parse_json(lines[3]).has_value());
    RUNICORN_ASSERT_OK(r->close());
    // A second resume counts on.
    auto r2 = open(o);
    ASSERT_NE(r2, nullptr);
    EXPECT_EQ(r2->last_step(), 17);
    EXPECT_EQ(read_object(r2->run_dir() / "status.json").at("resume_count").get_int64(), 2);
}

TEST_F(RunWriterTest, WrittenEventsParseBackWhole) {
    auto w = open(options("cv"));
    ASSERT_NE(w, nullptr);
    json::object data;
    data["loss"] = std::nan("");
    data["grad"] = HUGE_VAL;
    data["note"] = "multi\nline \"quoted\"";
    data["global_step"] = 1;
    json::object rec;
    rec["ts"] = wall_now();
    rec["type"] = "metrics";
    rec["data"] = data;
    const std::string line = to_compact_json(rec) + "\n";
    RUNICORN_ASSERT_OK(w->append_events(line + line));
    RUNICORN_ASSERT_OK(w->sync());
    const auto lines = split_lines(slurp(w->run_dir() / "events.jsonl"));
    ASSERT_EQ(lines.size(), 2U);
    for (const auto& l : lines) {
        auto v = parse_json(l);
        ASSERT_TRUE(v.has_value()) << v.error();
        const auto& d = v->get_object().at("data").get_object();
        EXPECT_TRUE(std::isnan(d.at("loss").get_double()));
        EXPECT_TRUE(std::isinf(d.at("grad").get_double()));
        EXPECT_EQ(d.at("note").get_string(), "multi\nline \"quoted\"");
    }
}

TEST_F(RunWriterTest, MergeJsonKeepsOtherKeysAndNullRemovesStatusKeys) {
    auto w = open(options("cv"));
    ASSERT_NE(w, nullptr);
    json::object patch;
    patch["status"] = "finished";
    patch["ended_at"] = 5.5;
    RUNICORN_ASSERT_OK(w->merge_json(RunJsonFile::kStatus, patch));
    json::object drop;
    drop["ended_at"] = nullptr;
    RUNICORN_ASSERT_OK(w->merge_json(RunJsonFile::kStatus, drop));
    EXPECT_THAT(keys_of(read_object(w->run_dir() / "status.json")),
                ElementsAre("status", "started_at"));
    json::object tags;
    tags["tags"] = json::array{"x"};
    tags["alias"] = nullptr;  // not a status file: null is stored
    RUNICORN_ASSERT_OK(w->merge_json(RunJsonFile::kMeta, tags));
    const auto meta = read_object(w->run_dir() / "meta.json");
    EXPECT_EQ(meta.at("tags"), json::array{"x"});
    EXPECT_TRUE(meta.at("alias").is_null());
    EXPECT_EQ(meta.size(), 15U);
    EXPECT_TRUE(fs::exists(w->run_dir() / "meta.json.lock"));
}

TEST_F(RunWriterTest, MediaNamesAreCheckedAndFilesWrittenWhole) {
    auto w = open(options("cv"));
    ASSERT_NE(w, nullptr);
    const std::array<std::byte, 3> bytes{std::byte{1}, std::byte{2}, std::byte{3}};
    RUNICORN_ASSERT_OK(w->write_media("1795674136244_3209df_sample.png", bytes));
    EXPECT_EQ(slurp(w->run_dir() / "media/1795674136244_3209df_sample.png"), "\x01\x02\x03");
    EXPECT_THAT(w->write_media("../x.png", bytes),
                StatusIs(StatusCode::kInvalidArgument,
                         "invalid media file name '../x.png': a leading '.' is not allowed"));
    EXPECT_THAT(w->write_media("a/b.png", bytes),
                StatusIs(StatusCode::kInvalidArgument,
                         "invalid media file name 'a/b.png': a separator or NUL is not allowed"));
    EXPECT_THAT(w->write_media("", bytes),
                StatusIs(StatusCode::kInvalidArgument, "invalid media file name '': empty"));
}

TEST_F(RunWriterTest, HeartbeatHasTheLivenessFields) {
    auto w = open(options("cv"));
    ASSERT_NE(w, nullptr);
    RUNICORN_ASSERT_OK(w->heartbeat(std::chrono::seconds(10)));
    RUNICORN_ASSERT_OK(w->heartbeat(std::chrono::seconds(10)));
    const auto hb = read_object(w->run_dir() / ".heartbeat.json");
    EXPECT_THAT(keys_of(hb), ElementsAre("ts", "seq", "interval_s", "hostname", "boot_id", "pid",
                                         "process_start", "session", "writer"));
    EXPECT_EQ(hb.at("seq").get_int64(), 2);
    EXPECT_EQ(hb.at("interval_s").get_int64(), 10);
    EXPECT_EQ(hb.at("session").get_string().size(), 16U);
    EXPECT_EQ(hb.at("pid").get_int64(), ::getpid());
}

TEST_F(RunWriterTest, ClosedWriterRefusesWork) {
    auto w = open(options("cv", "c"));
    ASSERT_NE(w, nullptr);
    RUNICORN_ASSERT_OK(w->close());
    RUNICORN_EXPECT_OK(w->close());  // idempotent
    EXPECT_THAT(w->append_events("{}\n"),
                StatusIs(StatusCode::kFailedPrecondition,
                         "appending events on run 'c': the writer is closed"));
    EXPECT_EQ(w->sync().code(), StatusCode::kFailedPrecondition);
}

TEST_F(RunWriterTest, StoreMarkerFeaturesOnlyGrowAndUnknownRequirementsRefuse) {
    write_text(root_ / "runicorn-store.json",
               R"({"format": "runicorn-store", "format_version": 1, "store_id": "abc",
                   "features": ["catalog"], "required_features": [], "extra": true})");
    auto w = open(options("cv"));
    ASSERT_NE(w, nullptr);
    const auto marker = read_object(root_ / "runicorn-store.json");
    EXPECT_EQ(marker.at("store_id").get_string(), "abc");
    EXPECT_EQ(marker.at("features"), (json::array{"catalog", "heartbeat"}));
    EXPECT_TRUE(marker.at("extra").get_bool());

    write_text(root_ / "runicorn-store.json",
               R"({"format": "runicorn-store", "features": ["heartbeat"],
                   "required_features": ["quantum-index"]})");
    EXPECT_THAT(FolderRunWriter::open(root_, options("cv", "refused"), nullptr).error(),
                StatusIs(StatusCode::kFailedPrecondition,
                         "the store '" + root_.string() +
                             "' requires feature 'quantum-index', which this version does not "
                             "support; it is read-only here"));
    EXPECT_FALSE(fs::exists(root_ / "runs/cv/refused"));
}

/// A read-only directory, even for root: a read-only tmpfs when we may mount, else mode 0555.
class ReadOnlyDir {
public:
    explicit ReadOnlyDir(fs::path dir) : dir_(std::move(dir)) {
        fs::create_directories(dir_);
        mounted_ =
            ::geteuid() == 0 && ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_RDONLY, "size=64k") == 0;
        if (!mounted_) {
            fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
        }
    }
    ~ReadOnlyDir() {
        if (mounted_) {
            ::umount(dir_.c_str());
        } else {
            fs::permissions(dir_, fs::perms::owner_all);
        }
    }
    ReadOnlyDir(const ReadOnlyDir&) = delete;
    ReadOnlyDir& operator=(const ReadOnlyDir&) = delete;
    ReadOnlyDir(ReadOnlyDir&&) = delete;
    ReadOnlyDir& operator=(ReadOnlyDir&&) = delete;

    /// False when the directory is still writable (root without mount permission).
    bool effective() const { return mounted_ || ::geteuid() != 0; }

private:
    fs::path dir_;
    bool mounted_ = false;
};

TEST_F(RunWriterTest, UnwritableRootIsPermissionDeniedAndLeavesNothing) {
    const fs::path ro = tmp_.path() / "ro";
    ReadOnlyDir guard(ro);
    if (!guard.effective()) {
        GTEST_SKIP() << "running as root without permission to mount a read-only tmpfs";
    }
    const fs::path store = ro / "store";
    auto r = FolderRunWriter::open(store, options("cv"), nullptr);
    ASSERT_FALSE(r.has_value());
    EXPECT_THAT(r.error(), StatusIs(StatusCode::kPermissionDenied,
                                    HasSubstr("creating directory '" + store.string() + "': ")));
    EXPECT_FALSE(fs::exists(store));
}

TEST_F(RunWriterTest, ReadOnlyRunsDirLeavesNoHalfCreatedPath) {
    fs::create_directories(root_ / "runs");
    {
        ReadOnlyDir guard(root_ / "runs");
        if (!guard.effective()) {
            GTEST_SKIP() << "running as root without permission to mount a read-only tmpfs";
        }
        auto r = FolderRunWriter::open(root_, options("cv/yolo", "x"), nullptr);
        EXPECT_THAT(
            r.error(),
            StatusIs(StatusCode::kPermissionDenied,
                     "creating directory '" + (root_ / "runs/cv").string() + "': " +
                         (::geteuid() == 0 ? "Read-only file system" : "Permission denied")));
    }
    EXPECT_TRUE(fs::is_empty(root_ / "runs"));
}

/// Record `i` of writer `w` in the concurrency test: 1 B to 64 KiB of padding, log-uniform.
std::string concurrent_record(int w, int i) {
    std::mt19937 rng(static_cast<unsigned>(w * 100003 + i));
    const double exponent = std::uniform_real_distribution<double>(0.0, 16.0)(rng);
    const auto size = static_cast<std::size_t>(std::pow(2.0, exponent));
    json::object rec;
    rec["w"] = w;
    rec["i"] = i;
    rec["pad"] = std::string(std::max<std::size_t>(size, 1), static_cast<char>('a' + w));
    return to_compact_json(rec) + "\n";
}

TEST_F(RunWriterTest, FourProcessesAppendWithoutInterleaving) {
    constexpr int kWriters = 4;
    constexpr int kRecords = 2000;
    auto w = open(options("cv", "shared"));
    ASSERT_NE(w, nullptr);
    std::vector<pid_t> children;
    for (int k = 0; k < kWriters; ++k) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            for (int i = 0; i < kRecords; ++i) {
                if (!w->append_events(concurrent_record(k, i)).is_ok()) {
                    ::_exit(1);
                }
            }
            ::_exit(0);
        }
        children.push_back(pid);
    }
    for (const pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    const std::string text = slurp(w->run_dir() / "events.jsonl");
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    std::array<int, kWriters> next{};
    int corrupt = 0;
    for (const auto& line : split_lines(text)) {
        auto v = parse_json(line);
        if (!v || !v->is_object()) {
            ++corrupt;
            continue;
        }
        const auto k = static_cast<int>(v->get_object().at("w").get_int64());
        const auto i = static_cast<int>(v->get_object().at("i").get_int64());
        // Whole, in each writer's own order, and exactly the bytes it wrote.
        EXPECT_EQ(i, next[static_cast<std::size_t>(k)]);
        EXPECT_EQ(line + "\n", concurrent_record(k, i));
        next[static_cast<std::size_t>(k)] = i + 1;
    }
    EXPECT_EQ(corrupt, 0);
    EXPECT_THAT(next, ::testing::Each(kRecords));
}

TEST_F(RunWriterTest, KillNineMidStreamLeavesAtMostOneTornLine) {
    auto w = open(options("cv", "killed"));
    ASSERT_NE(w, nullptr);
    std::array<int, 2> ready{};
    ASSERT_EQ(::pipe(ready.data()), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(ready[0]);
        // Large batches (about 1 MiB) make a kill inside write() likely.
        for (int batch = 0;; ++batch) {
            std::string lines;
            for (int i = 0; lines.size() < (std::size_t{1} << 20); ++i) {
                lines += concurrent_record(batch % 4, i);
            }
            if (!w->append_events(lines).is_ok()) {
                ::_exit(1);
            }
            if (batch == 3) {
                (void)!::write(ready[1], "r", 1);
            }
        }
    }
    ::close(ready[1]);
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status));

    const fs::path events = w->run_dir() / "events.jsonl";
    const std::string text = slurp(events);
    const auto lines = split_lines(text);
    ASSERT_GT(lines.size(), 4U);
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
        ASSERT_TRUE(parse_json(lines[i]).has_value()) << "line " << i + 1 << " is damaged";
    }
    const bool torn = !text.empty() && text.back() != '\n';
    EXPECT_EQ(torn, !parse_json(lines.back()).has_value());
    // The next writer ends a torn tail before its first record.
    RUNICORN_ASSERT_OK(w->close());
    auto o = options("cv", "killed");
    o.resume = Resume::kMust;
    auto r = open(o);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(slurp(events), torn ? text + "\n" : text);
}

/// A 1 MiB tmpfs mounted for one test (root only).
class TinyTmpfs {
public:
    explicit TinyTmpfs(fs::path dir) : dir_(std::move(dir)) {
        fs::create_directories(dir_);
        if (::geteuid() != 0) {
            why_not_ = "not running as root, so no tmpfs can be mounted";
        } else if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=1m") != 0) {
            why_not_ = "mount -t tmpfs -o size=1m failed: " +
                       std::error_code(errno, std::generic_category()).message();
        }
    }
    ~TinyTmpfs() {
        if (why_not_.empty()) {
            ::umount(dir_.c_str());
        }
    }
    TinyTmpfs(const TinyTmpfs&) = delete;
    TinyTmpfs& operator=(const TinyTmpfs&) = delete;
    TinyTmpfs(TinyTmpfs&&) = delete;
    TinyTmpfs& operator=(TinyTmpfs&&) = delete;

    const std::string& why_not() const { return why_not_; }

private:
    fs::path dir_;
    std::string why_not_;
};

TEST_F(RunWriterTest, DiskFullTruncatesBackToARecordBoundary) {
    const fs::path mnt = tmp_.path() / "tiny";
    TinyTmpfs tiny(mnt);
    if (!tiny.why_not().empty()) {
        GTEST_SKIP() << tiny.why_not();
    }
    {
        auto opened = FolderRunWriter::open(mnt / "store", options("cv", "full"), nullptr);
        ASSERT_TRUE(opened.has_value()) << opened.error();
        auto w = *opened;
        const fs::path events = w->run_dir() / "events.jsonl";
        const std::string record = "{\"pad\":\"" + std::string(100000, 'z') + "\"}\n";
        Status s;
        int written = 0;
        while (written < 100 && (s = w->append_events(record)).is_ok()) {
            ++written;
        }
        EXPECT_THAT(s, StatusIs(StatusCode::kResourceExhausted,
                                "appending to '" + events.string() + "': No space left on device"));
        EXPECT_EQ(fs::file_size(events), record.size() * static_cast<std::size_t>(written));
        const std::string text = slurp(events);
        EXPECT_TRUE(text.empty() || text.back() == '\n');
        // A smaller record still fits where the big one did not: writing goes on.
        RUNICORN_EXPECT_OK(w->append_events("{}\n"));
        RUNICORN_EXPECT_OK(w->close());
    }
}

TEST_F(RunWriterTest, TenMegabyteLineAndFiveThousandKeysRoundTrip) {
    auto w = open(options("cv"));
    ASSERT_NE(w, nullptr);
    json::object big;
    big["type"] = "metrics";
    json::object big_data;
    big_data["blob"] = std::string(10 << 20, 'q');
    big_data["global_step"] = 1;
    big["data"] = big_data;
    json::object many;
    many["type"] = "metrics";
    json::object many_data;
    for (int i = 0; i < 5000; ++i) {
        many_data["k" + std::to_string(i)] = i;
    }
    many_data["global_step"] = 2;
    many["data"] = many_data;
    RUNICORN_ASSERT_OK(w->append_events(to_compact_json(big) + "\n"));
    RUNICORN_ASSERT_OK(w->append_events(to_compact_json(many) + "\n"));
    const auto lines = split_lines(slurp(w->run_dir() / "events.jsonl"));
    ASSERT_EQ(lines.size(), 2U);
    EXPECT_EQ(parse_json(lines[0])->get_object().at("data").at("blob").get_string().size(),
              std::size_t{10} << 20);
    EXPECT_EQ(parse_json(lines[1])->get_object().at("data").get_object().size(), 5001U);
    EXPECT_EQ(find_last_step(w->run_dir() / "events.jsonl"), 2);
}

TEST(FindLastStepTest, SkipsTornTailOtherTypesAndDamagedLines) {
    TempDir tmp;
    const fs::path p = tmp.path() / "events.jsonl";
    EXPECT_EQ(find_last_step(p), 0);
    write_text(p, R"({"type":"metrics","data":{"step":4.0}})"
                  "\n"
                  R"({"type":"metrics","data":{"global_step":5,"step":1}})"
                  "\r\n"
                  "garbage\n\n"
                  R"({"type":"image","data":{"step":50,"global_step":60}})"
                  "\n"
                  R"({"type":"metrics","data":{"global_step":9)");
    EXPECT_EQ(find_last_step(p), 5);
    write_text(p, R"({"type":"metrics","data":{"step":4.0}})"
                  "\n" +
                      std::string(17 << 20, 'x') + "\n");
    EXPECT_EQ(find_last_step(p), 4);
    write_text(p, "no newline at all");
    EXPECT_EQ(find_last_step(p), 0);
}

TEST_F(RunWriterTest, StoreInterfaceOpensRuns) {
    FolderRunStore store(root_, nullptr);
    auto w = store.open_run(options("cv", "via-store"));
    ASSERT_TRUE(w.has_value()) << w.error();
    EXPECT_EQ((*w)->run_dir(), root_ / "runs/cv/via-store");
    auto runs = store.discover_runs(false);
    ASSERT_TRUE(runs.has_value());
    ASSERT_EQ(runs->size(), 1U);
    EXPECT_EQ((*runs)[0].run_id, "via-store");
}

}  // namespace
}  // namespace runicorn::storage
