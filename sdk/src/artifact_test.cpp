// Artifacts through the SDK (Artifact, ArtifactVersion, Run::log_artifact/use_artifact,
// runicorn::artifact) against the real storage and dedup plugins, found through
// RUNICORN_PLUGIN_PATH (the static SDK has no bundled plugin directory).

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/artifact.hpp>
#include <runicorn/runicorn.hpp>
#include <runicorn/testing/status_matchers.hpp>
#include <runicorn/testing/temp_dir.hpp>

#include "store_loader.hpp"
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace runicorn {
namespace {

namespace fs = std::filesystem;
using ::runicorn::testing::StatusIs;
using SdkRun = ::runicorn::Run;  // inside a fixture, Run names testing::Test::Run
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const fs::path& p, std::string_view text) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

boost::json::object read_json(const fs::path& p) {
    return boost::json::parse(read_file(p)).as_object();
}

struct stat stat_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st;
}

class ArtifactTest : public ::testing::Test {
protected:
    void SetUp() override {
        ::setenv("RUNICORN_PLUGIN_PATH", RUNICORN_TEST_PLUGIN_DIR, 1);
        ::setenv("RUNICORN_SILENT", "1", 1);
        set_enabled(true);
        root_ = tmp_.path() / "store";
        work_ = tmp_.path() / "work";
        fs::create_directories(work_);
    }

    SdkRun start(const std::string& path = "art/run") {
        InitOptions o;
        o.storage = root_.string();
        o.path = path;
        auto r = init(std::move(o));
        EXPECT_TRUE(r.has_value()) << r.error();
        return r.has_value() ? std::move(*r) : SdkRun();
    }

    /// An artifact "model" of type "model" with one file holding `text`.
    Artifact model(std::string_view text, const std::string& name = "model") {
        write_file(work_ / "ckpt" / "best.pth", text);
        Artifact a(name, "model");
        EXPECT_OK(a.add_file(work_ / "ckpt" / "best.pth", "model.pth"));
        return a;
    }

    ::runicorn::testing::TempDir tmp_;
    fs::path root_;
    fs::path work_;
};

TEST_F(ArtifactTest, LogsVersionsAndReusesIdenticalContent) {
    SdkRun run = start();
    Artifact a = model("weights-1");
    a.set_description("fine-tune");
    ASSERT_OK(a.set_metadata(Json::object({{"acc", 0.81}})));
    auto v1 = run.log_artifact(a);
    ASSERT_TRUE(v1.has_value()) << v1.error();
    EXPECT_EQ(v1->name(), "model");
    EXPECT_EQ(v1->type(), "model");
    EXPECT_EQ(v1->version(), 1);
    EXPECT_FALSE(v1->deduplicated());
    EXPECT_EQ(v1->description(), "fine-tune");
    EXPECT_EQ(v1->file_count(), 1u);
    EXPECT_EQ(v1->total_size_bytes(), 9u);
    ASSERT_NE(v1->metadata().find("acc"), nullptr);
    EXPECT_DOUBLE_EQ(v1->metadata().find("acc")->as_f64(), 0.81);
    ASSERT_TRUE(v1->produced_by().has_value());
    EXPECT_EQ(v1->produced_by()->run_id, run.id());
    EXPECT_EQ(v1->produced_by()->path, std::optional<std::string>("art/run"));
    EXPECT_EQ(v1->digest().size(), 64u);

    // Identical content: the latest version is reused.
    auto again = run.log_artifact(model("weights-1"));
    ASSERT_TRUE(again.has_value()) << again.error();
    EXPECT_EQ(again->version(), 1);
    EXPECT_TRUE(again->deduplicated());
    EXPECT_EQ(again->digest(), v1->digest());

    auto v2 = run.log_artifact(model("weights-2"));
    ASSERT_TRUE(v2.has_value()) << v2.error();
    EXPECT_EQ(v2->version(), 2);
    EXPECT_FALSE(v2->deduplicated());
    EXPECT_NE(v2->digest(), v1->digest());

    auto files = v2->files();
    ASSERT_TRUE(files.has_value()) << files.error();
    ASSERT_EQ(files->size(), 1u);
    EXPECT_EQ((*files)[0].path, "model.pth");
    EXPECT_EQ((*files)[0].size_bytes, 9u);

    // FORMAT.md §7.6: version.json produced_by and the run's artifacts.json "logged" list.
    const auto version_json = read_json(root_ / "artifacts" / "model" / "v2" / "version.json");
    EXPECT_EQ(version_json.at("produced_by").as_object().at("run_id").as_string(), run.id());
    const auto doc = read_json(run.run_dir() / "artifacts.json");
    const auto& logged = doc.at("logged").as_array();
    ASSERT_EQ(logged.size(), 3u);
    EXPECT_EQ(logged[0].at("version").as_int64(), 1);
    EXPECT_FALSE(logged[0].at("deduplicated").as_bool());
    EXPECT_EQ(logged[1].at("version").as_int64(), 1);
    EXPECT_TRUE(logged[1].at("deduplicated").as_bool());
    EXPECT_EQ(logged[2].at("version").as_int64(), 2);
    EXPECT_TRUE(doc.at("used").as_array().empty());

    // The JSON form carries the same fields.
    const auto j = boost::json::parse(v2->to_json()).as_object();
    EXPECT_EQ(j.at("version").as_int64(), 2);
    EXPECT_EQ(j.at("digest").as_string(), v2->digest());
    EXPECT_TRUE(j.at("latest").as_bool());
    EXPECT_EQ(j.at("produced_by").at("run_id").as_string(), run.id());
    ASSERT_OK(run.finish());
}

