#include <atomic>
#include <ctime>
#include <limits>
#include <map>
#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/runicorn.hpp>
#include <runicorn/testing/status_matchers.hpp>

#include "fake_store.hpp"
#include "run_core.hpp"
#include "sdk_internal.hpp"
#include <sys/wait.h>
#include <unistd.h>

namespace runicorn {
namespace {

using ::runicorn::testing::StatusIs;
using test::MemoryRunStore;
using test::MemoryRunWriter;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr double kNow = 1795674136.25;

double fixed_clock() noexcept { return kNow; }

std::string hms(double t) {
    const auto secs = static_cast<std::time_t>(t);
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    return buf;
}

/// Records warnings. Thread safety: safe for concurrent use.
class WarningLog {
public:
    std::function<void(const Warning&)> handler() {
        return [this](const Warning& w) {
            std::lock_guard lock(mu_);
            messages_.push_back(w.message);
            kinds_.push_back(w.kind);
        };
    }
    std::vector<std::string> messages() const {
        std::lock_guard lock(mu_);
        return messages_;
    }
    std::vector<std::string> kinds() const {
        std::lock_guard lock(mu_);
        return kinds_;
    }

private:
    mutable std::mutex mu_;
    std::vector<std::string> messages_;
    std::vector<std::string> kinds_;
};

class RunTest : public ::testing::Test {
protected:
    void SetUp() override {
        store_ = std::make_shared<MemoryRunStore>();
        sdk::set_test_hooks({store_, &fixed_clock});
        set_enabled(true);
    }
    void TearDown() override {
        sdk::set_test_hooks({});
        reset_enabled();
    }

    InitOptions options() {
        InitOptions o;
        o.on_warning = warnings_.handler();
        return o;
    }
    runicorn::Run start(InitOptions o) {
        auto r = init(std::move(o));
        EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error().to_string());
        return r.has_value() ? std::move(*r) : runicorn::Run();
    }
    runicorn::Run start() { return start(options()); }
    MemoryRunWriter& writer() { return *store_->last_writer(); }
    std::string line(std::string_view data) {
        return R"({"ts":1795674136.25,"type":"metrics","data":{)" + std::string(data) +
               R"(,"time":1795674136.25}})" + "\n";
    }

