#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include <runicorn/result.hpp>

namespace runicorn::http_plugin {

inline constexpr std::uint16_t kDefaultPort = 23300;

/// The http plugin's settings (`runicorn_cpp.plugins.http` of config.json).
struct HttpConfig {
    std::string host = "127.0.0.1";          ///< A loopback address or "localhost".
    std::uint16_t port = kDefaultPort;       ///< 0 asks for any free port.
    unsigned threads = 2;                    ///< I/O threads, 1..64.
    std::vector<std::string> allowed_hosts;  ///< Extra Host header names, lower-cased.
    std::vector<std::string> ignored_keys;   ///< Unknown keys, reported as a warning by the caller.
};

/// Reads and validates the plugin's config subtree; absent keys keep their defaults. On a bad field
/// returns INVALID_ARGUMENT whose message starts with the field's JSON pointer, e.g.
/// "/port must be an integer between 0 and 65535". A host that is not loopback is refused with
/// INVALID_ARGUMENT too, because such a bind needs an access token (API.md §1.4), which this build
/// does not support yet.
Result<HttpConfig> parse_http_config(const boost::json::object& config);

/// True for "localhost" and for IPv4/IPv6 loopback literals ("127.0.0.1", "127.1.2.3", "::1").
bool is_loopback_host(std::string_view host);

/// The host as it appears in a URL or a Host header: IPv6 literals in brackets ("[::1]"),
/// everything else unchanged.
std::string url_host(std::string_view host);

}  // namespace runicorn::http_plugin