TEST_F(ArtifactTest, LogsFoldersUnderPrefixes) {
    SdkRun run = start();
    write_file(work_ / "tok" / "vocab.txt", "abc");
    write_file(work_ / "tok" / "sub" / "merges.txt", "de");
    write_file(work_ / "cfg.json", "{}");
    Artifact a("bert", "model");
    ASSERT_OK(a.add_dir(work_ / "tok", "tokenizer"));
    ASSERT_OK(a.add_file(work_ / "cfg.json"));
    auto v = run.log_artifact(a);
    ASSERT_TRUE(v.has_value()) << v.error();
    auto files = v->files();
    ASSERT_TRUE(files.has_value());
    std::vector<std::string> paths;
    for (const auto& f : *files) {
        paths.push_back(f.path);
    }
    EXPECT_THAT(paths, ElementsAre("cfg.json", "tokenizer/sub/merges.txt", "tokenizer/vocab.txt"));
}

TEST_F(ArtifactTest, AliasesMoveAndReservedOnesAreRefused) {
    SdkRun run = start();
    const std::vector<std::string> prod{"production"};
    auto v1 = run.log_artifact(model("one"), prod);
    ASSERT_TRUE(v1.has_value()) << v1.error();
    EXPECT_THAT(v1->aliases(), ElementsAre("production"));
    auto v2 = run.log_artifact(model("two"), prod);
    ASSERT_TRUE(v2.has_value()) << v2.error();
    auto resolved = artifact("model:production", root_.string());
    ASSERT_TRUE(resolved.has_value()) << resolved.error();
    EXPECT_EQ(resolved->version(), 2);

    for (const std::string bad : {"latest", "v3", "9lives", "a b"}) {
        const std::vector<std::string> aliases{bad};
        EXPECT_THAT(run.log_artifact(model("three"), aliases).error(),
                    StatusIs(StatusCode::kInvalidArgument, HasSubstr(bad)))
            << bad;
        EXPECT_THAT(v1->set_alias(bad), StatusIs(StatusCode::kInvalidArgument, HasSubstr(bad)));
    }

    ASSERT_OK(v1->set_alias("best"));
    EXPECT_THAT(v1->aliases(), Contains("best"));
    auto best = artifact("model:best", root_.string());
    ASSERT_TRUE(best.has_value());
    EXPECT_EQ(best->version(), 1);
    // "best" points at v1: removing it through v2 is refused, through v1 it works.
    EXPECT_THAT(v2->remove_alias("best"),
                StatusIs(StatusCode::kFailedPrecondition, HasSubstr("model:v1")));
    ASSERT_OK(v1->remove_alias("best"));
    EXPECT_THAT(v1->aliases(), Not(Contains("best")));
    EXPECT_THAT(artifact("model:best", root_.string()).error(),
                StatusIs(StatusCode::kNotFound, HasSubstr("model:best")));
    EXPECT_THAT(v1->remove_alias("best"), StatusIs(StatusCode::kNotFound, HasSubstr("best")));
    EXPECT_THAT(v1->remove_alias("latest"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("")));
}

