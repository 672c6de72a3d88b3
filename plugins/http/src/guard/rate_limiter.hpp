#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <runicorn/result.hpp>

namespace runicorn::http_plugin {

/// One rate-limit rule of rate_limits.json (FORMAT.md §1.3).
struct RateRule {
    std::uint32_t max_requests = 6000;
    std::uint32_t window_seconds = 60;
    std::uint32_t burst_size = 0;  ///< Max requests in any 1 s; 0 = no burst limit.
};

/// The rate-limit settings: a default rule, rules per path (exact, or a prefix ending at a '/'
/// boundary; "/x/*" is the prefix "/x"), and the v0.6 switches that matter here.
struct RateLimitSettings {
    bool enabled = true;
    bool whitelist_localhost = false;  ///< Loopback peers are not limited.
    RateRule default_rule;
    std::map<std::string, RateRule, std::less<>> endpoints;
};

/// The built-in defaults (API.md §1.4): 6,000 per 60 s; /api/remote/connect, /api/auth/* and
/// /api/import/archive 10 per 60 s.
RateLimitSettings default_rate_limits();

/// Parses rate_limits.json text: {"default": rule, "endpoints": {"<path>": rule}, "settings":
/// {"enable_rate_limiting", "whitelist_localhost", ...}}; rule = {"max_requests",
/// "window_seconds", "burst_size", "description"}. Absent parts keep the built-in defaults;
/// unknown keys are ignored. INVALID_ARGUMENT naming the JSON pointer of a bad value.
Result<RateLimitSettings> parse_rate_limits(std::string_view json_text);

/// Reads `<config_dir>/rate_limits.json`; a missing file gives default_rate_limits().
/// INVALID_ARGUMENT "<file>: ..." when it cannot be read or parsed.
Result<RateLimitSettings> load_rate_limits(const std::filesystem::path& file);

/// The client key of a socket peer address: IPv4 as is ("::ffff:1.2.3.4" -> "1.2.3.4"), IPv6
/// grouped by its /64 ("2001:db8:1:2::/64"). Unparsable text is returned unchanged.
std::string peer_key(std::string_view address);

/// True for a loopback peer address (127.0.0.0/8, ::1, ::ffff:127.x.y.z).
bool is_loopback_peer(std::string_view address);

/// Per-client request limits (API.md §1.4): a sliding-window counter per (client, rule) on a
/// steady clock, plus the optional 1 s burst window. The windows are the weighted two-bucket
/// kind, so memory per key is constant; at most `max_keys` keys are kept (least recently used
/// dropped first).
///
/// Thread safety: safe for concurrent use.
class RateLimiter {
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    struct Decision {
        bool limited = false;  ///< A rule applied (false when disabled, exempt or whitelisted).
        bool allowed = true;
        std::uint32_t limit = 0;
        std::uint32_t remaining = 0;
        std::uint64_t reset_seconds = 0;  ///< Until the window frees a slot.
        std::uint64_t retry_after = 0;    ///< Seconds to wait when refused (at least 1).
    };

    explicit RateLimiter(RateLimitSettings settings, std::size_t max_keys = 100000);
    RateLimiter(const RateLimiter&) = delete;
    RateLimiter& operator=(const RateLimiter&) = delete;
    RateLimiter(RateLimiter&&) = delete;
    RateLimiter& operator=(RateLimiter&&) = delete;
    ~RateLimiter() = default;

    /// Counts one request of `peer_address` to `path` at `now`, unless refused. Only /api paths
    /// are limited; `method` OPTIONS is exempt.
    Decision check(std::string_view peer_address, std::string_view method, std::string_view path,
                   TimePoint now);

    /// The rule key that applies to `path`: the exact entry, else the longest prefix ending at a
    /// '/' boundary, else "" (the default rule).
    std::string rule_for(std::string_view path) const;

    const RateLimitSettings& settings() const noexcept { return settings_; }
    std::size_t key_count() const;

private:
    struct Window {
        std::int64_t index = 0;  ///< Which window `current` counts (time / length).
        std::uint32_t previous = 0;
        std::uint32_t current = 0;
    };
    struct Entry {
        Window main;
        Window burst;
        std::list<std::string>::iterator lru;
    };

    Entry& entry_for(const std::string& key);

    RateLimitSettings settings_;
    std::size_t max_keys_;
    mutable std::mutex mutex_;
    std::list<std::string> lru_;  // front = most recent
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace runicorn::http_plugin
