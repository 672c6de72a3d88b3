// Unit tests of the security pieces (API.md §1.4) without sockets: rate limiter (fake steady
// clock), rate_limits.json, peer keys, token auth, login codes, Origin/CORS, connection caps,
// the token file.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <runicorn/testing/temp_dir.hpp>

#include "../http_config.hpp"
#include "auth_routes.hpp"
#include "connection_limiter.hpp"
#include "origin_check.hpp"
#include "random_token.hpp"
#include "rate_limiter.hpp"
#include "security_headers.hpp"
#include "token_auth.hpp"
#include "viewer_guard.hpp"
#include <sys/stat.h>

namespace runicorn::http_plugin {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using TimePoint = std::chrono::steady_clock::time_point;

// A point far from the clock's epoch, so that window arithmetic is not accidentally aligned.
const TimePoint kT0 = TimePoint(std::chrono::hours(1000) + milliseconds(123));

RateLimitSettings ten_per_minute() {
    RateLimitSettings s;
    s.default_rule = RateRule{10, 60, 0};
    return s;
}

plugin::HttpRequest request(std::string method, plugin::HeaderList headers,
                            std::string target = "/api/x") {
    plugin::HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.headers = std::move(headers);
    return r;
}

TEST(RateLimiterTest, EleventhRequestInAMinuteIsRefusedWithRetryAfter) {
    RateLimiter limiter(ten_per_minute());
    for (int i = 0; i < 10; ++i) {
        const auto d = limiter.check("10.0.0.1", "GET", "/api/runs", kT0 + seconds(i));
        ASSERT_TRUE(d.allowed) << i;
        EXPECT_TRUE(d.limited);
        EXPECT_EQ(d.limit, 10U);
        EXPECT_EQ(d.remaining, static_cast<std::uint32_t>(9 - i));
    }
    const auto refused = limiter.check("10.0.0.1", "GET", "/api/runs", kT0 + seconds(10));
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.remaining, 0U);
    EXPECT_GE(refused.retry_after, 1U);
    EXPECT_LE(refused.retry_after, 120U);
    // Another client has its own bucket.
    EXPECT_TRUE(limiter.check("10.0.0.2", "GET", "/api/runs", kT0 + seconds(10)).allowed);
    // Waiting the advertised time frees a slot.
    EXPECT_TRUE(
        limiter
            .check("10.0.0.1", "GET", "/api/runs", kT0 + seconds(10) + seconds(refused.retry_after))
            .allowed);
}

TEST(RateLimiterTest, RefusedRequestsDoNotCountAndWindowSlides) {
    RateLimiter limiter(ten_per_minute());
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(limiter.check("10.0.0.1", "GET", "/api/a", kT0).allowed);
    }
    for (int i = 0; i < 50; ++i) {
        EXPECT_FALSE(limiter.check("10.0.0.1", "GET", "/api/a", kT0 + seconds(1)).allowed);
    }
    // Two windows later everything is forgotten.
    for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(limiter.check("10.0.0.1", "GET", "/api/a", kT0 + seconds(121)).allowed) << i;
    }
}

TEST(RateLimiterTest, OnlyApiPathsAndNotOptions) {
    RateLimiter limiter(ten_per_minute());
    for (int i = 0; i < 30; ++i) {
        EXPECT_FALSE(limiter.check("10.0.0.1", "GET", "/index.html", kT0).limited);
        EXPECT_FALSE(limiter.check("10.0.0.1", "OPTIONS", "/api/x", kT0).limited);
        EXPECT_FALSE(limiter.check("10.0.0.1", "GET", "/apix", kT0).limited);
    }
    EXPECT_TRUE(limiter.check("10.0.0.1", "GET", "/api", kT0).limited);
}

TEST(RateLimiterTest, BurstLimitsRequestsPerSecond) {
    RateLimitSettings s;
    s.default_rule = RateRule{100, 60, 3};
    RateLimiter limiter(s);
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(limiter.check("10.0.0.1", "GET", "/api/a", kT0).allowed);
    }
    const auto refused = limiter.check("10.0.0.1", "GET", "/api/a", kT0);
    EXPECT_FALSE(refused.allowed);
    EXPECT_GE(refused.retry_after, 1U);
    EXPECT_TRUE(limiter.check("10.0.0.1", "GET", "/api/a", kT0 + seconds(3)).allowed);
}