TEST_F(ArtifactTest, UseRecordsTheUseAndLineage) {
    SdkRun producer = start("art/producer");
    const std::vector<std::string> prod{"production"};
    auto v1 = producer.log_artifact(model("data"), prod);
    ASSERT_TRUE(v1.has_value()) << v1.error();
    ASSERT_OK(producer.finish());

    SdkRun consumer = start("art/consumer");
    auto used = consumer.use_artifact("model:production");
    ASSERT_TRUE(used.has_value()) << used.error();
    EXPECT_EQ(used->version(), 1);
    EXPECT_EQ(used->digest(), v1->digest());
    const auto doc = read_json(consumer.run_dir() / "artifacts.json");
    const auto& uses = doc.at("used").as_array();
    ASSERT_EQ(uses.size(), 1u);
    EXPECT_EQ(uses[0].at("name").as_string(), "model");
    EXPECT_EQ(uses[0].at("version").as_int64(), 1);
    EXPECT_EQ(uses[0].at("requested").as_string(), "model:production");
    EXPECT_EQ(uses[0].at("digest").as_string(), v1->digest());
    EXPECT_TRUE(doc.at("logged").as_array().empty());

    // runicorn::artifact resolves without recording anything.
    SdkRun reader = start("art/reader");
    auto plain = artifact("model", root_.string());
    ASSERT_TRUE(plain.has_value()) << plain.error();
    EXPECT_EQ(plain->version(), 1);
    EXPECT_FALSE(fs::exists(reader.run_dir() / "artifacts.json"));

    // The dedup plugin's lineage sees the producer and the consumer.
    auto opener = sdk::load_run_store(root_.string());
    ASSERT_TRUE(opener.has_value());
    auto lineage = (*opener)->artifact_store()->lineage("model", 1);
    ASSERT_TRUE(lineage.has_value()) << lineage.error();
    ASSERT_TRUE(lineage->produced_by.has_value());
    EXPECT_EQ(lineage->produced_by->run_id, producer.id());
    ASSERT_EQ(lineage->used_by.size(), 1u);
    EXPECT_EQ(lineage->used_by[0].run_id, consumer.id());
    EXPECT_EQ(lineage->used_by[0].requested, "model:production");
}

TEST_F(ArtifactTest, DownloadsHardLinksOrWritableCopies) {
    SdkRun run = start();
    auto v = run.log_artifact(model("weights"));
    ASSERT_TRUE(v.has_value()) << v.error();

    auto linked = v->download(tmp_.path() / "linked");
    ASSERT_TRUE(linked.has_value()) << linked.error();
    EXPECT_EQ(*linked, tmp_.path() / "linked");
    const auto lf = *linked / "model.pth";
    EXPECT_EQ(read_file(lf), "weights");
    const auto ls = stat_of(lf);
    EXPECT_GE(ls.st_nlink, 2u);  // the blob and this link
    EXPECT_EQ(ls.st_mode & 0222, 0u);

    DownloadOptions copy;
    copy.link = false;
    auto copied = v->download(tmp_.path() / "copied", copy);
    ASSERT_TRUE(copied.has_value()) << copied.error();
    const auto cf = *copied / "model.pth";
    EXPECT_EQ(read_file(cf), "weights");
    const auto cs = stat_of(cf);
    EXPECT_EQ(cs.st_nlink, 1u);
    EXPECT_NE(cs.st_mode & 0200, 0u);
    write_file(cf, "edited");  // writable, and the blob is untouched
    EXPECT_EQ(read_file(lf), "weights");

    // One file, by its artifact path.
    auto one = v->download_file("model.pth", tmp_.path() / "one", copy);
    ASSERT_TRUE(one.has_value()) << one.error();
    EXPECT_EQ(*one, tmp_.path() / "one" / "model.pth");
    EXPECT_EQ(read_file(*one), "weights");
    EXPECT_THAT(v->download_file("missing.pth", tmp_.path() / "one").error(),
                StatusIs(StatusCode::kNotFound, HasSubstr("missing.pth")));
    EXPECT_THAT(v->download_file("../model.pth", tmp_.path() / "one").error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("../model.pth")));
}

TEST_F(ArtifactTest, DownloadDefaultsToArtifactsFolderOfTheCurrentDirectory) {
    SdkRun run = start();
    auto v = run.log_artifact(model("w"));
    ASSERT_TRUE(v.has_value()) << v.error();
    const auto old = fs::current_path();
    fs::current_path(work_);
    auto r = v->download();
    fs::current_path(old);
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_EQ(*r, work_ / "artifacts" / "model-v1");
    EXPECT_EQ(read_file(*r / "model.pth"), "w");
}

