#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/result.hpp>

namespace runicorn::http_plugin {

/// The viewer's access token (API.md §1.4): checks a request's credentials (Authorization:
/// Bearer, X-Runicorn-Token, or the session cookie runicorn_session_<port>), mints one-time login
/// codes (128-bit, single use, 15 minutes) and opens and closes browser sessions. Secrets are
/// compared in constant time and never logged.
///
/// Thread safety: safe for concurrent use.
class TokenAuth {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    static constexpr std::chrono::minutes kLoginCodeLifetime{15};
    static constexpr std::size_t kMaxLoginCodes = 256;
    static constexpr std::size_t kMaxSessions = 1024;

    /// `required` false turns every check off (a loopback viewer without require_token); then
    /// `token` is ignored. With `required`, `token` must not be empty. `clock` defaults to
    /// steady_clock::now (tests pass a fake).
    TokenAuth(bool required, std::string token, Clock clock = {});
    TokenAuth(const TokenAuth&) = delete;
    TokenAuth& operator=(const TokenAuth&) = delete;
    TokenAuth(TokenAuth&&) = delete;
    TokenAuth& operator=(TokenAuth&&) = delete;
    ~TokenAuth() = default;

    bool required() const noexcept { return required_; }

    /// True when `presented` is the token (false when no token is required).
    bool token_matches(std::string_view presented) const noexcept;

    /// True when auth is off, or the request carries the token (Bearer or X-Runicorn-Token) or a
    /// live session cookie for the port in its Host header.
    bool authenticated(const plugin::HttpRequest& request) const;

    /// A new login code valid for kLoginCodeLifetime, 128 random bits in base64url. At most
    /// kMaxLoginCodes are outstanding: the oldest is dropped first. UNAVAILABLE without entropy.
    Result<std::string> mint_login_code();

    /// Consumes `code`: true (once) when it was minted here and has not expired.
    bool consume_login_code(std::string_view code);

    /// Opens a browser session and returns its cookie value (32 random bytes, base64url). At most
    /// kMaxSessions live at once: the oldest is closed first.
    Result<std::string> open_session();

    /// Closes the session whose cookie value is `value` (no effect if unknown).
    void close_session(std::string_view value);

    /// "runicorn_session_<port>" for the port in a Host header value ("80" when it names none).
    static std::string cookie_name(std::string_view host_header);

    /// The value of cookie `name` in the request's Cookie headers, or nullopt.
    static std::optional<std::string> cookie_value(const plugin::HttpRequest& request,
                                                   std::string_view name);

    /// The credential a request presents through Authorization: Bearer or X-Runicorn-Token.
    static std::optional<std::string> presented_token(const plugin::HttpRequest& request);

private:
    struct Code {
        std::string value;
        std::chrono::steady_clock::time_point expires;
    };

    std::chrono::steady_clock::time_point now() const;
    bool session_open(std::string_view value) const;

    const bool required_;
    const std::string token_;
    Clock clock_;
    mutable std::mutex mutex_;
    std::deque<Code> codes_;
    std::deque<std::string> sessions_;
};

}  // namespace runicorn::http_plugin
