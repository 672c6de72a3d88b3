#include "rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include <boost/asio/ip/address.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace runicorn::http_plugin {
namespace {

using Millis = std::int64_t;

constexpr std::uint32_t kMaxRuleValue = 100000000;

Result<std::uint32_t> positive(const boost::json::value& v, const std::string& pointer,
                               bool allow_zero) {
    std::int64_t n = -1;
    if (v.is_int64()) {
        n = v.get_int64();
    } else if (v.is_uint64() && v.get_uint64() <= kMaxRuleValue) {
        n = static_cast<std::int64_t>(v.get_uint64());
    }
    if (n < (allow_zero ? 0 : 1) || n > kMaxRuleValue) {
        return Status::invalid_argument(pointer + " must be an integer between " +
                                        (allow_zero ? "0" : "1") + " and 100000000");
    }
    return static_cast<std::uint32_t>(n);
}

Result<RateRule> parse_rule(const boost::json::value& v, const std::string& pointer,
                            RateRule base) {
    const auto* o = v.if_object();
    if (o == nullptr) {
        return Status::invalid_argument(pointer + " must be an object");
    }
    for (const auto& [key, value] : *o) {
        if (key == "max_requests") {
            RUNICORN_ASSIGN_OR_RETURN(base.max_requests,
                                      positive(value, pointer + "/max_requests", false));
        } else if (key == "window_seconds") {
            RUNICORN_ASSIGN_OR_RETURN(base.window_seconds,
                                      positive(value, pointer + "/window_seconds", false));
        } else if (key == "burst_size") {
            if (value.is_null()) {
                base.burst_size = 0;
            } else {
                RUNICORN_ASSIGN_OR_RETURN(base.burst_size,
                                          positive(value, pointer + "/burst_size", true));
            }
        }
    }
    return base;
}

// "/api/auth/*" and "/api/auth/" name the prefix "/api/auth".
std::string rule_key(std::string_view path) {
    if (path.ends_with("/*")) {
        path.remove_suffix(2);
    } else if (path.ends_with("*")) {
        path.remove_suffix(1);
    }
    while (path.size() > 1 && path.ends_with('/')) {
        path.remove_suffix(1);
    }
    return std::string(path);
}

Millis to_millis(RateLimiter::TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

struct WindowMath {
    Millis length;
    std::uint32_t max;

    void roll(std::int64_t& index, std::uint32_t& previous, std::uint32_t& current,
              Millis now) const {
        const std::int64_t idx = now / length;
        if (idx == index) {
            return;
        }
        previous = idx == index + 1 ? current : 0;
        current = 0;
        index = idx;
    }

    double estimate(std::int64_t index, std::uint32_t previous, std::uint32_t current,
                    Millis now) const {
        const Millis remaining = length - (now - index * length);
        return static_cast<double>(previous) * static_cast<double>(remaining) /
                   static_cast<double>(length) +
               current;
    }

    // Milliseconds from `now` until the estimate falls to `target` or below.
    Millis until_at_most(std::int64_t index, std::uint32_t previous, std::uint32_t current,
                         Millis now, double target) const {
        if (estimate(index, previous, current, now) <= target) {
            return 0;
        }
        const Millis remaining = length - (now - index * length);
        if (current <= target && previous > 0) {
            const double x = static_cast<double>(remaining) -
                             (target - current) * static_cast<double>(length) / previous;
            return std::max<Millis>(0, static_cast<Millis>(std::ceil(x)));
        }
        const double s = static_cast<double>(length) -
                         target * static_cast<double>(length) / static_cast<double>(current);
        return remaining + std::max<Millis>(0, static_cast<Millis>(std::ceil(s)));
    }
};

std::uint64_t ceil_seconds(Millis ms) { return static_cast<std::uint64_t>((ms + 999) / 1000); }

}  // namespace

RateLimitSettings default_rate_limits() {
    RateLimitSettings s;
    s.default_rule = RateRule{6000, 60, 0};
    s.endpoints["/api/remote/connect"] = RateRule{10, 60, 0};
    s.endpoints["/api/auth"] = RateRule{10, 60, 0};
    s.endpoints["/api/import/archive"] = RateRule{10, 60, 0};
    return s;
}

Result<RateLimitSettings> parse_rate_limits(std::string_view json_text) {
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(json_text, ec);
    if (ec) {
        return Status::invalid_argument("not valid JSON: " + ec.message());
    }
    const auto* root = doc.if_object();
    if (root == nullptr) {
        return Status::invalid_argument("the top level must be an object");
    }
    RateLimitSettings out = default_rate_limits();
    if (const auto* d = root->if_contains("default")) {
        RUNICORN_ASSIGN_OR_RETURN(out.default_rule, parse_rule(*d, "/default", out.default_rule));
    }
    if (const auto* e = root->if_contains("endpoints")) {
        const auto* endpoints = e->if_object();
        if (endpoints == nullptr) {
            return Status::invalid_argument("/endpoints must be an object");
        }
        for (const auto& [path, rule] : *endpoints) {
            const std::string pointer = "/endpoints/" + std::string(path);
            if (path.empty() || path.front() != '/') {
                return Status::invalid_argument(pointer + ": the path must start with '/'");
            }
            RUNICORN_ASSIGN_OR_RETURN(RateRule parsed, parse_rule(rule, pointer, RateRule{}));
            out.endpoints[rule_key(path)] = parsed;
        }
    }
    if (const auto* s = root->if_contains("settings")) {
        const auto* settings = s->if_object();
        if (settings == nullptr) {
            return Status::invalid_argument("/settings must be an object");
        }
        for (const auto& [key, value] : *settings) {
            if (key != "enable_rate_limiting" && key != "whitelist_localhost") {
                continue;  // log_violations, custom_headers: nothing to do here
            }
            if (!value.is_bool()) {
                return Status::invalid_argument("/settings/" + std::string(key) +
                                                " must be a boolean");
            }
            (key == "enable_rate_limiting" ? out.enabled : out.whitelist_localhost) =
                value.get_bool();
        }
    }
    return out;
}

Result<RateLimitSettings> load_rate_limits(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        return default_rate_limits();
    }
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    if (!in || !(text << in.rdbuf())) {
        return Status::invalid_argument(file.string() + ": cannot be read");
    }
    auto parsed = parse_rate_limits(text.str());
    if (!parsed) {
        return Status::invalid_argument(file.string() + ": " + parsed.error().message());
    }
    return parsed;
}