TEST_F(ArtifactTest, OverwriteRules) {
    SdkRun run = start();
    auto v = run.log_artifact(model("new content"));
    ASSERT_TRUE(v.has_value()) << v.error();
    const auto dest = tmp_.path() / "dest";
    write_file(dest / "model.pth", "old content");
    EXPECT_THAT(v->download(dest).error(),
                StatusIs(StatusCode::kAlreadyExists, HasSubstr("model.pth")));
    EXPECT_EQ(read_file(dest / "model.pth"), "old content");
    EXPECT_THAT(v->download_file("model.pth", dest).error(),
                StatusIs(StatusCode::kAlreadyExists, HasSubstr("model.pth")));

    DownloadOptions over;
    over.overwrite = true;
    ASSERT_TRUE(v->download(dest, over).has_value());
    EXPECT_EQ(read_file(dest / "model.pth"), "new content");
    // Identical content is kept without overwrite.
    ASSERT_TRUE(v->download(dest).has_value());
    ASSERT_TRUE(v->download_file("model.pth", dest).has_value());
}

TEST_F(ArtifactTest, DownloadStaysInsideTheDestination) {
    SdkRun run = start();
    write_file(work_ / "d" / "sub" / "x.txt", "x");
    Artifact a("nested", "data");
    ASSERT_OK(a.add_dir(work_ / "d"));
    auto v = run.log_artifact(a);
    ASSERT_TRUE(v.has_value()) << v.error();

    // A symlinked folder inside dest would carry the file outside it.
    const auto outside = tmp_.path() / "outside";
    fs::create_directories(outside);
    const auto dest = tmp_.path() / "dest";
    fs::create_directories(dest);
    fs::create_directory_symlink(outside, dest / "sub");
    EXPECT_THAT(v->download(dest).error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("symlink")));
    EXPECT_THAT(v->download_file("sub/x.txt", dest).error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("symlink")));
    EXPECT_TRUE(fs::is_empty(outside));

    // A tampered manifest with a ".." path is refused, nothing written outside.
    const auto manifest = root_ / "artifacts" / "nested" / "v1" / "manifest.json";
    std::string text = read_file(manifest);
    const auto at = text.find("sub/x.txt");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 9, "../../x.t");
    fs::permissions(manifest, fs::perms::owner_write, fs::perm_options::add);
    write_file(manifest, text);
    const auto dest2 = tmp_.path() / "a" / "b";
    EXPECT_THAT(v->download(dest2).error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("..")));
    EXPECT_FALSE(fs::exists(tmp_.path() / "x.t"));
}