TEST(RateLimiterTest, LongestPrefixAtSlashBoundaryWins) {
    RateLimitSettings s = ten_per_minute();
    s.endpoints["/api/health"] = RateRule{1, 60, 0};
    s.endpoints["/api"] = RateRule{5, 60, 0};
    s.endpoints["/api/runs"] = RateRule{2, 60, 0};
    RateLimiter limiter(s);
    EXPECT_EQ(limiter.rule_for("/api/health"), "/api/health");
    EXPECT_EQ(limiter.rule_for("/api/healthcheck"), "/api");  // v0.6 took /api/health here
    EXPECT_EQ(limiter.rule_for("/api/runs/abc/metrics"), "/api/runs");
    EXPECT_EQ(limiter.rule_for("/api/runsx"), "/api");
    EXPECT_EQ(limiter.rule_for("/other"), "");
    // Each rule has its own bucket per client.
    EXPECT_TRUE(limiter.check("10.0.0.1", "GET", "/api/health", kT0).allowed);
    EXPECT_FALSE(limiter.check("10.0.0.1", "GET", "/api/health", kT0).allowed);
    EXPECT_TRUE(limiter.check("10.0.0.1", "GET", "/api/runs/a", kT0).allowed);
    EXPECT_TRUE(limiter.check("10.0.0.1", "GET", "/api/runs/b", kT0).allowed);
    const auto third = limiter.check("10.0.0.1", "GET", "/api/runs", kT0);
    EXPECT_FALSE(third.allowed);
    EXPECT_EQ(third.limit, 2U);
}

TEST(RateLimiterTest, DisabledOrWhitelistedLocalhostIsNotLimited) {
    RateLimitSettings off = ten_per_minute();
    off.enabled = false;
    RateLimiter disabled(off);
    RateLimitSettings wl = ten_per_minute();
    wl.whitelist_localhost = true;
    RateLimiter whitelisted(wl);
    for (int i = 0; i < 20; ++i) {
        EXPECT_FALSE(disabled.check("10.0.0.1", "GET", "/api/a", kT0).limited);
        EXPECT_FALSE(whitelisted.check("127.0.0.1", "GET", "/api/a", kT0).limited);
        EXPECT_FALSE(whitelisted.check("::1", "GET", "/api/a", kT0).limited);
    }
    EXPECT_TRUE(whitelisted.check("10.0.0.1", "GET", "/api/a", kT0).limited);
}

TEST(RateLimiterTest, KeysAreBoundedLeastRecentlyUsedFirst) {
    RateLimiter limiter(ten_per_minute(), 3);
    for (int i = 0; i < 10; ++i) {
        (void)limiter.check("10.0.0.1", "GET", "/api/a", kT0);
    }
    for (int i = 2; i < 10; ++i) {
        (void)limiter.check("10.0.1." + std::to_string(i), "GET", "/api/a", kT0);
        EXPECT_LE(limiter.key_count(), 3U);
    }
    // 10.0.0.1 was dropped, so it starts afresh (memory is bounded, at the price of forgetting).
    EXPECT_TRUE(limiter.check("10.0.0.1", "GET", "/api/a", kT0).allowed);
}

TEST(RateLimiterTest, Ipv6PeersShareTheirSlash64) {
    RateLimiter limiter(ten_per_minute());
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(
            limiter.check("2001:db8:1:2::" + std::to_string(i + 1), "GET", "/api/a", kT0).allowed);
    }
    EXPECT_FALSE(limiter.check("2001:db8:1:2:ffff::1", "GET", "/api/a", kT0).allowed);
    EXPECT_TRUE(limiter.check("2001:db8:1:3::1", "GET", "/api/a", kT0).allowed);
}