    std::shared_ptr<MemoryRunStore> store_;
    WarningLog warnings_;
};

TEST_F(RunTest, StepCounterStartsAtOneAndFollowsExplicitSteps) {
    runicorn::Run run = start();
    run.log({{"loss", 0.5}});
    run.log({{"loss", 0.25}}, {.step = 10});
    run.log({{"loss", 0.125}});
    run.log({{"loss", 1}}, {.step = 5});
    run.log({{"loss", 2}});
    ASSERT_OK(run.flush());
    EXPECT_EQ(writer().files().events,
              line(R"("loss":0.5,"global_step":1)") + line(R"("loss":0.25,"global_step":10)") +
                  line(R"("loss":0.125,"global_step":11)") + line(R"("loss":1,"global_step":5)") +
                  line(R"("loss":2,"global_step":6)"));
    EXPECT_OK(run.finish());
}

TEST_F(RunTest, StageArgumentAndStageKey) {
    runicorn::Run run = start();
    run.log({{"loss", 0.5}}, {.stage = "train"});
    run.log({{"stage", "eval"}, {"val_loss", 0.45}});
    run.log({{"stage", "eval"}, {"x", 1}}, {.step = 20, .stage = "test"});
    ASSERT_OK(run.flush());
    EXPECT_EQ(writer().files().events,
              R"({"ts":1795674136.25,"type":"metrics","data":{"loss":0.5,"global_step":1,)"
              R"("time":1795674136.25,"stage":"train"}})"
              "\n"
              R"({"ts":1795674136.25,"type":"metrics","data":{"val_loss":0.45,"global_step":2,)"
              R"("time":1795674136.25,"stage":"eval"}})"
              "\n"
              R"({"ts":1795674136.25,"type":"metrics","data":{"x":1,"global_step":20,)"
              R"("time":1795674136.25,"stage":"test"}})"
              "\n");
    EXPECT_OK(run.finish());
}

TEST_F(RunTest, MapAndSpanOverloads) {
    runicorn::Run run = start();
    const std::map<std::string, MetricValue, std::less<>> m{{"b", 2}, {"a", 1}};
    run.log(m, 7, "val");
    const std::vector<Field> fields{{"x", true}, {"global_step", 99}};
    run.log(std::span<const Field>(fields));
    ASSERT_OK(run.flush());
    EXPECT_EQ(writer().files().events,
              R"({"ts":1795674136.25,"type":"metrics","data":{"a":1,"b":2,"global_step":7,)"
              R"("time":1795674136.25,"stage":"val"}})"
              "\n" +
                  line(R"("x":true,"global_step":8)"));
    EXPECT_OK(run.finish());
}

TEST_F(RunTest, InvalidKeysAreDroppedWithOneWarningPerKey) {
    runicorn::Run run = start();
    run.log({{"", 1}, {"ok", 2}});
    run.log({{"", 3}, {std::string_view("a\0b", 3), 4}});
    ASSERT_OK(run.flush());
    EXPECT_EQ(writer().files().events,
              line(R"("ok":2,"global_step":1)") + line(R"("global_step":2)"));
    EXPECT_THAT(warnings_.messages(),
                ElementsAre("run '20260101_000000_100001': dropped the invalid key \"\" (empty)",
                            "run '20260101_000000_100001': dropped the invalid key \"a\\u0000b\" "
                            "(contains NUL)"));
    EXPECT_OK(run.finish());
}

TEST_F(RunTest, LogTextWritesOneLogsLine) {
    runicorn::Run run = start();
    run.log_text("hello text");
    ASSERT_OK(run.flush());
    EXPECT_EQ(writer().files().logs, hms(kNow) + " | hello text\n");
    EXPECT_OK(run.finish());
}

TEST_F(RunTest, LogImageWritesTheMediaFileThenItsEvent) {
    runicorn::Run run = start();
    run.log({{"loss", 1}});
    const std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x02\0\0\0\x03", 24);
    const std::string path =
        run.log_image("train/sample", std::as_bytes(std::span<const char>(png.data(), png.size())),
                      {.step = 3, .caption = "cap", .format = "jpeg"});
    EXPECT_THAT(path, MatchesRegex("media/1795674136250_[0-9a-f]{6}_train_sample\\.png"));
    ASSERT_OK(run.flush());
    const auto files = writer().files();
    ASSERT_EQ(files.media.size(), 1u);
    EXPECT_EQ("media/" + files.media.begin()->first, path);
    EXPECT_EQ(files.media.begin()->second, png);
    EXPECT_EQ(files.events,
              line(R"("loss":1,"global_step":1)") +
                  R"({"ts":1795674136.25,"type":"image","data":{"key":"train/sample",)"
                  R"("path":")" +
                  path +
                  R"(","step":3,"caption":"cap","global_step":1,"format":"png",)"
                  R"("size_bytes":24,"width":2,"height":3}})"
                  "\n");
    EXPECT_OK(run.finish());
}

TEST_F(RunTest, LogImageFailureReturnsEmptyAndWarns) {
    runicorn::Run run = start();
    writer().fail_media(Status::resource_exhausted("media/x.png: No space left on device"));
    const std::string bytes = "not an image";
    EXPECT_EQ(run.log_image("k", std::as_bytes(std::span<const char>(bytes.data(), bytes.size()))),
              "");
    EXPECT_EQ(run.stats().write_errors, 1u);
    EXPECT_THAT(warnings_.kinds(), ElementsAre("write_error"));
    EXPECT_OK(run.finish());
}