TEST_F(ArtifactTest, ParallelThreadsGetDistinctVersions) {
    SdkRun run = start();
    constexpr int kThreads = 4;
    std::vector<std::thread> threads;
    std::vector<int> versions(kThreads, 0);
    std::vector<std::string> errors(kThreads);
    for (int i = 0; i < kThreads; ++i) {
        const auto file = work_ / ("w" + std::to_string(i));
        write_file(file, "content " + std::to_string(i));
        threads.emplace_back([&, i, file] {
            Artifact a("shared", "model");
            if (auto s = a.add_file(file, "w.bin"); !s.is_ok()) {
                errors[i] = s.to_string();
                return;
            }
            auto v = run.log_artifact(a);
            if (v.has_value()) {
                versions[i] = v->version();
            } else {
                errors[i] = v.error().to_string();
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (const auto& e : errors) {
        EXPECT_EQ(e, "");
    }
    EXPECT_EQ(std::set<int>(versions.begin(), versions.end()), (std::set<int>{1, 2, 3, 4}));
    const auto doc = read_json(run.run_dir() / "artifacts.json");
    EXPECT_EQ(doc.at("logged").as_array().size(), 4u);
}

// The body of the two-process test: run as a child process of the test binary
// (RUNICORN_ARTIFACT_CHILD set), skipped otherwise.
TEST(ArtifactChild, LogsOneVersion) {
    const char* root = std::getenv("RUNICORN_ARTIFACT_CHILD_ROOT");
    const char* content = std::getenv("RUNICORN_ARTIFACT_CHILD_CONTENT");
    if (root == nullptr || content == nullptr) {
        GTEST_SKIP() << "only run as a child of ArtifactTest.ParallelProcessesGetDistinctVersions";
    }
    set_enabled(true);
    InitOptions o;
    o.storage = root;
    o.path = "art/child";
    auto run = init(std::move(o));
    ASSERT_TRUE(run.has_value()) << run.error();
    const auto file = fs::path(root).parent_path() / (std::string("src-") + content);
    write_file(file, content);
    Artifact a("multi", "model");
    ASSERT_OK(a.add_file(file, "w.bin"));
    auto v = run->log_artifact(a);
    ASSERT_TRUE(v.has_value()) << v.error();
    ASSERT_OK(run->finish());
}

TEST_F(ArtifactTest, ParallelProcessesGetDistinctVersions) {
    fs::create_directories(root_);
    std::vector<pid_t> children;
    for (const char* content : {"alpha", "beta", "gamma"}) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::setenv("RUNICORN_ARTIFACT_CHILD_ROOT", root_.c_str(), 1);
            ::setenv("RUNICORN_ARTIFACT_CHILD_CONTENT", content, 1);
            ::execl("/proc/self/exe", "artifact_test",
                    "--gtest_filter=ArtifactChild.LogsOneVersion", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ASSERT_GT(pid, 0);
        children.push_back(pid);
    }
    for (const pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
    std::set<int> versions;
    std::set<std::string> digests;
    for (int n = 1; n <= 3; ++n) {
        auto v = artifact("multi:v" + std::to_string(n), root_.string());
        ASSERT_TRUE(v.has_value()) << v.error();
        versions.insert(v->version());
        digests.insert(v->digest());
    }
    EXPECT_EQ(versions.size(), 3u);
    EXPECT_EQ(digests.size(), 3u);
    EXPECT_THAT(artifact("multi:v4", root_.string()).error(),
                StatusIs(StatusCode::kNotFound, HasSubstr("multi:v4")));
}

TEST_F(ArtifactTest, WithoutTheDedupPluginCallsFailCleanly) {
    // A plugin directory holding only the storage plugin.
    const auto plugins = tmp_.path() / "plugins";
    fs::create_directories(plugins);
    fs::copy(fs::path(RUNICORN_TEST_PLUGIN_DIR) / "storage", plugins / "storage",
             fs::copy_options::recursive);
    ::setenv("RUNICORN_PLUGIN_PATH", plugins.c_str(), 1);
    root_ = tmp_.path() / "store-without-dedup";
    SdkRun run = start();
    ASSERT_TRUE(run.enabled());
    EXPECT_THAT(run.log_artifact(model("w")).error(),
                StatusIs(StatusCode::kUnavailable, HasSubstr("dedup plugin")));
    EXPECT_THAT(run.use_artifact("model").error(),
                StatusIs(StatusCode::kUnavailable, HasSubstr("dedup plugin")));
    EXPECT_THAT(artifact("model", root_.string()).error(),
                StatusIs(StatusCode::kUnavailable, HasSubstr("dedup plugin")));
    run.log({{"loss", 1.0}});  // the run itself still works
    ASSERT_OK(run.finish());
}

TEST_F(ArtifactTest, RefusesBadNamesAndSources) {
    for (const std::string& bad :
         std::vector<std::string>{"", "a/b", "a:b", ".hidden", "-x", std::string(129, 'a')}) {
        EXPECT_THAT(Artifact::create(bad, "model").error(),
                    StatusIs(StatusCode::kInvalidArgument, HasSubstr("invalid artifact name")))
            << bad;
    }
    EXPECT_THAT(Artifact::create("ok", "bad type").error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("invalid artifact type")));
    EXPECT_THAT(Artifact::create("ok", std::string(65, 't')).error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("invalid artifact type")));
    ASSERT_TRUE(Artifact::create(std::string(128, 'a'), "model").has_value());

    write_file(work_ / "f.txt", "f");
    Artifact a("ok", "model");
    EXPECT_THAT(a.add_file(work_ / "nope.txt"),
                StatusIs(StatusCode::kNotFound, HasSubstr("nope.txt")));
    EXPECT_THAT(a.add_dir(work_ / "nope"), StatusIs(StatusCode::kNotFound, HasSubstr("nope")));
    EXPECT_THAT(a.add_file(work_), StatusIs(StatusCode::kInvalidArgument, HasSubstr("add_dir")));
    EXPECT_THAT(a.add_dir(work_ / "f.txt"),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("add_file")));
    for (const std::string bad : {"../f.txt", "/abs", "a//b", "a/./b", "a/"}) {
        EXPECT_THAT(a.add_file(work_ / "f.txt", bad),
                    StatusIs(StatusCode::kInvalidArgument, HasSubstr(bad)))
            << bad;
    }
    ASSERT_OK(a.add_file(work_ / "f.txt"));
    EXPECT_THAT(a.add_file(work_ / "f.txt"),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("already taken")));
    ASSERT_OK(a.add_dir(work_, "dir"));
    EXPECT_THAT(a.add_dir(work_, "dir"),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("already taken")));
    EXPECT_THAT(a.set_metadata(Json::array({1})),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("object")));
    EXPECT_EQ(a.sources().size(), 2u);
}

