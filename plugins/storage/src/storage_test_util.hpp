#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include <runicorn/result.hpp>
#include <runicorn/status.hpp>
#include <runicorn/testing/copy_tree.hpp>
#include <runicorn/testing/status_matchers.hpp>
#include <runicorn/testing/temp_dir.hpp>

#include <unistd.h>

/// Test helpers shared by the storage plugin's tests (STYLE.md rule 16, 17).

#define RUNICORN_EXPECT_OK(expr) EXPECT_EQ((expr), ::runicorn::Status::ok())
#define RUNICORN_ASSERT_OK(expr) ASSERT_EQ((expr), ::runicorn::Status::ok())

namespace runicorn::storage::testing {

// The project-wide helpers (tests/support), under the names these tests use.
using ::runicorn::testing::StatusIs;
using ::runicorn::testing::TempDir;

/// An spdlog sink that keeps every formatted message (payload only).
/// Thread safety: safe for concurrent use (base_sink locks the mutex).
class RecordingSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    std::vector<std::string> messages() {
        std::lock_guard lock(mutex_);
        return messages_;
    }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        messages_.emplace_back(msg.payload.data(), msg.payload.size());
    }
    void flush_() override {}

private:
    std::vector<std::string> messages_;
};

/// A logger that records into a RecordingSink.
struct RecordingLogger {
    std::shared_ptr<RecordingSink> sink = std::make_shared<RecordingSink>();
    std::shared_ptr<spdlog::logger> logger = std::make_shared<spdlog::logger>("test", sink);
};

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

inline void write_text(const std::filesystem::path& p, std::string_view text) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc)
        .write(text.data(), static_cast<std::streamsize>(text.size()));
}

/// The Runicorn v0.6 reference fixture (read-only: tests copy it before anything may write).
inline std::filesystem::path fixture_dir() { return RUNICORN_FIXTURE_DIR; }

/// Copies the fixture's `store/` to `dst` by hand, making everything owner-writable (fs::copy
/// would keep the checkout's read-only modes).
inline void copy_fixture_store(const std::filesystem::path& dst) {
    ::runicorn::testing::copy_tree_writable(fixture_dir() / "store", dst);
}

}  // namespace runicorn::storage::testing
