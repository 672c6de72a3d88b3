#include "token_auth.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include "random_token.hpp"

namespace runicorn::http_plugin {
namespace {

constexpr std::size_t kLoginCodeBytes = 16;  // 128 bits
constexpr std::size_t kSessionBytes = 32;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

TokenAuth::TokenAuth(bool required, std::string token, Clock clock)
    : required_(required), token_(std::move(token)), clock_(std::move(clock)) {}

std::chrono::steady_clock::time_point TokenAuth::now() const {
    return clock_ ? clock_() : std::chrono::steady_clock::now();
}

bool TokenAuth::token_matches(std::string_view presented) const noexcept {
    return required_ && !token_.empty() && constant_time_equal(presented, token_);
}

std::optional<std::string> TokenAuth::presented_token(const plugin::HttpRequest& request) {
    for (const auto& [name, value] : request.headers) {
        if (name == "authorization") {
            const std::string_view v = trim(value);
            if (v.size() > 7 && (v.substr(0, 7) == "Bearer " || v.substr(0, 7) == "bearer ")) {
                return std::string(trim(v.substr(7)));
            }
        } else if (name == "x-runicorn-token") {
            return std::string(trim(value));
        }
    }
    return std::nullopt;
}

std::string TokenAuth::cookie_name(std::string_view host_header) {
    std::string_view port = "80";
    const std::size_t close = host_header.rfind(']');
    const std::size_t colon = host_header.rfind(':');
    if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close)) {
        const std::string_view p = host_header.substr(colon + 1);
        if (!p.empty() &&
            std::all_of(p.begin(), p.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
            port = p;
        }
    }
    return "runicorn_session_" + std::string(port);
}

std::optional<std::string> TokenAuth::cookie_value(const plugin::HttpRequest& request,
                                                   std::string_view name) {
    for (const auto& [header, value] : request.headers) {
        if (header != "cookie") {
            continue;
        }
        std::string_view rest = value;
        while (!rest.empty()) {
            const std::size_t semi = rest.find(';');
            const std::string_view pair = trim(rest.substr(0, semi));
            rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
            const std::size_t eq = pair.find('=');
            if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) {
                return std::string(trim(pair.substr(eq + 1)));
            }
        }
    }
    return std::nullopt;
}

bool TokenAuth::session_open(std::string_view value) const {
    // Compare against every session in constant time each, so timing says nothing about which
    // (if any) matched.
    bool found = false;
    for (const std::string& s : sessions_) {
        found = constant_time_equal(value, s) || found;
    }
    return found;
}

bool TokenAuth::authenticated(const plugin::HttpRequest& request) const {
    if (!required_) {
        return true;
    }
    if (auto token = presented_token(request)) {
        return token_matches(*token);
    }
    const std::string host = request.header("host").value_or("");
    if (auto cookie = cookie_value(request, cookie_name(host))) {
        const std::lock_guard lock(mutex_);
        return session_open(*cookie);
    }
    return false;
}

Result<std::string> TokenAuth::mint_login_code() {
    RUNICORN_ASSIGN_OR_RETURN(std::string code, random_base64url(kLoginCodeBytes));
    const auto expires = now() + kLoginCodeLifetime;
    const std::lock_guard lock(mutex_);
    while (codes_.size() >= kMaxLoginCodes) {
        codes_.pop_front();
    }
    codes_.push_back(Code{code, expires});
    return code;
}

bool TokenAuth::consume_login_code(std::string_view code) {
    const auto t = now();
    const std::lock_guard lock(mutex_);
    std::erase_if(codes_, [t](const Code& c) { return c.expires <= t; });
    auto found = codes_.end();
    for (auto it = codes_.begin(); it != codes_.end(); ++it) {
        if (constant_time_equal(code, it->value)) {
            found = it;
        }
    }
    if (found == codes_.end()) {
        return false;
    }
    codes_.erase(found);
    return true;
}

Result<std::string> TokenAuth::open_session() {
    RUNICORN_ASSIGN_OR_RETURN(std::string value, random_base64url(kSessionBytes));
    const std::lock_guard lock(mutex_);
    while (sessions_.size() >= kMaxSessions) {
        sessions_.pop_front();
    }
    sessions_.push_back(value);
    return value;
}

void TokenAuth::close_session(std::string_view value) {
    const std::lock_guard lock(mutex_);
    std::erase_if(sessions_,
                  [value](const std::string& s) { return constant_time_equal(value, s); });
}

}  // namespace runicorn::http_plugin
