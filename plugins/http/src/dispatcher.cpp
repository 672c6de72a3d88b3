#include "dispatcher.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <random>
#include <utility>

#include <boost/json/object.hpp>

#include "error_locale.hpp"
#include "guard/auth_routes.hpp"
#include "guard/origin_check.hpp"
#include "http_config.hpp"
#include "responses.hpp"

namespace runicorn::http_plugin {
namespace {

std::string to_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// The host part of a Host header value, lower-cased, or nullopt when the value is malformed.
// "[::1]:8080" -> "[::1]", "LocalHost:23300" -> "localhost".
std::optional<std::string> host_part(std::string_view value) {
    std::string_view host;
    std::string_view rest;
    if (!value.empty() && value.front() == '[') {
        const std::size_t close = value.find(']');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        host = value.substr(0, close + 1);
        rest = value.substr(close + 1);
    } else {
        const std::size_t colon = value.find(':');
        host = value.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view() : value.substr(colon);
    }
    if (host.empty()) {
        return std::nullopt;
    }
    if (!rest.empty()) {
        const std::string_view port = rest.substr(1);
        if (rest.front() != ':' || port.empty() ||
            !std::all_of(port.begin(), port.end(),
                         [](unsigned char c) { return std::isdigit(c) != 0; })) {
            return std::nullopt;
        }
    }
    return to_lower(host);
}

std::uint32_t random_salt() {
    try {
        std::random_device device;
        return device();
    } catch (const std::exception&) {
        // No entropy source: ids stay unique within the run, which is all they are for.
        return 0;
    }
}

std::string hex8(std::uint32_t v) {
    static constexpr std::array<char, 16> kDigits = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                     '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
    std::string out(8, '0');
    for (int i = 7; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = kDigits[v & 0xFU];
        v >>= 4U;
    }
    return out;
}

// An escaped NUL is an attempt at path tricks (API.md §1.4): 403 "Unsafe path"; anything else
// unparsable is a plain 400.
plugin::HttpResponse malformed_target(std::string_view target) {
    // In the path or in a query value (a download's ?path=, API.md §1.4): either names a file.
    if (target.find("%00") != std::string_view::npos) {
        return error_response(403, "UNSAFE_PATH", "Unsafe path");
    }
    return error_response(400, "Malformed request target");
}

}  // namespace

bool is_api_path(std::string_view path) { return path == "/api" || path.starts_with("/api/"); }

bool needs_token(std::string_view method, std::string_view path) {
    if (path == "/openapi.json") {
        return true;
    }
    const bool status_read = (method == "GET" || method == "HEAD") && path == "/api/auth/status";
    return is_api_path(path) && !status_read;
}

Dispatcher::Dispatcher(std::shared_ptr<RouteTable> routes, std::string_view bind_host,
                       const std::vector<std::string>& allowed_hosts,
                       std::shared_ptr<plugin::RouteHandler> ui_fallback,
                       std::shared_ptr<spdlog::logger> logger, GuardOptions guard)
    : routes_(std::move(routes)),
      allowed_hosts_{"localhost", "127.0.0.1", "[::1]"},
      ui_fallback_(std::move(ui_fallback)),
      logger_(std::move(logger)),
      guard_(std::move(guard)),
      request_id_salt_(random_salt()) {
    // The bind address is allowed when it names one host (a wildcard never does).
    std::string bound = to_lower(url_host(bind_host));
    if (bound != "0.0.0.0" && bound != "[::]" && bound != "[0:0:0:0:0:0:0:0]") {
        allowed_hosts_.push_back(std::move(bound));
    }
    allowed_hosts_.insert(allowed_hosts_.end(), allowed_hosts.begin(), allowed_hosts.end());
    if (!guard_.clock) {
        guard_.clock = [] { return std::chrono::steady_clock::now(); };
    }
}

bool Dispatcher::host_allowed(std::string_view host_header) const {
    const auto host = host_part(host_header);
    return host &&
           std::find(allowed_hosts_.begin(), allowed_hosts_.end(), *host) != allowed_hosts_.end();
}

std::string Dispatcher::next_request_id() {
    return hex8(request_id_salt_) + hex8(++request_counter_);
}

std::optional<plugin::HttpResponse> Dispatcher::before_body(
    const plugin::HttpRequest& request, plugin::HeaderList* response_headers) const {
    auto refusal = admission(request, response_headers);
    if (refusal && refusal->status >= 400) {
        std::string lng;
        if (auto target = parse_target(request.target)) {
            lng = plugin::HttpRequest::find(target->query, "lng").value_or("");
        }
        const auto locales = routes_->locales();
        localize_error(*refusal, locales.get(), lng,
                       request.header("accept-language").value_or(""));
    }
    return refusal;
}

std::optional<plugin::HttpResponse> Dispatcher::admission(
    const plugin::HttpRequest& request, plugin::HeaderList* response_headers) const {
    const std::string* host = nullptr;
    for (const auto& [name, value] : request.headers) {
        if (name == "host") {
            if (host != nullptr) {
                return error_response(400, "Repeated Host header");
            }
            host = &value;
        }
    }
    if (host == nullptr) {
        return error_response(400, "Missing Host header");
    }
    if (!host_allowed(*host)) {
        return error_response(403, "HOST_NOT_ALLOWED", "Host not allowed");
    }
    auto target = parse_target(request.target);
    if (!target) {
        return malformed_target(request.target);
    }
    const std::string& path = target->path;

    plugin::HeaderList extra = cors_headers(request, guard_.allowed_origins);
    const auto refuse = [&extra](plugin::HttpResponse response) {
        response.headers.insert(response.headers.end(), extra.begin(), extra.end());
        return response;
    };
    if (guard_.rate_limiter != nullptr) {
        const RateLimiter::Decision d =
            guard_.rate_limiter->check(request.peer_address, request.method, path, guard_.clock());
        if (d.limited) {
            extra.emplace_back("X-RateLimit-Limit", std::to_string(d.limit));
            extra.emplace_back("X-RateLimit-Remaining", std::to_string(d.remaining));
            extra.emplace_back("X-RateLimit-Reset", std::to_string(d.reset_seconds));
        }
        if (!d.allowed) {
            boost::json::object body;
            body["detail"] = "Rate limit exceeded";
            body["code"] = default_error_code(429);
            body["retry_after"] = d.retry_after;
            plugin::HttpResponse response = json_response(429, body);
            response.headers.emplace_back("Retry-After", std::to_string(d.retry_after));
            logger_->debug("rate limit: {} {} from {} refused for {} s", request.method, path,
                           request.peer_address, d.retry_after);
            return refuse(std::move(response));
        }
    }
    if (request.method != "OPTIONS") {
        if (needs_origin_check(request) && !origin_allowed(request, guard_.allowed_origins)) {
            return refuse(error_response(403, "ORIGIN_NOT_ALLOWED", "Origin not allowed"));
        }
        if (guard_.auth != nullptr && guard_.auth->required() &&
            needs_token(request.method, path) && !guard_.auth->authenticated(request)) {
            plugin::HttpResponse response =
                error_response(401, "AUTH_REQUIRED", "Authentication required");
            response.headers.emplace_back("WWW-Authenticate", "Bearer");
            return refuse(std::move(response));
        }
    }
    if (response_headers != nullptr) {
        *response_headers = std::move(extra);
    }
    return std::nullopt;
}

std::uint64_t Dispatcher::route_body_limit(const plugin::HttpRequest& request) const {
    auto target = parse_target(request.target);
    if (!target) {
        return 0;
    }
    const RouteMatch match = routes_->match(request.method, target->segments);
    return match.kind == RouteMatch::Kind::kFound ? match.spec.max_body_bytes : 0;
}

plugin::HttpResponse Dispatcher::call_handler(plugin::RouteHandler& handler,
                                              const plugin::HttpRequest& request) {
    std::string failure;
    try {
        plugin::HttpResponse response = handler.handle(request);
        if (response.status >= 100 && response.status <= 599) {
            return response;
        }
        failure = "handler returned the invalid status " + std::to_string(response.status);
    } catch (const std::exception& e) {
        failure = std::string("handler threw: ") + e.what();
    } catch (...) {
        failure = "handler threw a non-standard exception";
    }
    const std::string id = next_request_id();
    logger_->error("request {}: {} {}: {}", id, request.method, request.target, failure);
    return error_response(500, "Internal Server Error (request id " + id + ")");
}

plugin::HttpResponse Dispatcher::dispatch(plugin::HttpRequest& request,
                                          const plugin::HeaderList& extra_headers) {
    plugin::HttpResponse response = route(request);
    if (response.status >= 400) {
        const auto locales = routes_->locales();
        localize_error(response, locales.get(), request.query_value("lng").value_or(""),
                       request.header("accept-language").value_or(""));
    }
    response.headers.insert(response.headers.end(), extra_headers.begin(), extra_headers.end());
    return response;
}

plugin::HttpResponse Dispatcher::route(plugin::HttpRequest& request) {
    auto target = parse_target(request.target);
    if (!target) {
        return malformed_target(request.target);
    }
    request.path = std::move(target->path);
    request.query = std::move(target->query);
    const bool read_only = request.method == "GET" || request.method == "HEAD";
    if (read_only && !is_api_path(request.path) && guard_.auth != nullptr) {
        if (auto login = handle_login_link(request, *guard_.auth)) {
            return std::move(*login);
        }
    }
    const std::string_view lookup_method =
        request.method == "OPTIONS" ? std::string_view("GET") : std::string_view(request.method);
    RouteMatch match = routes_->match(lookup_method, target->segments);
    if (request.method == "OPTIONS") {
        plugin::HttpResponse response;
        response.status = 204;
        response.content_type.clear();
        std::string allow;
        if (match.kind == RouteMatch::Kind::kFound) {
            allow = "GET, HEAD";
            const RouteMatch others = routes_->match("OPTIONS", target->segments);
            for (const std::string& m : others.allow) {
                if (m != "GET" && m != "HEAD") {
                    allow += ", " + m;
                }
            }
        } else {
            for (const std::string& m : match.allow) {
                allow += allow.empty() ? m : ", " + m;
            }
        }
        if (allow.empty() && !is_api_path(request.path)) {
            allow = "GET, HEAD";
        }
        if (allow.empty()) {
            return error_response(404, "Not Found");
        }
        response.headers.emplace_back("Allow", allow + ", OPTIONS");
        return response;
    }
    switch (match.kind) {
        case RouteMatch::Kind::kFound:
            request.path_params = std::move(match.params);
            return call_handler(*match.handler, request);
        case RouteMatch::Kind::kMethodNotAllowed: {
            plugin::HttpResponse response = error_response(405, "Method Not Allowed");
            std::string allow;
            for (const std::string& m : match.allow) {
                allow += allow.empty() ? m : ", " + m;
            }
            response.headers.emplace_back("Allow", std::move(allow));
            return response;
        }
        case RouteMatch::Kind::kNotFound:
            break;
    }
    if (ui_fallback_ != nullptr && !is_api_path(request.path)) {
        if (read_only) {
            return call_handler(*ui_fallback_, request);
        }
        plugin::HttpResponse response = error_response(405, "Method Not Allowed");
        response.headers.emplace_back("Allow", "GET, HEAD");
        return response;
    }
    return error_response(404, "Not Found");
}

}  // namespace runicorn::http_plugin