TEST_F(RunTest, PrimaryMetricTracksTheBestFiniteNumber) {
    runicorn::Run run = start();
    EXPECT_THAT(run.set_primary_metric(""),
                StatusIs(StatusCode::kInvalidArgument, "invalid primary metric name \"\": empty"));
    ASSERT_OK(run.set_primary_metric("acc", Mode::kMax));
    run.log({{"acc", 0.5}});
    run.log({{"acc", 0.7}});
    run.log({{"acc", std::numeric_limits<double>::quiet_NaN()}});
    run.log({{"acc", true}});
    run.log({{"acc", 0.6}});
    ASSERT_OK(run.finish());
    const auto files = writer().files();
    EXPECT_EQ(boost::json::serialize(files.summary),
              R"({"best_metric_value":7E-1,"best_metric_name":"acc","best_metric_step":2,)"
              R"("best_metric_mode":"max"})");
}

TEST_F(RunTest, MinModeAndIntegerValues) {
    runicorn::Run run = start();
    ASSERT_OK(run.set_primary_metric("loss", Mode::kMin));
    run.log({{"loss", 3}}, {.step = 4});
    run.log({{"loss", 2}}, {.step = 9});
    run.log({{"loss", 5}});
    ASSERT_OK(run.finish());
    const auto s = writer().files().summary;
    EXPECT_EQ(s.at("best_metric_value").as_double(), 2.0);
    EXPECT_EQ(s.at("best_metric_step").as_int64(), 9);
    EXPECT_EQ(s.at("best_metric_mode").as_string(), "min");
}

TEST_F(RunTest, FinishWritesStatusAndClosesTheRun) {
    runicorn::Run run = start();
    run.log({{"loss", 1}});
    ASSERT_OK(run.finish());
    EXPECT_TRUE(run.finished());
    const auto files = writer().files();
    EXPECT_TRUE(files.closed);
    EXPECT_EQ(files.events, line(R"("loss":1,"global_step":1)"));
    EXPECT_EQ(boost::json::serialize(files.status),
              R"({"status":"finished","started_at":1E0,"ended_at":1.79567413625E9})");
    EXPECT_EQ(run.stats().records_written, 1u);
}

TEST_F(RunTest, FinishIsIdempotentAndWarnsOnce) {
    runicorn::Run run = start();
    ASSERT_OK(run.finish("interrupted"));
    EXPECT_THAT(run.finish(), StatusIs(StatusCode::kFailedPrecondition,
                                       "run '20260101_000000_100001' is already finished"));
    EXPECT_THAT(run.finish(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("already")));
    EXPECT_THAT(warnings_.messages(),
                ElementsAre("run '20260101_000000_100001': finish() on a finished run is ignored"));
    EXPECT_EQ(writer().files().status.at("status").as_string(), "interrupted");
    EXPECT_EQ(writer().files().closes, 1);
}

TEST_F(RunTest, CallsOnAFinishedRunDoNothing) {
    runicorn::Run run = start();
    ASSERT_OK(run.finish());
    run.log({{"x", 1}});
    run.log_text("late");
    EXPECT_THAT(run.summary(Json::object({{"a", 1}})),
                StatusIs(StatusCode::kFailedPrecondition, HasSubstr("already finished")));
    EXPECT_THAT(run.flush(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("already")));
    EXPECT_EQ(writer().files().events, "");
    EXPECT_EQ(run.stats().records_logged, 0u);
    EXPECT_THAT(warnings_.kinds(), ElementsAre("finished"));
}

TEST_F(RunTest, ControlUpdatesAreMergedLatestWins) {
    runicorn::Run run = start();
    ASSERT_OK(run.summary(Json::object({{"a", 1}, {"b", 2}})));
    ASSERT_OK(run.summary(Json::object({{"a", 3}})));
    EXPECT_THAT(run.summary(Json(5)),
                StatusIs(StatusCode::kInvalidArgument, "summary() needs a JSON object"));
    ASSERT_OK(run.log_config({.args = Json::object({{"lr", 0.1}})}));
    ASSERT_OK(run.log_config({.extra = Json::object({{"model", "r50"}}),
                              .config_files = std::vector<std::filesystem::path>{"cfg.yaml"}}));
    EXPECT_THAT(run.log_config({.args = Json::array({1})}),
                StatusIs(StatusCode::kInvalidArgument, "log_config(): args must be a JSON object"));
    const std::vector<std::string> tags{" baseline ", "", "v2", "baseline"};
    ASSERT_OK(run.add_tags(tags));
    ASSERT_OK(run.flush());
    const auto files = writer().files();
    EXPECT_EQ(boost::json::serialize(files.summary), R"({"a":3,"b":2})");
    EXPECT_EQ(boost::json::serialize(files.assets.at("config")),
              R"({"args":{"lr":1E-1},"extra":{"model":"r50"},"config_files":["cfg.yaml"]})");
    EXPECT_EQ(boost::json::serialize(files.meta), R"({"tags":["baseline","v2"]})");
    EXPECT_OK(run.finish());
}

