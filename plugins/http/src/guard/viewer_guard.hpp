#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <spdlog/logger.h>

#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

#include "../dispatcher.hpp"
#include "../http_config.hpp"
#include "../route_table.hpp"

namespace runicorn::http_plugin {

/// The viewer's security setup (API.md §1.4) from its config: the token (given, RUNICORN_TOKEN, or
/// generated per launch when one is required), the rate limits from rate_limits.json, the CORS
/// origins; the token file `<config_dir>/viewer-<port>.token` (0600, only for a generated token,
/// removed at stop) and the startup banner (non-loopback warning, one-time login link).
///
/// Thread safety: externally synchronized (driven by the plugin's lifecycle); the objects
/// options() hands out are safe for concurrent use.
class ViewerGuard {
public:
    /// `env_token` is RUNICORN_TOKEN (nullopt or empty when unset). A bad rate_limits.json is
    /// reported as a warning and the built-in limits apply. UNAVAILABLE when a token must be
    /// generated and no random bytes are available.
    static Result<std::unique_ptr<ViewerGuard>> create(const HttpConfig& config,
                                                       std::filesystem::path config_dir,
                                                       std::shared_ptr<spdlog::logger> logger,
                                                       std::optional<std::string> env_token);
    ViewerGuard(const ViewerGuard&) = delete;
    ViewerGuard& operator=(const ViewerGuard&) = delete;
    ViewerGuard(ViewerGuard&&) = delete;
    ViewerGuard& operator=(ViewerGuard&&) = delete;
    ~ViewerGuard();

    /// What the Dispatcher needs.
    GuardOptions options() const;
    /// Adds /api/auth/status, /api/auth/login-codes and /api/auth/logout.
    Status add_routes(RouteTable& routes) const;

    /// Once the server listens on `port` (base_url "http://host:port"): writes the token file for
    /// a generated token, warns about a non-loopback bind, and logs a one-time login link when a
    /// token is required. The token itself is never logged. Failures are logged, not returned.
    void on_listening(const std::string& base_url, std::uint16_t port);
    /// Removes the token file written by on_listening(). Never throws.
    void on_stopped() noexcept;

    bool token_generated() const noexcept { return generated_; }
    const std::shared_ptr<TokenAuth>& auth() const noexcept { return auth_; }
    /// The token file written for this launch, or empty.
    const std::filesystem::path& token_file() const noexcept { return token_file_; }

private:
    ViewerGuard() = default;

    HttpConfig config_;
    std::filesystem::path config_dir_;
    std::shared_ptr<spdlog::logger> logger_;
    std::shared_ptr<TokenAuth> auth_;
    std::shared_ptr<RateLimiter> rate_limiter_;
    std::string token_;
    bool generated_ = false;
    std::filesystem::path token_file_;
};

/// Writes `token` to `file` with mode 0600 (created with that mode, never through a symlink),
/// creating its directory with mode 0700 when missing. The file is replaced atomically.
Status write_token_file(const std::filesystem::path& file, const std::string& token);

}  // namespace runicorn::http_plugin
