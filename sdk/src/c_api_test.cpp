#include <cstring>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/c/runicorn.h>

#include "fake_store.hpp"
#include "sdk_internal.hpp"

namespace runicorn {
namespace {

using test::MemoryRunStore;
using ::testing::HasSubstr;
using ::testing::StartsWith;

double fixed_clock() noexcept { return 1795674136.25; }

struct Recorded {
    std::vector<std::string> messages;
    std::vector<int> codes;
};

extern "C" void record_warning(int code, const char* /*kind*/, const char* message, void* user) {
    auto* r = static_cast<Recorded*>(user);
    r->messages.emplace_back(message);
    r->codes.push_back(code);
}

class CApiTest : public ::testing::Test {
protected:
    void SetUp() override {
        store_ = std::make_shared<MemoryRunStore>();
        sdk::set_test_hooks({store_, &fixed_clock});
        rn_set_enabled(1);
        ASSERT_EQ(rn_set_warning_callback(&record_warning, &warnings_), RN_OK);
    }
    void TearDown() override {
        rn_release_all();
        (void)rn_set_warning_callback(nullptr, nullptr);
        sdk::set_test_hooks({});
        rn_reset_enabled();
    }
    rn_run* open() {
        rn_init_options o;
        rn_init_options_default(&o);
        rn_run* run = nullptr;
        EXPECT_EQ(rn_init(&o, &run), RN_OK) << rn_last_error();
        runs_.push_back(run);
        return run;
    }
    void rn_release_all() {
        for (rn_run* r : runs_) {
            (void)rn_run_release(r);
        }
        runs_.clear();
    }
    std::string events() { return store_->last_writer()->files().events; }

