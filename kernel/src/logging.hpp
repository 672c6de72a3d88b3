#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <spdlog/common.h>
#include <spdlog/logger.h>

#include <runicorn/result.hpp>

namespace runicorn::kernel {

/// Parses "trace", "debug", "info", "warn"/"warning", "error", "critical", "off" (any case, so the
/// v0.6 remote flow's `--log-level INFO` works). INVALID_ARGUMENT names the accepted values.
Result<spdlog::level::level_enum> parse_log_level(std::string_view text);

/// Owns the process's log sinks and hands out one named logger per subsystem ("kernel", "cli",
/// "plugin.<id>"). Loggers are kept out of spdlog's global registry: every plugin library has its
/// own registry, so loggers are handed over, never looked up.
///
/// Thread safety: safe for concurrent use.
class LogHub {
public:
    /// Logs to stderr (colours on a terminal) at `level`.
    explicit LogHub(spdlog::level::level_enum level);
    /// Logs to the given sinks only (tests record output this way).
    LogHub(spdlog::level::level_enum level, std::vector<spdlog::sink_ptr> sinks);
    LogHub(const LogHub&) = delete;
    LogHub& operator=(const LogHub&) = delete;
    ~LogHub() = default;
    LogHub(LogHub&&) = delete;
    LogHub& operator=(LogHub&&) = delete;

    /// The logger named `name`, created on first use.
    std::shared_ptr<spdlog::logger> get(const std::string& name);
    /// Changes the level of every logger, present and future.
    void set_level(spdlog::level::level_enum level);

private:
    std::mutex mu_;
    spdlog::level::level_enum level_;
    std::vector<spdlog::sink_ptr> sinks_;
    std::unordered_map<std::string, std::shared_ptr<spdlog::logger>> loggers_;
};

}  // namespace runicorn::kernel