TEST_F(RunTest, InitialTagsArePassedAndExtended) {
    InitOptions o = options();
    o.tags = {"a"};
    runicorn::Run run = start(std::move(o));
    const std::vector<std::string> more{"b", "a"};
    ASSERT_OK(run.add_tags(more));
    ASSERT_OK(run.flush());
    EXPECT_EQ(boost::json::serialize(writer().files().meta), R"({"tags":["a","b"]})");
    EXPECT_THAT(store_->opened().at(0).tags, ElementsAre("a"));
    EXPECT_OK(run.finish());
}

TEST_F(RunTest, DropsAreCountedWhenTheStoreFailsAndTheQueueFills) {
    InitOptions o = options();
    o.queue_capacity = 1000;
    runicorn::Run run = start(std::move(o));
    writer().fail_appends(Status::resource_exhausted("events.jsonl: No space left on device"));
    run.log({{"loss", 0.5}});
    EXPECT_THAT(run.flush(),
                StatusIs(StatusCode::kResourceExhausted, "events.jsonl: No space left on device"));
    for (int i = 1; i < 100; ++i) {
        run.log({{"loss", 0.5}});  // returns at once: max_block is 0
    }
    const RunStats s = run.stats();
    EXPECT_EQ(s.records_logged, 100u);
    EXPECT_GT(s.records_dropped, 0u);
    EXPECT_LE(s.queue_bytes, 1000u);
    EXPECT_GE(s.write_errors, 1u);
    EXPECT_THAT(s.last_error, StatusIs(StatusCode::kResourceExhausted, HasSubstr("No space")));
    const auto msgs = warnings_.messages();
    ASSERT_FALSE(msgs.empty());
    EXPECT_THAT(msgs, ::testing::Contains(
                          "run '20260101_000000_100001': writing events.jsonl failed: "
                          "RESOURCE_EXHAUSTED: events.jsonl: No space left on device; the data "
                          "stays queued and is retried"));
    EXPECT_THAT(msgs, ::testing::Contains(
                          "run '20260101_000000_100001': dropped a record: the queue of 1000 "
                          "bytes is full (storage error: RESOURCE_EXHAUSTED: events.jsonl: No "
                          "space left on device); further drops are counted in "
                          "stats().records_dropped and reported every 30 s"));

    // Space returns: the queued records are written, logs.txt notes the loss, and finish
    // reports it in status.json.
    writer().fail_appends(Status::ok());
    ASSERT_OK(run.flush());
    const std::uint64_t dropped = run.stats().records_dropped;
    EXPECT_EQ(run.stats().records_written, 100u - dropped);
    ASSERT_OK(run.finish());
    const auto files = writer().files();
    EXPECT_EQ(files.logs, hms(kNow) + " | [runicorn] " + std::to_string(dropped) +
                              " records dropped (queue full)\n");
    EXPECT_EQ(files.status.at("dropped_records").as_int64(), static_cast<std::int64_t>(dropped));
}

TEST_F(RunTest, FlushTimesOutWhileTheStoreStalls) {
    runicorn::Run run = start();
    writer().stall();
    run.log({{"loss", 1}});
    writer().wait_until_stalled();
    run.log({{"loss", 2}});
    const std::size_t pending =
        line(R"("loss":2,"global_step":2)").size() + line(R"("loss":1,"global_step":1)").size();
    EXPECT_THAT(run.flush(std::chrono::milliseconds(20)),
                StatusIs(StatusCode::kDeadlineExceeded,
                         "flush of run '20260101_000000_100001' timed out after 20 ms (" +
                             std::to_string(pending) + " bytes still queued)"));
    writer().release();
    ASSERT_OK(run.flush());
    EXPECT_EQ(writer().files().events,
              line(R"("loss":1,"global_step":1)") + line(R"("loss":2,"global_step":2)"));
    EXPECT_OK(run.finish());
}

