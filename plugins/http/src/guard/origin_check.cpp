#include "origin_check.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "../http_config.hpp"

namespace runicorn::http_plugin {
namespace {

std::string to_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool contains_token(std::string_view list, std::string_view token) {
    // A case-insensitive search for `token` among comma- or space-separated items.
    const std::string lower = to_lower(list);
    std::size_t pos = 0;
    while ((pos = lower.find(token, pos)) != std::string::npos) {
        const bool start_ok = pos == 0 || lower[pos - 1] == ',' || lower[pos - 1] == ' ';
        const std::size_t end = pos + token.size();
        const bool end_ok =
            end == lower.size() || lower[end] == ',' || lower[end] == ' ' || lower[end] == ';';
        if (start_ok && end_ok) {
            return true;
        }
        pos = end;
    }
    return false;
}

bool listed(const std::vector<std::string>& allowed, std::string_view origin) {
    return std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
}

}  // namespace

bool needs_origin_check(const plugin::HttpRequest& request) {
    const std::string& m = request.method;
    if (m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE") {
        return true;
    }
    if (auto upgrade = request.header("upgrade");
        upgrade && contains_token(*upgrade, "websocket")) {
        return true;
    }
    if (auto accept = request.header("accept");
        accept && contains_token(*accept, "text/event-stream")) {
        return true;
    }
    // The event stream itself, whatever the client says it accepts (API.md §1.4: every SSE
    // request). `path` is empty before routing, so the raw target is checked too.
    const std::string_view target =
        request.path.empty() ? std::string_view(request.target) : std::string_view(request.path);
    const std::string_view path = target.substr(0, target.find('?'));
    return path == "/api/events" || path == "/api/events/";
}

bool origin_allowed(const plugin::HttpRequest& request,
                    const std::vector<std::string>& allowed_origins) {
    const auto origin = request.header("origin");
    if (!origin) {
        const auto site = request.header("sec-fetch-site");
        if (!site) {
            return true;
        }
        const std::string s = to_lower(*site);
        return s != "cross-site" && s != "same-site";
    }
    const auto normalized = normalize_origin(*origin);
    if (!normalized) {
        return false;  // "null", opaque and malformed origins
    }
    const std::string host = to_lower(request.header("host").value_or(""));
    if (!host.empty() && (*normalized == "http://" + host || *normalized == "https://" + host)) {
        return true;
    }
    return listed(allowed_origins, *normalized);
}

plugin::HeaderList cors_headers(const plugin::HttpRequest& request,
                                const std::vector<std::string>& allowed_origins) {
    plugin::HeaderList out;
    const auto origin = request.header("origin");
    if (!origin) {
        return out;
    }
    const auto normalized = normalize_origin(*origin);
    if (!normalized || !listed(allowed_origins, *normalized)) {
        return out;
    }
    out.emplace_back("Access-Control-Allow-Origin", *origin);
    out.emplace_back("Vary", "Origin");
    out.emplace_back("Access-Control-Allow-Credentials", "true");
    if (request.method == "OPTIONS" && request.header("access-control-request-method")) {
        out.emplace_back("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE");
        out.emplace_back("Access-Control-Allow-Headers",
                         "Authorization, Content-Type, X-Runicorn-Token, If-None-Match");
        out.emplace_back("Access-Control-Max-Age", "600");
    } else {
        out.emplace_back("Access-Control-Expose-Headers",
                         "ETag, X-Total-Count, Retry-After, X-RateLimit-Limit, "
                         "X-RateLimit-Remaining, X-RateLimit-Reset");
    }
    return out;
}

}  // namespace runicorn::http_plugin