std::string peer_key(std::string_view address) {
    boost::system::error_code ec;
    const auto a = boost::asio::ip::make_address(address, ec);
    if (ec) {
        return std::string(address);
    }
    if (a.is_v4()) {
        return a.to_string();
    }
    const auto v6 = a.to_v6();
    if (v6.is_v4_mapped()) {
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
    }
    auto bytes = v6.to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

bool is_loopback_peer(std::string_view address) {
    boost::system::error_code ec;
    const auto a = boost::asio::ip::make_address(address, ec);
    if (ec) {
        return false;
    }
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6())
            .is_loopback();
    }
    return a.is_loopback();
}

RateLimiter::RateLimiter(RateLimitSettings settings, std::size_t max_keys)
    : settings_(std::move(settings)), max_keys_(std::max<std::size_t>(max_keys, 1)) {}

std::string RateLimiter::rule_for(std::string_view path) const {
    if (settings_.endpoints.find(path) != settings_.endpoints.end()) {
        return std::string(path);
    }
    std::string_view best;
    for (const auto& [key, rule] : settings_.endpoints) {
        const bool boundary = path.size() > key.size() && path.starts_with(key) &&
                              (key.ends_with('/') || path[key.size()] == '/');
        if (boundary && key.size() > best.size()) {
            best = key;
        }
    }
    return std::string(best);
}

std::size_t RateLimiter::key_count() const {
    const std::lock_guard lock(mutex_);
    return entries_.size();
}

RateLimiter::Entry& RateLimiter::entry_for(const std::string& key) {
    auto it = entries_.find(key);
    if (it != entries_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        return it->second;
    }
    while (entries_.size() >= max_keys_ && !lru_.empty()) {
        entries_.erase(lru_.back());
        lru_.pop_back();
    }
    lru_.push_front(key);
    Entry& e = entries_[key];
    e.lru = lru_.begin();
    return e;
}

RateLimiter::Decision RateLimiter::check(std::string_view peer_address, std::string_view method,
                                         std::string_view path, TimePoint now) {
    Decision d;
    const bool api = path == "/api" || path.starts_with("/api/");
    if (!settings_.enabled || !api || method == "OPTIONS" ||
        (settings_.whitelist_localhost && is_loopback_peer(peer_address))) {
        return d;
    }
    const std::string rule_name = rule_for(path);
    const RateRule& rule =
        rule_name.empty() ? settings_.default_rule : settings_.endpoints.find(rule_name)->second;
    const WindowMath main{Millis{rule.window_seconds} * 1000, rule.max_requests};
    const WindowMath burst{1000, rule.burst_size};
    const Millis t = to_millis(now);

    const std::lock_guard lock(mutex_);
    Entry& e = entry_for(peer_key(peer_address) + "\n" + rule_name);
    main.roll(e.main.index, e.main.previous, e.main.current, t);
    burst.roll(e.burst.index, e.burst.previous, e.burst.current, t);
    const double main_est = main.estimate(e.main.index, e.main.previous, e.main.current, t);
    const double burst_est = burst.estimate(e.burst.index, e.burst.previous, e.burst.current, t);
    const double max = rule.max_requests;
    d.limited = true;
    d.limit = rule.max_requests;
    Millis wait = 0;
    if (main_est + 1.0 > max) {
        wait = main.until_at_most(e.main.index, e.main.previous, e.main.current, t, max - 1.0);
    }
    if (rule.burst_size > 0 && burst_est + 1.0 > rule.burst_size) {
        wait = std::max(wait, burst.until_at_most(e.burst.index, e.burst.previous, e.burst.current,
                                                  t, rule.burst_size - 1.0));
    }
    if (main_est + 1.0 > max || (rule.burst_size > 0 && burst_est + 1.0 > rule.burst_size)) {
        d.allowed = false;
        d.remaining = 0;
        d.retry_after = std::max<std::uint64_t>(1, ceil_seconds(wait));
        d.reset_seconds = d.retry_after;
        return d;
    }
    ++e.main.current;
    ++e.burst.current;
    const double after = main_est + 1.0;
    const double used = std::ceil(after - 1e-9);
    d.remaining = used >= max ? 0 : static_cast<std::uint32_t>(max - used);
    d.reset_seconds = ceil_seconds(main.until_at_most(e.main.index, e.main.previous, e.main.current,
                                                      t, std::max(0.0, used - 1)));
    return d;
}

}  // namespace runicorn::http_plugin