    std::shared_ptr<MemoryRunStore> store_;
    std::vector<rn_run*> runs_;
    Recorded warnings_;
};

TEST_F(CApiTest, VersionsAndStatusNames) {
    EXPECT_EQ(rn_abi_version(), 0x10002u);
    EXPECT_STREQ(rn_version(), std::string(version()).c_str());
    EXPECT_STREQ(rn_status_name(RN_OK), "OK");
    EXPECT_STREQ(rn_status_name(RN_E_DEADLINE_EXCEEDED), "DEADLINE_EXCEEDED");
    EXPECT_STREQ(rn_status_name(RN_E_BUFFER_TOO_SMALL), "BUFFER_TOO_SMALL");
    EXPECT_STREQ(rn_status_name(99), "UNKNOWN");
}

TEST_F(CApiTest, InitArgumentErrors) {
    EXPECT_EQ(rn_init(nullptr, nullptr), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(), "rn_init: out is NULL");

    rn_init_options o;
    rn_init_options_default(&o);
    o.struct_size = 0;
    rn_run* run = nullptr;
    EXPECT_EQ(rn_init(&o, &run), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(),
                 "rn_init: options->struct_size is too small; call rn_init_options_default first");

    rn_init_options_default(&o);
    o.snapshot_format = 7;
    EXPECT_EQ(rn_init(&o, &run), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(), "rn_init: invalid snapshot_format 7");

    rn_init_options_default(&o);
    o.durability = 7;
    EXPECT_EQ(rn_init(&o, &run), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(), "rn_init: invalid durability 7");

    rn_init_options_default(&o);
    o.flush_interval_ms = 0;
    EXPECT_EQ(rn_init(&o, &run), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(), "init: flush_interval must be between 1 ms and 60000 ms");
    EXPECT_EQ(run, nullptr);
}

TEST_F(CApiTest, StoreErrorCodesMapOneToOne) {
    store_->fail_open(Status::unavailable("run 'x' is held by pid 42"));
    rn_run* run = nullptr;
    EXPECT_EQ(rn_init(nullptr, &run), RN_E_UNAVAILABLE);
    EXPECT_STREQ(rn_last_error(), "run 'x' is held by pid 42");
    store_->fail_open(Status::permission_denied("'/ro': Permission denied"));
    EXPECT_EQ(rn_init(nullptr, &run), RN_E_PERMISSION_DENIED);
}

TEST_F(CApiTest, OlderCallerStructSizeIsAccepted) {
    // A caller compiled when the struct ended after `alias`.
    rn_init_options o;
    rn_init_options_default(&o);
    o.struct_size = offsetof(rn_init_options, tags);
    o.run_id = "custom_id";
    o.tag_count = 5;  // beyond struct_size: never read
    rn_run* run = nullptr;
    ASSERT_EQ(rn_init(&o, &run), RN_OK) << rn_last_error();
    runs_.push_back(run);
    EXPECT_EQ(store_->opened().at(0).run_id, "custom_id");
    EXPECT_TRUE(store_->opened().at(0).tags.empty());
    EXPECT_EQ(store_->opened().at(0).writer, "runicorn-cpp/" + std::string(version()) + " c");
}

TEST_F(CApiTest, LogWritesEveryValueType) {
    rn_run* run = open();
    rn_kv items[5];
    std::memset(items, 0, sizeof items);
    items[0].key = "loss";
    items[0].type = RN_VAL_F64;
    items[0].v.f64 = 0.5;
    items[1].key = "epoch";
    items[1].type = RN_VAL_I64;
    items[1].v.i64 = 3;
    items[2].key = "ok";
    items[2].type = RN_VAL_BOOL;
    items[2].v.boolean = 1;
    items[3].key = "note";
    items[3].type = RN_VAL_STR;
    items[3].v.str.ptr = "abc";
    items[3].v.str.len = 2;
    items[4].key = "none";
    items[4].type = RN_VAL_NULL;
    ASSERT_EQ(rn_log(run, items, 5, RN_AUTO_STEP, "train"), RN_OK);
    const char* keys[] = {"a", "b"};
    const double values[] = {1.5, -2.0};
    ASSERT_EQ(rn_log_f64(run, keys, values, 2, 10, nullptr), RN_OK);
    ASSERT_EQ(rn_flush(run, 5000), RN_OK) << rn_last_error();
    EXPECT_EQ(events(),
              R"({"ts":1795674136.25,"type":"metrics","data":{"loss":0.5,"epoch":3,"ok":true,)"
              R"("note":"ab","none":null,"global_step":1,"time":1795674136.25,"stage":"train"}})"
              "\n"
              R"({"ts":1795674136.25,"type":"metrics","data":{"a":1.5,"b":-2.0,"global_step":10,)"
              R"("time":1795674136.25}})"
              "\n");
}

TEST_F(CApiTest, LogArgumentErrors) {
    rn_run* run = open();
    EXPECT_EQ(rn_log(nullptr, nullptr, 0, RN_AUTO_STEP, nullptr), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(), "rn_log: run is NULL");
    EXPECT_EQ(rn_log(run, nullptr, 1, RN_AUTO_STEP, nullptr), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(), "rn_log: items is NULL but n is not 0");
    rn_kv kv{};
    kv.key = "x";
    kv.type = 9;
    EXPECT_EQ(rn_log(run, &kv, 1, RN_AUTO_STEP, nullptr), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(), "rn_log: items[0].type 9 is not an RN_VAL_* value");
    kv.key = nullptr;
    EXPECT_EQ(rn_log(run, &kv, 1, RN_AUTO_STEP, nullptr), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(), "rn_log: items[0].key is NULL");
}

TEST_F(CApiTest, LastErrorIsThreadLocal) {
    EXPECT_EQ(rn_log(nullptr, nullptr, 0, RN_AUTO_STEP, nullptr), RN_E_INVALID_ARGUMENT);
    std::string other;
    std::thread([&other] { other = rn_last_error(); }).join();
    EXPECT_EQ(other, "");
    EXPECT_STREQ(rn_last_error(), "rn_log: run is NULL");
}

TEST_F(CApiTest, LogImageBufferTooSmallProtocol) {
    rn_run* run = open();
    const unsigned char gif[] = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0};
    char small[4];
    std::size_t needed = 0;
    EXPECT_EQ(rn_log_image(run, "k", gif, sizeof gif, RN_NO_STEP, nullptr, nullptr, small,
                           sizeof small, &needed),
              RN_E_BUFFER_TOO_SMALL);
    const std::size_t expected = std::strlen("media/1795674136250_000000_k.gif") + 1;
    EXPECT_EQ(needed, expected);
    EXPECT_EQ(std::string(rn_last_error()), "rn_log_image: the output buffer holds 4 bytes, " +
                                                std::to_string(expected) +
                                                " needed (the image was logged)");

    std::vector<char> buf(needed);
    ASSERT_EQ(
        rn_log_image(run, "k", gif, sizeof gif, 7, "c", nullptr, buf.data(), buf.size(), &needed),
        RN_OK);
    EXPECT_THAT(std::string(buf.data()), StartsWith("media/1795674136250_"));
    EXPECT_EQ(std::strlen(buf.data()) + 1, needed);

