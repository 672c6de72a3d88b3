// C ABI 1.1 additions used by the Python package: rn_log_raw, rn_finish_ex and the
// rn_init_options members writer_language and python_version.

#include <cstddef>
#include <cstring>
#include <memory>
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

double fixed_clock() noexcept { return 1795674136.25; }

extern "C" void ignore_warning(int /*code*/, const char* /*kind*/, const char* /*message*/,
                               void* /*user*/) {}

class CApiMoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        store_ = std::make_shared<MemoryRunStore>();
        sdk::set_test_hooks({store_, &fixed_clock});
        rn_set_enabled(1);
        ASSERT_EQ(rn_set_warning_callback(&ignore_warning, nullptr), RN_OK);
    }
    void TearDown() override {
        for (rn_run* r : runs_) {
            (void)rn_run_release(r);
        }
        (void)rn_set_warning_callback(nullptr, nullptr);
        sdk::set_test_hooks({});
        rn_reset_enabled();
    }
    rn_run* open(const rn_init_options* o = nullptr) {
        rn_run* run = nullptr;
        EXPECT_EQ(rn_init(o, &run), RN_OK) << rn_last_error();
        runs_.push_back(run);
        return run;
    }

    std::shared_ptr<MemoryRunStore> store_;
    std::vector<rn_run*> runs_;
};

TEST_F(CApiMoreTest, AbiMinorIsTwo) { EXPECT_EQ(rn_abi_version() & 0xFFFFu, 2u); }

TEST_F(CApiMoreTest, LogRawAppendsTextVerbatimWithOneNewline) {
    rn_run* run = open();
    const std::string a = "[06:22:16] epoch 1";
    const std::string b = "06:22:17 | INFO | trainer | saved\n";
    ASSERT_EQ(rn_log_raw(run, a.data(), a.size()), RN_OK);
    ASSERT_EQ(rn_log_raw(run, b.data(), b.size()), RN_OK);
    ASSERT_EQ(rn_flush(run, 5000), RN_OK) << rn_last_error();
    EXPECT_EQ(store_->last_writer()->files().logs,
              "[06:22:16] epoch 1\n06:22:17 | INFO | trainer | saved\n");
}

TEST_F(CApiMoreTest, LogRawBadInputsAndFinishedRun) {
    EXPECT_EQ(rn_log_raw(nullptr, "x", 1), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(), "rn_log_raw: run is NULL");
    rn_run* run = open();
    EXPECT_EQ(rn_log_raw(run, nullptr, 3), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(), "rn_log_raw: utf8 is NULL but len is not 0");
    ASSERT_EQ(rn_finish(run, nullptr), RN_OK);
    EXPECT_EQ(rn_log_raw(run, "x", 1), RN_E_FAILED_PRECONDITION);
}

TEST_F(CApiMoreTest, FinishExWritesExitReason) {
    rn_run* run = open();
    ASSERT_EQ(rn_finish_ex(run, "failed", "exception"), RN_OK) << rn_last_error();
    const auto status = store_->last_writer()->files().status;
    EXPECT_EQ(status.at("status").as_string(), "failed");
    EXPECT_EQ(status.at("exit_reason").as_string(), "exception");
    EXPECT_EQ(rn_finish_ex(run, "failed", "exception"), RN_E_FAILED_PRECONDITION);
    EXPECT_EQ(rn_finish_ex(nullptr, nullptr, nullptr), RN_E_INVALID_ARGUMENT);
}

TEST_F(CApiMoreTest, FinishExWithoutReasonWritesNone) {
    rn_run* run = open();
    ASSERT_EQ(rn_finish_ex(run, nullptr, nullptr), RN_OK) << rn_last_error();
    const auto status = store_->last_writer()->files().status;
    EXPECT_EQ(status.at("status").as_string(), "finished");
    EXPECT_EQ(status.find("exit_reason"), status.end());
}

TEST_F(CApiMoreTest, WriterLanguageAndPythonVersion) {
    rn_init_options o;
    rn_init_options_default(&o);
    EXPECT_EQ(o.writer_language, nullptr);
    EXPECT_EQ(o.python_version, nullptr);
    o.writer_language = "python";
    o.python_version = "3.11.2";
    open(&o);
    EXPECT_EQ(store_->opened().at(0).writer, "runicorn-cpp/" + std::string(version()) + " python");
    EXPECT_EQ(store_->opened().at(0).python_version, std::optional<std::string>("3.11.2"));

    o.writer_language = "cobol";
    rn_run* run = nullptr;
    EXPECT_EQ(rn_init(&o, &run), RN_E_INVALID_ARGUMENT);
    EXPECT_STREQ(rn_last_error(), "rn_init: invalid writer_language 'cobol' (c, cpp or python)");
}

TEST_F(CApiMoreTest, OlderStructSizeLeavesTheNewMembersUnset) {
    rn_init_options o;
    rn_init_options_default(&o);
    o.struct_size = offsetof(rn_init_options, writer_language);
    o.writer_language = "python";  // beyond struct_size: never read
    open(&o);
    EXPECT_EQ(store_->opened().at(0).writer, "runicorn-cpp/" + std::string(version()) + " c");
    EXPECT_EQ(store_->opened().at(0).python_version, std::nullopt);
}

}  // namespace
}  // namespace runicorn