TEST_F(RunTest, LogNeverBlocksOnAFullQueueByDefault) {
    InitOptions o = options();
    o.queue_capacity = 300;
    runicorn::Run run = start(std::move(o));
    writer().stall();
    run.log({{"loss", 1}});
    writer().wait_until_stalled();
    for (int i = 0; i < 50; ++i) {
        run.log({{"loss", 2}});  // the writer is blocked: these fill the queue, then drop
    }
    const RunStats s = run.stats();
    EXPECT_EQ(s.records_logged, 51u);
    EXPECT_GT(s.records_dropped, 40u);
    EXPECT_LE(s.queue_high_water, 300u);
    writer().release();
    EXPECT_OK(run.finish());
}

TEST_F(RunTest, MaxBlockWaitsBoundedThenDropsAndSheds) {
    InitOptions o = options();
    o.queue_capacity = 300;
    o.max_block = std::chrono::milliseconds(5);
    runicorn::Run run = start(std::move(o));
    writer().stall();
    run.log({{"loss", 1}});
    writer().wait_until_stalled();
    for (int i = 0; i < 10; ++i) {
        run.log({{"loss", 2}});
    }
    EXPECT_GT(run.stats().records_dropped, 0u);
    writer().release();
    ASSERT_OK(run.flush());
    run.log({{"loss", 3}});  // the queue drained below half: shedding is over
    ASSERT_OK(run.flush());
    EXPECT_THAT(writer().files().events, HasSubstr(R"("loss":3,)"));
    EXPECT_OK(run.finish());
}

TEST_F(RunTest, FailedMergesAreKeptAndRetried) {
    runicorn::Run run = start();
    writer().fail_merges(Status::unavailable("summary.json: Input/output error"));
    ASSERT_OK(run.summary(Json::object({{"a", 1}})));
    EXPECT_THAT(run.flush(), StatusIs(StatusCode::kUnavailable, HasSubstr("Input/output")));
    ASSERT_OK(run.summary(Json::object({{"b", 2}})));
    writer().fail_merges(Status::ok());
    ASSERT_OK(run.flush());
    EXPECT_EQ(boost::json::serialize(writer().files().summary), R"({"a":1,"b":2})");
    EXPECT_OK(run.finish());
}

TEST_F(RunTest, FinishReportsAStoreFailure) {
    runicorn::Run run = start();
    // The store fails before the record is queued, so the background writer cannot have written
    // it already, however the threads are scheduled.
    writer().fail_appends(Status::resource_exhausted("events.jsonl: No space left on device"));
    run.log({{"x", 1}});
    EXPECT_THAT(run.finish(), StatusIs(StatusCode::kResourceExhausted, HasSubstr("No space")));
    EXPECT_FALSE(writer().files().closed);
    writer().fail_appends(Status::ok());  // the writer retries with back-off and closes later
}

TEST_F(RunTest, LastHandleFinishesTheRun) {
    {
        runicorn::Run run = start();
        runicorn::Run copy = run;
        copy.log({{"x", 1}});
    }
    const auto files = writer().files();
    EXPECT_TRUE(files.closed);
    EXPECT_EQ(files.status.at("status").as_string(), "finished");
    EXPECT_FALSE(files.status.contains("exit_reason"));
}

TEST_F(RunTest, LastHandleDestroyedDuringUnwindingFailsTheRun) {
    try {
        runicorn::Run run = start();
        run.log({{"x", 1}});
        throw std::runtime_error("boom");
    } catch (const std::runtime_error&) {
    }
    const auto files = writer().files();
    EXPECT_TRUE(files.closed);
    EXPECT_EQ(files.status.at("status").as_string(), "failed");
    EXPECT_EQ(files.status.at("exit_reason").as_string(), "exception");
}

