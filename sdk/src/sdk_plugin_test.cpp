// The SDK against the real storage plugin, through the shared library (which finds
// build/bin/plugins next to itself). Skipped while the storage plugin cannot open runs.

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/runicorn.hpp>

#include "test_util.hpp"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace runicorn {
namespace {

using ::testing::HasSubstr;

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Why the storage plugin cannot serve the SDK yet, or "" when it can.
std::string skip_reason(const Status& s) {
    if (s.code() == StatusCode::kUnimplemented) {
        return "the storage plugin does not implement open_run yet: " + s.to_string();
    }
    if (s.message().find("no plugin providing runicorn.run_store/1") != std::string::npos) {
        return "no loadable storage plugin: " + s.to_string();
    }
    return "";
}

/// Runs `body` in a forked child and returns its wait status. The child never returns to gtest.
template <class F>
int in_child(F body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        body();
        ::_exit(99);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

TEST(SdkPluginTest, WritesARunThroughTheStoragePlugin) {
    test::TempDir tmp;
    set_enabled(true);
    InitOptions o;
    o.storage = tmp.path().string();
    o.path = "sdk/plugin";
    o.tags = {"it"};
    auto r = init(std::move(o));
    if (!r.has_value()) {
        const std::string why = skip_reason(r.error());
        if (!why.empty()) {
            GTEST_SKIP() << why;
        }
        FAIL() << r.error().to_string();
    }
    runicorn::Run run = std::move(*r);
    EXPECT_TRUE(std::filesystem::is_directory(run.media_dir()));
    ASSERT_TRUE(run.set_primary_metric("acc").is_ok());
    run.log({{"loss", 0.5}, {"acc", 0.7}}, {.stage = "train"});
    run.log({{"loss", 0.25}, {"acc", 0.8}});
    run.log_text("hello");
    ASSERT_TRUE(run.summary(Json::object({{"final_loss", 0.25}})).is_ok());
    const Status fin = run.finish();
    ASSERT_TRUE(fin.is_ok()) << fin;

    const auto dir = run.run_dir();
    const std::string events = read_file(dir / "events.jsonl");
    EXPECT_THAT(events, HasSubstr(R"("data":{"loss":0.5,"acc":0.7,"global_step":1,"time":)"));
    EXPECT_THAT(events, HasSubstr(R"("stage":"train"}})"));
    EXPECT_THAT(events, HasSubstr(R"("data":{"loss":0.25,"acc":0.8,"global_step":2,"time":)"));
    EXPECT_THAT(read_file(dir / "logs.txt"), HasSubstr(" | hello\n"));
    auto json_file = [&dir](const char* name) {
        auto j = Json::parse(read_file(dir / name));
        EXPECT_TRUE(j.has_value()) << name;
        return j.has_value() ? std::move(*j) : Json();
    };
    const Json status = json_file("status.json");
    ASSERT_TRUE(status.find("status") != nullptr);
    EXPECT_EQ(status.find("status")->as_string(), "finished");
    EXPECT_TRUE(status.find("ended_at") != nullptr);
    const Json summary = json_file("summary.json");
    ASSERT_TRUE(summary.find("best_metric_step") != nullptr);
    EXPECT_EQ(summary.find("final_loss")->as_f64(), 0.25);
    EXPECT_EQ(summary.find("best_metric_name")->as_string(), "acc");
    EXPECT_EQ(summary.find("best_metric_step")->as_i64(), 2);
    const Json meta = json_file("meta.json");
    ASSERT_TRUE(meta.find("writer") != nullptr);
    EXPECT_EQ(meta.find("writer")->as_string(), "runicorn-cpp/" + std::string(version()) + " cpp");
    // FORMAT.md §6: the run is registered in Runicorn v0.6's asset index.
    EXPECT_TRUE(std::filesystem::is_regular_file(tmp.path() / "index" / "runicorn.db"));
    reset_enabled();
}

TEST(SdkPluginTest, WriteRunicornIndexFalseKeepsTheV06IndexUntouched) {
    test::TempDir tmp;
    test::TempDir config_home;
    std::filesystem::create_directories(config_home.path() / "runicorn");
    std::ofstream(config_home.path() / "runicorn" / "config.json")
        << R"({"runicorn_cpp": {"sdk": {"write_runicorn_index": false}}})";
    const auto storage = tmp.path() / "store";
    const int status = in_child([&] {
        ::setenv("XDG_CONFIG_HOME", config_home.path().c_str(), 1);
        InitOptions o;
        o.storage = storage.string();
        o.path = "no/index";
        auto r = init(std::move(o));
        if (!r.has_value()) {
            ::_exit(skip_reason(r.error()).empty() ? 1 : 77);
        }
        ::_exit(r->finish().is_ok() ? 0 : 2);
    });
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        GTEST_SKIP() << "no loadable storage plugin";
    }
    ASSERT_EQ(WEXITSTATUS(status), 0);
    EXPECT_TRUE(std::filesystem::is_directory(storage / "runs" / "no" / "index"));
    EXPECT_FALSE(std::filesystem::exists(storage / "index" / "runicorn.db"));
}

/// Opens a run in a child with a fixed id; returns "" or the reason to skip.
std::string probe(const test::TempDir& tmp) {
    InitOptions o;
    o.storage = tmp.path().string();
    o.path = "probe";
    auto r = init(std::move(o));
    if (!r.has_value()) {
        return skip_reason(r.error()).empty() ? r.error().to_string() : skip_reason(r.error());
    }
    (void)r->finish();
    return "";
}

TEST(SdkPluginTest, AtExitFinishesAnOpenRun) {
    test::TempDir tmp;
    set_enabled(true);
    if (const std::string why = probe(tmp); !why.empty()) {
        GTEST_SKIP() << why;
    }
    const int status = in_child([&tmp] {
        InitOptions o;
        o.storage = tmp.path().string();
        o.path = "exit";
        o.run_id = "atexit_run";
        auto r = init(std::move(o));
        if (!r.has_value()) {
            ::_exit(2);
        }
        // A handle never destroyed: only the atexit hook can finish this run. It is held by a
        // static (a root for LeakSanitizer, which would otherwise report it at exit).
        static auto* leaked = new runicorn::Run(std::move(*r));
        leaked->log({{"x", 1}});
        std::exit(0);  // NOLINT(concurrency-mt-unsafe): exit() with a live run is what is tested
    });
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    const auto dir = tmp.path() / "runs" / "exit" / "atexit_run";
    auto st = Json::parse(read_file(dir / "status.json"));
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->find("status")->as_string(), "finished");
    EXPECT_EQ(st->find("exit_reason")->as_string(), "process_exit");
    EXPECT_THAT(read_file(dir / "events.jsonl"), HasSubstr(R"("x":1,"global_step":1)"));
    reset_enabled();
}