TEST_F(ArtifactTest, RefusesBadLogsAndUnknownReferences) {
    SdkRun run = start();
    // Names are checked at log time too.
    Artifact bad_name("a/b", "model");
    EXPECT_THAT(run.log_artifact(bad_name).error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("a/b")));
    Artifact empty("empty", "model");
    EXPECT_THAT(run.log_artifact(empty).error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("no files")));
    // Two sources that put a file at one path.
    write_file(work_ / "d1" / "x.txt", "1");
    write_file(work_ / "d2" / "x.txt", "2");
    Artifact clash("clash", "data");
    ASSERT_OK(clash.add_dir(work_ / "d1"));
    ASSERT_OK(clash.add_dir(work_ / "d2"));
    EXPECT_THAT(run.log_artifact(clash).error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("x.txt")));
    // A source deleted after it was added.
    write_file(work_ / "gone.txt", "g");
    Artifact gone("gone", "data");
    ASSERT_OK(gone.add_file(work_ / "gone.txt"));
    fs::remove(work_ / "gone.txt");
    EXPECT_THAT(run.log_artifact(gone).error(),
                StatusIs(StatusCode::kNotFound, HasSubstr("gone.txt")));
    // The type is fixed by the first version.
    ASSERT_TRUE(run.log_artifact(model("m")).has_value());
    write_file(work_ / "other.bin", "o");
    Artifact retyped("model", "dataset");
    ASSERT_OK(retyped.add_file(work_ / "other.bin"));
    EXPECT_THAT(run.log_artifact(retyped).error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("type")));

    EXPECT_THAT(run.use_artifact("unknown").error(),
                StatusIs(StatusCode::kNotFound, HasSubstr("unknown")));
    EXPECT_THAT(run.use_artifact("model:v9").error(),
                StatusIs(StatusCode::kNotFound, HasSubstr("model:v9")));
    EXPECT_THAT(run.use_artifact("model:v0").error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("v0")));
    EXPECT_THAT(run.use_artifact("model:").error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("model:")));
    EXPECT_THAT(run.use_artifact("bad/name").error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("bad/name")));
    // An artifact whose every version was deleted has no latest.
    auto opener = sdk::load_run_store(root_.string());
    ASSERT_TRUE(opener.has_value());
    ASSERT_TRUE((*opener)->artifact_store()->delete_version("model", 1, true).has_value());
    EXPECT_THAT(run.use_artifact("model:latest").error(),
                StatusIs(StatusCode::kNotFound, HasSubstr("model:latest")));
    EXPECT_THAT(artifact("model", root_.string()).error(),
                StatusIs(StatusCode::kNotFound, HasSubstr("model:latest")));
    // Failed uses recorded nothing.
    EXPECT_TRUE(read_json(run.run_dir() / "artifacts.json").at("used").as_array().empty());

    ASSERT_OK(run.finish());
    EXPECT_THAT(run.log_artifact(model("late")).error(),
                StatusIs(StatusCode::kFailedPrecondition, HasSubstr("finished")));
    EXPECT_THAT(run.use_artifact("model").error(),
                StatusIs(StatusCode::kFailedPrecondition, HasSubstr("finished")));
    EXPECT_THAT(ArtifactVersion().files().error(),
                StatusIs(StatusCode::kFailedPrecondition, HasSubstr("empty")));
}

TEST_F(ArtifactTest, NoOpRunLogsNothingButResolves) {
    {
        SdkRun run = start();
        ASSERT_TRUE(run.log_artifact(model("w")).has_value());
    }
    SdkRun noop;
    EXPECT_THAT(noop.log_artifact(model("w")).error(),
                StatusIs(StatusCode::kFailedPrecondition, HasSubstr("no-op")));
    ::setenv("RUNICORN_DIR", root_.c_str(), 1);
    auto v = noop.use_artifact("model");
    ::unsetenv("RUNICORN_DIR");
    ASSERT_TRUE(v.has_value()) << v.error();
    EXPECT_EQ(v->version(), 1);
}

}  // namespace
}  // namespace runicorn
