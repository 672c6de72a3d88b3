#include "security_headers.hpp"

namespace runicorn::http_plugin {

std::vector<std::pair<std::string_view, std::string_view>> security_headers(
    std::string_view content_type) {
    std::vector<std::pair<std::string_view, std::string_view>> out = {
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Frame-Options", "DENY"},
    };
    if (content_type.starts_with("text/html")) {
        out.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
    }
    return out;
}

}  // namespace runicorn::http_plugin