TEST(SdkPluginTest, HandledSigtermFinishesTheRunAsInterrupted) {
    test::TempDir tmp;
    set_enabled(true);
    if (const std::string why = probe(tmp); !why.empty()) {
        GTEST_SKIP() << why;
    }
    const int status = in_child([&tmp] {
        InitOptions o;
        o.storage = tmp.path().string();
        o.path = "sig";
        o.run_id = "sigterm_run";
        o.handle_signals = true;
        auto r = init(std::move(o));
        if (!r.has_value()) {
            ::_exit(2);
        }
        r->log({{"x", 1}});
        ::raise(SIGTERM);
        for (;;) {
            ::pause();  // the writer finishes the run, then re-raises SIGTERM
        }
    });
    ASSERT_TRUE(WIFSIGNALED(status)) << status;
    EXPECT_EQ(WTERMSIG(status), SIGTERM);
    const auto dir = tmp.path() / "runs" / "sig" / "sigterm_run";
    auto st = Json::parse(read_file(dir / "status.json"));
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->find("status")->as_string(), "interrupted");
    EXPECT_EQ(st->find("exit_reason")->as_string(), "signal");
    EXPECT_EQ(st->find("signal")->as_i64(), SIGTERM);
    reset_enabled();
}

}  // namespace
}  // namespace runicorn