TEST(RateLimitsFileTest, DefaultsMatchTheSpec) {
    const RateLimitSettings d = default_rate_limits();
    EXPECT_TRUE(d.enabled);
    EXPECT_EQ(d.default_rule.max_requests, 6000U);
    EXPECT_EQ(d.default_rule.window_seconds, 60U);
    EXPECT_EQ(d.endpoints.at("/api/remote/connect").max_requests, 10U);
    EXPECT_EQ(d.endpoints.at("/api/auth").max_requests, 10U);
    EXPECT_EQ(d.endpoints.at("/api/import/archive").max_requests, 10U);
    RateLimiter limiter(d);
    EXPECT_EQ(limiter.rule_for("/api/auth/login-codes"), "/api/auth");
}

TEST(RateLimitsFileTest, ParsesV06File) {
    auto s = parse_rate_limits(R"({
        "default": {"max_requests": 100, "window_seconds": 10, "burst_size": null,
                    "description": "x"},
        "endpoints": {"/api/remote/connect": {"max_requests": 3, "window_seconds": 60,
                                              "burst_size": 1},
                      "/api/things/*": {"max_requests": 7, "window_seconds": 5}},
        "settings": {"enable_rate_limiting": false, "log_violations": true,
                     "whitelist_localhost": true, "custom_headers": {}}})");
    ASSERT_TRUE(s.has_value()) << s.error().message();
    EXPECT_FALSE(s->enabled);
    EXPECT_TRUE(s->whitelist_localhost);
    EXPECT_EQ(s->default_rule.max_requests, 100U);
    EXPECT_EQ(s->default_rule.window_seconds, 10U);
    EXPECT_EQ(s->default_rule.burst_size, 0U);
    EXPECT_EQ(s->endpoints.at("/api/remote/connect").burst_size, 1U);
    EXPECT_EQ(s->endpoints.at("/api/things").max_requests, 7U);
}

TEST(RateLimitsFileTest, RefusesBadValues) {
    EXPECT_THAT(parse_rate_limits("{").error().message(), HasSubstr("not valid JSON"));
    EXPECT_EQ(parse_rate_limits("[]").error().message(), "the top level must be an object");
    EXPECT_EQ(parse_rate_limits(R"({"default": {"max_requests": 0}})").error().message(),
              "/default/max_requests must be an integer between 1 and 100000000");
    EXPECT_EQ(parse_rate_limits(R"({"default": {"window_seconds": "60"}})").error().message(),
              "/default/window_seconds must be an integer between 1 and 100000000");
    EXPECT_EQ(parse_rate_limits(R"({"endpoints": {"api/x": {}}})").error().message(),
              "/endpoints/api/x: the path must start with '/'");
    EXPECT_EQ(parse_rate_limits(R"({"settings": {"enable_rate_limiting": 1}})").error().message(),
              "/settings/enable_rate_limiting must be a boolean");
}

TEST(RateLimitsFileTest, MissingFileGivesDefaultsAndBadFileNamesIt) {
    testing::TempDir dir;
    auto missing = load_rate_limits(dir.path() / "rate_limits.json");
    ASSERT_TRUE(missing.has_value());
    EXPECT_EQ(missing->default_rule.max_requests, 6000U);
    std::ofstream(dir.path() / "rate_limits.json") << "{nope";
    auto bad = load_rate_limits(dir.path() / "rate_limits.json");
    ASSERT_FALSE(bad.has_value());
    EXPECT_THAT(bad.error().message(),
                HasSubstr((dir.path() / "rate_limits.json").string() + ": not valid JSON"));
}