    // No text wanted.
    EXPECT_EQ(
        rn_log_image(run, "k", gif, sizeof gif, RN_NO_STEP, nullptr, nullptr, nullptr, 0, nullptr),
        RN_OK);
    ASSERT_EQ(rn_flush(run, 5000), RN_OK);
    EXPECT_EQ(store_->last_writer()->files().media.size(), 3u);
    EXPECT_THAT(events(), HasSubstr(R"("step":7,"caption":"c","global_step":0,"format":"gif")"));
}

TEST_F(CApiTest, LogImageErrors) {
    rn_run* run = open();
    const char bytes[] = "???";
    EXPECT_EQ(rn_log_image(run, "", bytes, 3, RN_NO_STEP, nullptr, nullptr, nullptr, 0, nullptr),
              RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(), "invalid image key \"\": empty");
    EXPECT_EQ(rn_log_image(run, "k", bytes, 3, RN_NO_STEP, nullptr, "a.b", nullptr, 0, nullptr),
              RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(),
                 "invalid image format \"a.b\": expected 1-10 ASCII letters or digits");
    EXPECT_EQ(
        rn_log_image_file(run, "k", "/nonexistent/x.png", RN_NO_STEP, nullptr, nullptr, 0, nullptr),
        RN_E_NOT_FOUND);
    EXPECT_STREQ(rn_last_error(), "rn_log_image_file: cannot open '/nonexistent/x.png'");
}

TEST_F(CApiTest, SummaryAndConfigJson) {
    rn_run* run = open();
    EXPECT_EQ(rn_summary_json(run, "[1]"), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(), "rn_summary_json: expected a JSON object");
    EXPECT_EQ(rn_summary_json(run, "{\"a\": }"), RN_E_INVALID_ARGUMENT);
    EXPECT_THAT(rn_last_error(), StartsWith("rn_summary_json: invalid JSON: line 1, column "));
    ASSERT_EQ(rn_summary_json(run, R"({"final": 0.25})"), RN_OK);
    const char* files[] = {"cfg.yaml"};
    ASSERT_EQ(rn_log_config_json(run, R"({"lr": 0.1})", nullptr, files, 1), RN_OK);
    ASSERT_EQ(rn_set_primary_metric(run, "acc", RN_MODE_MIN), RN_OK);
    EXPECT_EQ(rn_set_primary_metric(run, "acc", 5), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(),
                 "rn_set_primary_metric: invalid mode 5 (RN_MODE_MAX or RN_MODE_MIN)");
    ASSERT_EQ(rn_finish(run, nullptr), RN_OK);
    const auto f = store_->last_writer()->files();
    EXPECT_EQ(boost::json::serialize(f.summary), R"({"final":2.5E-1})");
    EXPECT_EQ(boost::json::serialize(f.assets.at("config")),
              R"({"args":{"lr":1E-1},"config_files":["cfg.yaml"]})");
}

TEST_F(CApiTest, FinishTwiceIsAFailedPrecondition) {
    rn_run* run = open();
    ASSERT_EQ(rn_finish(run, "finished"), RN_OK);
    EXPECT_EQ(rn_finish(run, nullptr), RN_E_FAILED_PRECONDITION);
    EXPECT_STREQ(rn_last_error(), "run '20260101_000000_100001' is already finished");
    EXPECT_EQ(rn_log_f64(run, nullptr, nullptr, 0, RN_AUTO_STEP, nullptr),
              RN_E_FAILED_PRECONDITION);
    ASSERT_EQ(warnings_.messages.size(), 1u);  // the log() warning of the same kind is held back
    EXPECT_EQ(warnings_.messages[0],
              "run '20260101_000000_100001': finish() on a finished run is ignored");
    EXPECT_EQ(warnings_.codes[0], RN_E_FAILED_PRECONDITION);
    EXPECT_EQ(rn_run_release(run), RN_OK);
    runs_.clear();
}

TEST_F(CApiTest, FlushTimesOutWithAStalledStore) {
    rn_run* run = open();
    auto w = store_->last_writer();
    w->stall();
    const char* key = "x";
    const double v = 1.0;
    ASSERT_EQ(rn_log_f64(run, &key, &v, 1, RN_AUTO_STEP, nullptr), RN_OK);
    w->wait_until_stalled();
    EXPECT_EQ(rn_flush(run, 1), RN_E_DEADLINE_EXCEEDED);
    EXPECT_THAT(rn_last_error(), StartsWith("flush of run '20260101_000000_100001' timed out "
                                            "after 1 ms ("));
    w->release();
    EXPECT_EQ(rn_flush(run, 5000), RN_OK);
}

TEST_F(CApiTest, InfoAndStatsHonourStructSize) {
    rn_run* run = open();
    rn_run_info info;
    std::memset(&info, 0xab, sizeof info);
    info.struct_size = offsetof(rn_run_info, run_dir);  // an older caller: id and path only
    ASSERT_EQ(rn_run_get_info(run, &info), RN_OK);
    EXPECT_EQ(info.struct_size, offsetof(rn_run_info, run_dir));
    EXPECT_STREQ(info.id, "20260101_000000_100001");
    EXPECT_STREQ(info.path, "default");
    unsigned char untouched[sizeof(const char*)];
    std::memset(untouched, 0xab, sizeof untouched);
    EXPECT_EQ(std::memcmp(&info.run_dir, untouched, sizeof untouched), 0);

    rn_run_info full{};
    full.struct_size = sizeof full;
    ASSERT_EQ(rn_run_get_info(run, &full), RN_OK);
    EXPECT_STREQ(full.run_dir, "/mem/root/runs/default/20260101_000000_100001");
    EXPECT_STREQ(full.storage_root, "/mem/root");
    EXPECT_EQ(full.enabled, 1);
    EXPECT_EQ(full.finished, 0);

    rn_run_stats st{};
    st.struct_size = 0;
    EXPECT_EQ(rn_run_get_stats(run, &st), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(), "rn_run_get_stats: out->struct_size is too small");
    st.struct_size = sizeof st;
    const char* key = "x";
    const double v = 1.0;
    ASSERT_EQ(rn_log_f64(run, &key, &v, 1, RN_AUTO_STEP, nullptr), RN_OK);
    ASSERT_EQ(rn_flush(run, 5000), RN_OK);
    ASSERT_EQ(rn_run_get_stats(run, &st), RN_OK);
    EXPECT_EQ(st.records_logged, 1u);
    EXPECT_EQ(st.records_written, 1u);
    EXPECT_EQ(st.records_dropped, 0u);
}

TEST_F(CApiTest, DroppedRecordsReturnResourceExhausted) {
    rn_init_options o;
    rn_init_options_default(&o);
    o.queue_capacity_bytes = 10;
    rn_run* run = nullptr;
    ASSERT_EQ(rn_init(&o, &run), RN_OK);
    runs_.push_back(run);
    const char* key = "x";
    const double v = 1.0;
    EXPECT_EQ(rn_log_f64(run, &key, &v, 1, RN_AUTO_STEP, nullptr), RN_E_RESOURCE_EXHAUSTED);
    EXPECT_STREQ(rn_last_error(),
                 "rn_log_f64: run '20260101_000000_100001': the record was "
                 "dropped (queue full or out of memory)");
    ASSERT_EQ(warnings_.messages.size(), 1u);
    EXPECT_THAT(warnings_.messages[0],
                HasSubstr("dropped a record: the queue of 10 bytes is full"));
}

TEST_F(CApiTest, DisabledModeGivesANoOpRun) {
    rn_set_enabled(0);
    EXPECT_EQ(rn_is_enabled(), 0);
    rn_run* run = nullptr;
    ASSERT_EQ(rn_init(nullptr, &run), RN_OK);
    runs_.push_back(run);
    rn_run_info info{};
    info.struct_size = sizeof info;
    ASSERT_EQ(rn_run_get_info(run, &info), RN_OK);
    EXPECT_STREQ(info.id, "disabled");
    EXPECT_EQ(info.enabled, 0);
    const char* key = "x";
    const double v = 1.0;
    EXPECT_EQ(rn_log_f64(run, &key, &v, 1, RN_AUTO_STEP, nullptr), RN_OK);
    char path[8] = "junk";
    std::size_t needed = 0;
    EXPECT_EQ(
        rn_log_image(run, "k", "x", 1, RN_NO_STEP, nullptr, nullptr, path, sizeof path, &needed),
        RN_OK);
    EXPECT_STREQ(path, "");
    EXPECT_EQ(needed, 1u);
    EXPECT_EQ(rn_finish(run, nullptr), RN_OK);
    EXPECT_TRUE(store_->opened().empty());
    rn_reset_enabled();
}

TEST_F(CApiTest, ReleaseFinishesTheRun) {
    rn_run* run = open();
    runs_.clear();
    auto w = store_->last_writer();
    EXPECT_EQ(rn_run_release(run), RN_OK);
    EXPECT_TRUE(w->files().closed);
    EXPECT_EQ(w->files().status.at("status").as_string(), "finished");
    EXPECT_EQ(rn_run_release(nullptr), RN_OK);
}

}  // namespace
}  // namespace runicorn
