#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include <runicorn/result.hpp>

namespace runicorn::http_plugin {

inline constexpr std::uint16_t kDefaultPort = 23300;

/// The http plugin's settings: `runicorn_cpp.viewer` merged with `runicorn_cpp.plugins.http` of
/// config.json and the viewer's command-line flags.
struct HttpConfig {
    std::string host = "127.0.0.1";          ///< An IP literal or "localhost"; may be non-loopback.
    std::uint16_t port = kDefaultPort;       ///< 0 asks for any free port.
    unsigned threads = 2;                    ///< I/O threads, 1..64.
    std::vector<std::string> allowed_hosts;  ///< Extra Host header names, lower-cased.
    /// Origins ("scheme://host[:port]", lower-cased) allowed cross-origin (CORS, API.md §1.4).
    std::vector<std::string> allowed_origins;
    std::string token;           ///< The access token given (--token or config); "" for none.
    bool remote_mode = false;    ///< Started by the remote plugin on a shared server.
    bool require_token = false;  ///< Require the token on a loopback bind too.
    /// Connection caps (API.md §1.3). The total is at least 1,024 when read from a config.
    std::size_t max_connections = 1024;
    std::size_t max_connections_per_peer = 64;  ///< Non-loopback peers only.
    /// Deadlines for a request header and for each body read (API.md §1.3: 10 s, 30 s); zero
    /// keeps those. Not read from a config (tests shorten them).
    std::chrono::milliseconds header_timeout{0};
    std::chrono::milliseconds body_timeout{0};
    /// Where request bodies above the in-memory limit are spooled (routes with a larger
    /// RouteSpec::max_body_bytes); empty → the system temp directory. Not read from a config
    /// (the plugin sets <storage root>/index/staging/uploads, on the store's filesystem).
    std::filesystem::path spool_dir;
    std::vector<std::string> ignored_keys;  ///< Unknown keys, reported as a warning by the caller.

    /// True when every request needs the access token: a non-loopback bind, --remote-mode, or
    /// require_token (API.md §1.4).
    bool token_required() const;
};

/// Reads and validates the plugin's config subtree; absent keys keep their defaults. On a bad field
/// returns INVALID_ARGUMENT whose message starts with the field's JSON pointer, e.g.
/// "/port must be an integer between 0 and 65535".
Result<HttpConfig> parse_http_config(const boost::json::object& config);

/// True for "localhost" and for IPv4/IPv6 loopback literals ("127.0.0.1", "127.1.2.3", "::1").
bool is_loopback_host(std::string_view host);

/// "HTTPS://Desk.App:443/" -> "https://desk.app:443": a lower-cased origin without a trailing
/// slash; nullopt unless it is http or https with a host (name, IPv4 or [IPv6]) and an optional
/// port, and nothing else ('*' and "null" are refused).
std::optional<std::string> normalize_origin(std::string_view origin);

/// The host as it appears in a URL or a Host header: IPv6 literals in brackets ("[::1]"),
/// everything else unchanged.
std::string url_host(std::string_view host);

}  // namespace runicorn::http_plugin