TEST(PeerKeyTest, GroupsIpv6By64AndUnmapsIpv4) {
    EXPECT_EQ(peer_key("192.168.1.7"), "192.168.1.7");
    EXPECT_EQ(peer_key("::ffff:192.168.1.7"), "192.168.1.7");
    EXPECT_EQ(peer_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
    EXPECT_EQ(peer_key("not an address"), "not an address");
    EXPECT_TRUE(is_loopback_peer("127.0.0.1"));
    EXPECT_TRUE(is_loopback_peer("127.8.0.1"));
    EXPECT_TRUE(is_loopback_peer("::1"));
    EXPECT_TRUE(is_loopback_peer("::ffff:127.0.0.1"));
    EXPECT_FALSE(is_loopback_peer("10.0.0.1"));
    EXPECT_FALSE(is_loopback_peer(""));
}

TEST(RandomTokenTest, Base64UrlAndConstantTimeEqual) {
    EXPECT_EQ(base64url(""), "");
    EXPECT_EQ(base64url("f"), "Zg");
    EXPECT_EQ(base64url("fo"), "Zm8");
    EXPECT_EQ(base64url("foo"), "Zm9v");
    EXPECT_EQ(base64url("\xfb\xff"), "-_8");
    auto t = random_base64url(32);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->size(), 43U);
    EXPECT_NE(*t, random_base64url(32).value());
    EXPECT_TRUE(constant_time_equal("secret", "secret"));
    EXPECT_FALSE(constant_time_equal("secreT", "secret"));
    EXPECT_FALSE(constant_time_equal("secret1", "secret"));
    EXPECT_FALSE(constant_time_equal("", "secret"));
    EXPECT_FALSE(constant_time_equal("secret", ""));
    EXPECT_TRUE(constant_time_equal("", ""));
}

class TokenAuthTest : public ::testing::Test {
protected:
    TimePoint now_ = kT0;
    TokenAuth auth_{true, "the-very-secret-token", [this] { return now_; }};
};

TEST_F(TokenAuthTest, AcceptsBearerHeaderAndNothingElse) {
    EXPECT_TRUE(auth_.authenticated(request(
        "GET", {{"host", "localhost:1"}, {"authorization", "Bearer the-very-secret-token"}})));
    EXPECT_TRUE(auth_.authenticated(
        request("GET", {{"host", "localhost:1"}, {"x-runicorn-token", "the-very-secret-token"}})));
    EXPECT_FALSE(auth_.authenticated(request("GET", {{"host", "localhost:1"}})));
    EXPECT_FALSE(auth_.authenticated(request(
        "GET", {{"host", "localhost:1"}, {"authorization", "Bearer the-very-secret-tokeN"}})));
    EXPECT_FALSE(auth_.authenticated(request(
        "GET", {{"host", "localhost:1"}, {"authorization", "Basic the-very-secret-token"}})));
    EXPECT_FALSE(auth_.authenticated(
        request("GET", {{"host", "localhost:1"}, {"x-runicorn-token", "the-very-secret"}})));
    TokenAuth off(false, "");
    EXPECT_TRUE(off.authenticated(request("GET", {})));
    EXPECT_FALSE(off.token_matches(""));
}

TEST_F(TokenAuthTest, SessionCookieIsPerPort) {
    auto session = auth_.open_session();
    ASSERT_TRUE(session.has_value());
    EXPECT_EQ(session->size(), 43U);
    EXPECT_TRUE(auth_.authenticated(
        request("GET", {{"host", "localhost:23300"},
                        {"cookie", "a=b; runicorn_session_23300=" + *session + "; c=d"}})));
    // The same cookie under another port's name does not count.
    EXPECT_FALSE(auth_.authenticated(request(
        "GET", {{"host", "localhost:23301"}, {"cookie", "runicorn_session_23300=" + *session}})));
    EXPECT_FALSE(auth_.authenticated(request(
        "GET", {{"host", "localhost:23300"}, {"cookie", "runicorn_session_23300=forged"}})));
    auth_.close_session(*session);
    EXPECT_FALSE(auth_.authenticated(request(
        "GET", {{"host", "localhost:23300"}, {"cookie", "runicorn_session_23300=" + *session}})));
    EXPECT_EQ(TokenAuth::cookie_name("localhost"), "runicorn_session_80");
    EXPECT_EQ(TokenAuth::cookie_name("[::1]:8080"), "runicorn_session_8080");
    EXPECT_EQ(TokenAuth::cookie_name("[::1]"), "runicorn_session_80");
}

