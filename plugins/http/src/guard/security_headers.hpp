#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace runicorn::http_plugin {

inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; frame-ancestors 'none'";

/// The headers every response carries (API.md §1.4): nosniff, no-referrer, DENY, and for an HTML
/// response (`content_type` text/html) the Content-Security-Policy. A handler's own value for
/// one of these names wins.
std::vector<std::pair<std::string_view, std::string_view>> security_headers(
    std::string_view content_type);

}  // namespace runicorn::http_plugin