TEST_F(RunTest, FinishOnDestroyCanBeTurnedOff) {
    InitOptions o = options();
    o.finish_on_destroy = false;
    std::shared_ptr<MemoryRunWriter> w;
    {
        runicorn::Run run = start(std::move(o));
        w = store_->last_writer();
    }
    EXPECT_FALSE(w->files().closed);
    EXPECT_EQ(w->files().status.at("status").as_string(), "running");
}

TEST_F(RunTest, ActiveRunIsTheLastOpenRun) {
    runicorn::Run run = start();
    auto active = active_run();
    ASSERT_TRUE(active.has_value());
    EXPECT_EQ(active->id(), run.id());
    ASSERT_OK(run.finish());
    EXPECT_FALSE(active_run().has_value());
}

TEST_F(RunTest, IdentityComesFromTheStore) {
    InitOptions o = options();
    o.project = "cv";
    o.name = "yolo";
    o.alias = "first";
    runicorn::Run run = start(std::move(o));
    EXPECT_EQ(run.id(), "20260101_000000_100001");
    EXPECT_EQ(run.path(), "default");
    EXPECT_EQ(run.alias(), "first");
    EXPECT_EQ(run.run_dir(), "/mem/root/runs/default/20260101_000000_100001");
    EXPECT_EQ(run.media_dir(), "/mem/root/runs/default/20260101_000000_100001/media");
    EXPECT_EQ(run.storage_root(), "/mem/root");
    EXPECT_TRUE(run.enabled());
    const auto opened = store_->opened().at(0);
    EXPECT_EQ(opened.path, "cv/yolo");
    EXPECT_EQ(opened.writer, "runicorn-cpp/" + std::string(version()) + " cpp");
    EXPECT_EQ(opened.python_version, std::nullopt);
    EXPECT_OK(run.finish());
}

TEST_F(RunTest, InvalidOptionsAreRefused) {
    InitOptions o = options();
    o.flush_interval = std::chrono::milliseconds(0);
    auto r = init(std::move(o));
    ASSERT_FALSE(r.has_value());
    EXPECT_THAT(r.error(), StatusIs(StatusCode::kInvalidArgument,
                                    "init: flush_interval must be between 1 ms and 60000 ms"));
    InitOptions both = options();
    both.path = "a";
    both.project = "b";
    EXPECT_THAT(
        init(std::move(both)).error(),
        StatusIs(StatusCode::kInvalidArgument, "init: give either path or project/name, not both"));
    EXPECT_TRUE(store_->opened().empty());
}

TEST_F(RunTest, StoreErrorsReachTheCaller) {
    store_->fail_open(Status::already_exists("run id 'x' already exists under 'default'"));
    auto r = init(options());
    ASSERT_FALSE(r.has_value());
    EXPECT_THAT(r.error(),
                StatusIs(StatusCode::kAlreadyExists, "run id 'x' already exists under 'default'"));
}

TEST_F(RunTest, InitOrNoopWarnsAndReturnsANoOpRun) {
    store_->fail_open(Status::permission_denied("'/ro': Permission denied"));
    runicorn::Run run = init_or_noop(options());
    EXPECT_FALSE(run.enabled());
    EXPECT_EQ(run.id(), "disabled");
    EXPECT_THAT(warnings_.messages(),
                ElementsAre("init failed, logging is disabled for this run: PERMISSION_DENIED: "
                            "'/ro': Permission denied"));
}

TEST_F(RunTest, ResumeContinuesTheStepAndTheBestMetric) {
    store_->setup_next([](MemoryRunWriter& w) {
        w.set_resumed(41, boost::json::object{{"best_metric_value", 0.9},
                                              {"best_metric_name", "acc"},
                                              {"best_metric_step", 40},
                                              {"best_metric_mode", "max"}});
    });
    runicorn::Run run = start();
    run.log({{"acc", 0.5}});
    ASSERT_OK(run.finish());
    const auto files = writer().files();
    EXPECT_EQ(files.events, line(R"("acc":0.5,"global_step":42)"));
    EXPECT_EQ(files.summary.at("best_metric_value").as_double(), 0.9);
    EXPECT_EQ(files.summary.at("best_metric_step").as_int64(), 40);
}

