#include "dispatcher.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <random>
#include <utility>

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

}  // namespace

bool is_api_path(std::string_view path) { return path == "/api" || path.starts_with("/api/"); }

Dispatcher::Dispatcher(std::shared_ptr<RouteTable> routes, std::string_view bind_host,
                       const std::vector<std::string>& allowed_hosts,
                       std::shared_ptr<plugin::RouteHandler> ui_fallback,
                       std::shared_ptr<spdlog::logger> logger)
    : routes_(std::move(routes)),
      allowed_hosts_{"localhost", "127.0.0.1", "[::1]"},
      ui_fallback_(std::move(ui_fallback)),
      logger_(std::move(logger)),
      request_id_salt_(random_salt()) {
    // The bind address is allowed when it names one host (a wildcard never does, and 0.0.0.0 is
    // refused by the config anyway).
    std::string bound = to_lower(url_host(bind_host));
    if (bound != "0.0.0.0" && bound != "[::]") {
        allowed_hosts_.push_back(std::move(bound));
    }
    allowed_hosts_.insert(allowed_hosts_.end(), allowed_hosts.begin(), allowed_hosts.end());
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
    const plugin::HttpRequest& request) const {
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
        return error_response(403, "Host '" + *host + "' is not allowed");
    }
    if (!parse_target(request.target)) {
        return error_response(400, "Malformed request target");
    }
    return std::nullopt;
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

plugin::HttpResponse Dispatcher::dispatch(plugin::HttpRequest& request) {
    auto target = parse_target(request.target);
    if (!target) {
        return error_response(400, "Malformed request target");
    }
    request.path = std::move(target->path);
    request.query = std::move(target->query);
    RouteMatch match = routes_->match(request.method, target->segments);
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
        if (request.method == "GET" || request.method == "HEAD") {
            return call_handler(*ui_fallback_, request);
        }
        plugin::HttpResponse response = error_response(405, "Method Not Allowed");
        response.headers.emplace_back("Allow", "GET, HEAD");
        return response;
    }
    return error_response(404, "Not Found");
}

}  // namespace runicorn::http_plugin