TEST_F(TokenAuthTest, LoginCodesAreSingleUseAndExpireAfter15Minutes) {
    auto code = auth_.mint_login_code();
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(code->size(), 22U);  // 128 bits
    EXPECT_TRUE(auth_.consume_login_code(*code));
    EXPECT_FALSE(auth_.consume_login_code(*code));
    auto late = auth_.mint_login_code().value();
    now_ += std::chrono::minutes(15);
    EXPECT_FALSE(auth_.consume_login_code(late));
    auto fresh = auth_.mint_login_code().value();
    now_ += std::chrono::minutes(14);
    EXPECT_FALSE(auth_.consume_login_code("nope"));
    EXPECT_TRUE(auth_.consume_login_code(fresh));
}

TEST_F(TokenAuthTest, LoginLinkRedirectsWithCookieAndStripsTheCode) {
    auto code = auth_.mint_login_code().value();
    plugin::HttpRequest r =
        request("GET", {{"host", "127.0.0.1:4000"}}, "/runs/x?a=1&login=" + code + "&b=2");
    r.query = {{"a", "1"}, {"login", code}, {"b", "2"}};
    auto response = handle_login_link(r, auth_);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 303U);
    EXPECT_EQ(plugin::HttpRequest::find(response->headers, "Location").value_or(""),
              "/runs/x?a=1&b=2");
    const std::string cookie =
        plugin::HttpRequest::find(response->headers, "Set-Cookie").value_or("");
    EXPECT_THAT(cookie, ::testing::StartsWith("runicorn_session_4000="));
    EXPECT_THAT(cookie, HasSubstr("; HttpOnly; SameSite=Strict; Path=/"));
    // The code is spent.
    auto again = handle_login_link(r, auth_);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->status, 401U);
    // ?token= does the same; a wrong one is refused.
    plugin::HttpRequest t = request("GET", {{"host", "127.0.0.1:4000"}}, "/?token=x");
    t.query = {{"token", "the-very-secret-token"}};
    EXPECT_EQ(handle_login_link(t, auth_)->status, 303U);
    EXPECT_EQ(plugin::HttpRequest::find(handle_login_link(t, auth_)->headers, "Location"), "/");
    t.query = {{"token", "wrong"}};
    EXPECT_EQ(handle_login_link(t, auth_)->status, 401U);
    // No parameter, or no token required: nothing to do.
    plugin::HttpRequest plain = request("GET", {{"host", "127.0.0.1:4000"}}, "/");
    EXPECT_FALSE(handle_login_link(plain, auth_).has_value());
    TokenAuth off(false, "");
    EXPECT_FALSE(handle_login_link(r, off).has_value());
}

TEST(OriginCheckTest, CoversWritesAndStreams) {
    EXPECT_TRUE(needs_origin_check(request("POST", {})));
    EXPECT_TRUE(needs_origin_check(request("PUT", {})));
    EXPECT_TRUE(needs_origin_check(request("PATCH", {})));
    EXPECT_TRUE(needs_origin_check(request("DELETE", {})));
    EXPECT_FALSE(needs_origin_check(request("GET", {})));
    EXPECT_TRUE(needs_origin_check(request("GET", {{"upgrade", "WebSocket"}})));
    EXPECT_TRUE(needs_origin_check(request("GET", {{"accept", "text/event-stream"}})));
    EXPECT_FALSE(needs_origin_check(request("GET", {{"accept", "text/html"}})));
    // The event stream is checked even when the client does not say it wants one.
    EXPECT_TRUE(needs_origin_check(request("GET", {}, "/api/events?channels=runs")));
    EXPECT_FALSE(needs_origin_check(request("GET", {}, "/api/eventsx")));
}

TEST(OriginCheckTest, SameOriginAllowedOthersRefused) {
    const std::vector<std::string> allowed = {"app://desk", "http://tool.lan:9000"};
    const auto check = [&](plugin::HeaderList h) {
        h.emplace_back("host", "localhost:23300");
        return origin_allowed(request("POST", std::move(h)), allowed);
    };
    EXPECT_TRUE(check({}));
    EXPECT_TRUE(check({{"origin", "http://localhost:23300"}}));
    EXPECT_TRUE(check({{"origin", "HTTP://LocalHost:23300"}}));
    EXPECT_TRUE(check({{"origin", "http://tool.lan:9000"}}));
    EXPECT_FALSE(check({{"origin", "http://localhost:23301"}}));
    EXPECT_FALSE(check({{"origin", "http://evil.example"}}));
    EXPECT_FALSE(check({{"origin", "null"}}));
    EXPECT_FALSE(check({{"origin", ""}}));
    EXPECT_FALSE(check({{"sec-fetch-site", "cross-site"}}));
    EXPECT_FALSE(check({{"sec-fetch-site", "same-site"}}));
    EXPECT_TRUE(check({{"sec-fetch-site", "same-origin"}}));
    EXPECT_TRUE(check({{"sec-fetch-site", "none"}}));
}