TEST_F(RunTest, DisabledModeReturnsANoOpRun) {
    set_enabled(false);
    auto r = init(options());
    ASSERT_TRUE(r.has_value());
    runicorn::Run run = std::move(*r);
    EXPECT_FALSE(run.enabled());
    EXPECT_EQ(run.id(), "disabled");
    EXPECT_EQ(run.path(), "");
    run.log({{"x", 1}});
    run.log_text("t");
    EXPECT_EQ(run.log_image("k", {}), "");
    EXPECT_OK(run.set_primary_metric("x"));
    EXPECT_OK(run.summary(Json::object()));
    EXPECT_OK(run.flush());
    EXPECT_OK(run.finish());
    EXPECT_FALSE(run.finished());
    EXPECT_EQ(run.stats().records_logged, 0u);
    EXPECT_TRUE(store_->opened().empty());
    EXPECT_FALSE(active_run().has_value());
    EXPECT_FALSE(is_enabled());
}

TEST_F(RunTest, DefaultConstructedRunIsANoOpRun) {
    runicorn::Run run;
    EXPECT_FALSE(run.enabled());
    run.log({{"x", 1}});
    EXPECT_OK(run.finish());
}

TEST(EnabledFromEnvTest, ReadsRunicornOnAndRunicornMode) {
    auto env = [](const std::map<std::string, std::string>& m) {
        return [m](const std::string& k) -> std::optional<std::string> {
            auto it = m.find(k);
            return it == m.end() ? std::nullopt : std::optional<std::string>(it->second);
        };
    };
    EXPECT_TRUE(sdk::enabled_from_env(env({})));
    for (const char* off : {"0", "false", "No", "n", "OFF"}) {
        EXPECT_FALSE(sdk::enabled_from_env(env({{"RUNICORN_ON", off}}))) << off;
    }
    for (const char* on : {"1", "true", "yes", "y", "on", "maybe"}) {
        EXPECT_TRUE(sdk::enabled_from_env(env({{"RUNICORN_ON", on}}))) << on;
    }
    EXPECT_FALSE(sdk::enabled_from_env(env({{"RUNICORN_MODE", "disabled"}})));
    EXPECT_TRUE(sdk::enabled_from_env(env({{"RUNICORN_MODE", "online"}})));
}

TEST_F(RunTest, ForkChildInheritsAnInertRun) {
    runicorn::Run run = start();
    run.log({{"x", 1}});
    const pid_t pid = ::fork();
    ASSERT_NE(pid, -1);
    if (pid == 0) {
        // In the child: the inherited run accepts calls and does nothing.
        const std::uint64_t before = run.stats().records_logged;
        run.log({{"child", 1}});
        const bool ok = run.finish().is_ok() && run.stats().records_logged == before &&
                        active_run().has_value();
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    ASSERT_OK(run.finish());
    EXPECT_EQ(writer().files().events, line(R"("x":1,"global_step":1)"));
}

TEST_F(RunTest, ManyThreadsKeepPerThreadOrder) {
    runicorn::Run run = start();
    constexpr int kThreads = 4;
    constexpr int kPerThread = 2000;
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&run, t] {
            for (int i = 0; i < kPerThread; ++i) {
                run.log({{"t", t}, {"i", i}});
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    ASSERT_OK(run.finish());
    const std::string events = writer().files().events;
    std::vector<int> next(kThreads, 0);
    std::size_t pos = 0;
    int lines = 0;
    while (pos < events.size()) {
        const std::size_t end = events.find('\n', pos);
        ASSERT_NE(end, std::string::npos);
        const std::string l = events.substr(pos, end - pos);
        const auto tp = l.find(R"("t":)");
        const auto ip = l.find(R"(,"i":)");
        const int t = std::stoi(l.substr(tp + 4));
        const int i = std::stoi(l.substr(ip + 5));
        EXPECT_EQ(i, next[t]++);
        ++lines;
        pos = end + 1;
    }
    EXPECT_EQ(lines, kThreads * kPerThread);
}

}  // namespace
}  // namespace runicorn
