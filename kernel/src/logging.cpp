#include "logging.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace runicorn::kernel {

Result<spdlog::level::level_enum> parse_log_level(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    using spdlog::level::level_enum;
    static constexpr std::pair<std::string_view, level_enum> kLevels[] = {
        {"trace", level_enum::trace},       {"debug", level_enum::debug},
        {"info", level_enum::info},         {"warn", level_enum::warn},
        {"warning", level_enum::warn},      {"error", level_enum::err},
        {"critical", level_enum::critical}, {"off", level_enum::off},
    };
    for (const auto& [name, level] : kLevels) {
        if (lower == name) {
            return level;
        }
    }
    return Status::invalid_argument("unknown log level '" + std::string(text) +
                                    "' (use trace, debug, info, warn, error, critical or off)");
}

LogHub::LogHub(spdlog::level::level_enum level)
    : LogHub(level, {std::make_shared<spdlog::sinks::stderr_color_sink_mt>()}) {}

LogHub::LogHub(spdlog::level::level_enum level, std::vector<spdlog::sink_ptr> sinks)
    : level_(level), sinks_(std::move(sinks)) {}

std::shared_ptr<spdlog::logger> LogHub::get(const std::string& name) {
    std::lock_guard lock(mu_);
    auto it = loggers_.find(name);
    if (it != loggers_.end()) {
        return it->second;
    }
    auto logger = std::make_shared<spdlog::logger>(name, sinks_.begin(), sinks_.end());
    logger->set_level(level_);
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v");
    loggers_.emplace(name, logger);
    return logger;
}

void LogHub::set_level(spdlog::level::level_enum level) {
    std::lock_guard lock(mu_);
    level_ = level;
    for (auto& [name, logger] : loggers_) {
        logger->set_level(level);
    }
}

}  // namespace runicorn::kernel