TEST(OriginCheckTest, CorsOnlyForAllowedOriginsNeverStar) {
    const std::vector<std::string> allowed = {"http://tool.lan:9000"};
    auto h = cors_headers(request("GET", {{"origin", "http://tool.lan:9000"}}), allowed);
    EXPECT_EQ(plugin::HttpRequest::find(h, "Access-Control-Allow-Origin"), "http://tool.lan:9000");
    EXPECT_EQ(plugin::HttpRequest::find(h, "Vary"), "Origin");
    EXPECT_FALSE(plugin::HttpRequest::find(h, "Access-Control-Allow-Methods").has_value());
    auto pre = cors_headers(request("OPTIONS", {{"origin", "http://tool.lan:9000"},
                                                {"access-control-request-method", "POST"}}),
                            allowed);
    EXPECT_THAT(plugin::HttpRequest::find(pre, "Access-Control-Allow-Methods").value_or(""),
                HasSubstr("POST"));
    EXPECT_TRUE(cors_headers(request("OPTIONS", {{"origin", "http://evil.example"},
                                                 {"access-control-request-method", "POST"}}),
                             allowed)
                    .empty());
    EXPECT_TRUE(cors_headers(request("GET", {}), allowed).empty());
    EXPECT_TRUE(cors_headers(request("GET", {{"origin", "null"}}), {"null"}).empty());
}

TEST(OriginCheckTest, NormalizeOrigin) {
    EXPECT_EQ(normalize_origin("HTTPS://Desk.App:443/"), "https://desk.app:443");
    EXPECT_EQ(normalize_origin("http://[::1]:8080"), "http://[::1]:8080");
    EXPECT_FALSE(normalize_origin("*").has_value());
    EXPECT_FALSE(normalize_origin("null").has_value());
    EXPECT_FALSE(normalize_origin("ftp://x").has_value());
    EXPECT_FALSE(normalize_origin("http://x/path").has_value());
    EXPECT_FALSE(normalize_origin("http://x:port").has_value());
    EXPECT_FALSE(normalize_origin("http://").has_value());
}

TEST(ConnectionLimiterTest, TotalAndPerPeerCaps) {
    ConnectionLimiter limiter(4, 2);
    EXPECT_EQ(limiter.acquire("10.0.0.1"), ConnectionLimiter::Verdict::kAdmit);
    EXPECT_EQ(limiter.acquire("10.0.0.1"), ConnectionLimiter::Verdict::kAdmit);
    EXPECT_EQ(limiter.acquire("10.0.0.1"), ConnectionLimiter::Verdict::kPeerFull);
    // Loopback peers have no per-peer cap.
    EXPECT_EQ(limiter.acquire("127.0.0.1"), ConnectionLimiter::Verdict::kAdmit);
    EXPECT_EQ(limiter.acquire("127.0.0.1"), ConnectionLimiter::Verdict::kAdmit);
    EXPECT_EQ(limiter.acquire("127.0.0.1"), ConnectionLimiter::Verdict::kTotalFull);
    EXPECT_EQ(limiter.acquire("127.0.0.1", true), ConnectionLimiter::Verdict::kAdmit);
    EXPECT_EQ(limiter.total(), 5U);
    limiter.release("10.0.0.1");
    EXPECT_EQ(limiter.acquire("10.0.0.2"), ConnectionLimiter::Verdict::kTotalFull);
    limiter.release("127.0.0.1");
    limiter.release("127.0.0.1");
    EXPECT_EQ(limiter.acquire("10.0.0.1"), ConnectionLimiter::Verdict::kAdmit);
    EXPECT_EQ(limiter.acquire("10.0.0.1"), ConnectionLimiter::Verdict::kPeerFull);
}

TEST(SecurityHeadersTest, CspOnlyOnHtml) {
    const auto json = security_headers("application/json");
    EXPECT_EQ(json.size(), 3U);
    const auto html = security_headers("text/html; charset=utf-8");
    ASSERT_EQ(html.size(), 4U);
    EXPECT_EQ(html[3].first, "Content-Security-Policy");
    EXPECT_THAT(std::string(html[3].second), HasSubstr("frame-ancestors 'none'"));
}

TEST(ViewerGuardTest, GeneratedTokenFileIs0600AndRemovedAtStop) {
    testing::TempDir dir;
    HttpConfig config;
    config.remote_mode = true;
    auto logger = std::make_shared<spdlog::logger>("test");
    auto guard = ViewerGuard::create(config, dir.path() / "cfg", logger, std::nullopt);
    ASSERT_TRUE(guard.has_value());
    EXPECT_TRUE((*guard)->token_generated());
    EXPECT_TRUE((*guard)->auth()->required());
    (*guard)->on_listening("http://127.0.0.1:4321", 4321);
    const auto file = dir.path() / "cfg" / "viewer-4321.token";
    ASSERT_EQ((*guard)->token_file(), file);
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    std::string token;
    std::ifstream(file) >> token;
    EXPECT_EQ(token.size(), 43U);
    EXPECT_TRUE((*guard)->auth()->token_matches(token));
    (*guard)->on_stopped();
    EXPECT_FALSE(std::filesystem::exists(file));
}

TEST(ViewerGuardTest, TokenSourcesAndWhenRequired) {
    testing::TempDir dir;
    auto logger = std::make_shared<spdlog::logger>("test");
    HttpConfig loopback;
    auto off = ViewerGuard::create(loopback, dir.path(), logger, std::nullopt).value();
    EXPECT_FALSE(off->auth()->required());
    off->on_listening("http://127.0.0.1:1", 1);
    EXPECT_TRUE(off->token_file().empty());

    HttpConfig lan;
    lan.host = "0.0.0.0";
    auto env = ViewerGuard::create(lan, dir.path(), logger, "from-the-environment").value();
    EXPECT_TRUE(env->auth()->required());
    EXPECT_FALSE(env->token_generated());
    EXPECT_TRUE(env->auth()->token_matches("from-the-environment"));
    env->on_listening("http://0.0.0.0:2", 2);
    EXPECT_TRUE(env->token_file().empty());  // only a generated token is written

    HttpConfig flagged;
    flagged.require_token = true;
    flagged.token = "given-on-the-command-line";
    auto flag = ViewerGuard::create(flagged, dir.path(), logger, "from-the-environment").value();
    EXPECT_TRUE(flag->auth()->token_matches("given-on-the-command-line"));
    EXPECT_FALSE(flag->auth()->token_matches("from-the-environment"));
}

TEST(ViewerGuardTest, BannerWarnsLinksUsableHostAndNeverLogsTheToken) {
    testing::TempDir dir;
    auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(32);
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_level(spdlog::level::debug);
    HttpConfig lan;
    lan.host = "0.0.0.0";
    auto guard = ViewerGuard::create(lan, dir.path(), logger, std::nullopt).value();
    guard->on_listening("http://0.0.0.0:7", 7);
    std::string token;
    std::ifstream(dir.path() / "viewer-7.token") >> token;
    ASSERT_EQ(token.size(), 43U);
    const std::vector<std::string> lines = sink->last_formatted();
    std::string all;
    for (const std::string& l : lines) {
        all += l;
    }
    EXPECT_THAT(all, HasSubstr("which other machines can reach: every request needs the access "
                               "token"));
    EXPECT_THAT(all, HasSubstr("sign in with this one-time link (valid 15 minutes): "
                               "http://127.0.0.1:7/?login="));
    EXPECT_THAT(all, ::testing::Not(HasSubstr(token)));
    guard->on_stopped();
}

}  // namespace
}  // namespace runicorn::http_plugin
