#include "http_config.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include <boost/asio/ip/address.hpp>
#include <boost/json/value.hpp>

namespace runicorn::http_plugin {
namespace {

constexpr unsigned kMaxThreads = 64;

bool is_host_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

// A name, an IPv4 literal or a bracketed IPv6 literal; never a port.
bool is_host_name(std::string_view h) {
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
        boost::system::error_code ec;
        (void)boost::asio::ip::make_address_v6(h.substr(1, h.size() - 2), ec);
        return !ec;
    }
    return !h.empty() && std::all_of(h.begin(), h.end(), is_host_name_char);
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

constexpr std::size_t kMinTotalConnections = 1024;
constexpr std::size_t kMaxConnections = 1000000;

std::optional<std::size_t> integer_in(const boost::json::value& value, std::size_t min,
                                      std::size_t max) {
    if (value.is_int64() && value.get_int64() >= 0) {
        const auto n = static_cast<std::size_t>(value.get_int64());
        if (n >= min && n <= max) {
            return n;
        }
    } else if (value.is_uint64() && value.get_uint64() >= min && value.get_uint64() <= max) {
        return static_cast<std::size_t>(value.get_uint64());
    }
    return std::nullopt;
}

bool valid_token(std::string_view t) {
    return t.size() >= 16 && t.size() <= 512 &&
           std::all_of(t.begin(), t.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

}  // namespace

bool is_loopback_host(std::string_view host) {
    if (host == "localhost") {
        return true;
    }
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(host, ec);
    return !ec && address.is_loopback();
}

std::string url_host(std::string_view host) {
    if (host.find(':') != std::string_view::npos) {
        return "[" + std::string(host) + "]";
    }
    return std::string(host);
}

Result<HttpConfig> parse_http_config(const boost::json::object& config) {
    HttpConfig out;
    for (const auto& [key, value] : config) {
        if (key == "host") {
            const auto* s = value.if_string();
            if (s == nullptr || s->empty()) {
                return Status::invalid_argument("/host must be a non-empty string");
            }
            out.host = std::string(*s);
        } else if (key == "port") {
            const bool integral = value.is_int64() || value.is_uint64();
            if (!integral ||
                (value.is_int64() && (value.get_int64() < 0 || value.get_int64() > 65535)) ||
                (value.is_uint64() && value.get_uint64() > 65535)) {
                return Status::invalid_argument("/port must be an integer between 0 and 65535");
            }
            out.port = static_cast<std::uint16_t>(value.is_int64() ? value.get_int64()
                                                                   : value.get_uint64());
        } else if (key == "threads") {
            const bool ok =
                (value.is_int64() && value.get_int64() >= 1 && value.get_int64() <= kMaxThreads) ||
                (value.is_uint64() && value.get_uint64() >= 1 && value.get_uint64() <= kMaxThreads);
            if (!ok) {
                return Status::invalid_argument("/threads must be an integer between 1 and 64");
            }
            out.threads =
                static_cast<unsigned>(value.is_int64() ? value.get_int64() : value.get_uint64());
        } else if (key == "allowed_hosts") {
            const auto* array = value.if_array();
            if (array == nullptr) {
                return Status::invalid_argument("/allowed_hosts must be an array of strings");
            }
            for (std::size_t i = 0; i < array->size(); ++i) {
                const std::string pointer = "/allowed_hosts/" + std::to_string(i);
                const auto* s = (*array)[i].if_string();
                if (s == nullptr) {
                    return Status::invalid_argument(pointer + " must be a string");
                }
                std::string host = to_lower(*s);
                if (!is_host_name(host)) {
                    return Status::invalid_argument(pointer +
                                                    " must be a host name without a port, got '" +
                                                    std::string(*s) + "'");
                }
                if (host == "0.0.0.0") {
                    return Status::invalid_argument(pointer + " must not be 0.0.0.0");
                }
                out.allowed_hosts.push_back(std::move(host));
            }
        } else if (key == "allowed_origins") {
            const auto* array = value.if_array();
            if (array == nullptr) {
                return Status::invalid_argument("/allowed_origins must be an array of strings");
            }
            for (std::size_t i = 0; i < array->size(); ++i) {
                const std::string pointer = "/allowed_origins/" + std::to_string(i);
                const auto* s = (*array)[i].if_string();
                if (s == nullptr) {
                    return Status::invalid_argument(pointer + " must be a string");
                }
                auto origin = normalize_origin(*s);
                if (!origin) {
                    return Status::invalid_argument(
                        pointer + " must be an origin like 'http://host:port' (never '*'), got '" +
                        std::string(*s) + "'");
                }
                out.allowed_origins.push_back(std::move(*origin));
            }
        } else if (key == "token") {
            const auto* s = value.if_string();
            if (s == nullptr || !valid_token(*s)) {
                return Status::invalid_argument(
                    "/token must be a string of 16 to 512 printable ASCII characters");
            }
            out.token = std::string(*s);
        } else if (key == "remote_mode" || key == "require_token") {
            if (!value.is_bool()) {
                return Status::invalid_argument("/" + std::string(key) + " must be a boolean");
            }
            (key == "remote_mode" ? out.remote_mode : out.require_token) = value.get_bool();
        } else if (key == "max_connections") {
            const auto n = integer_in(value, kMinTotalConnections, kMaxConnections);
            if (!n) {
                return Status::invalid_argument(
                    "/max_connections must be an integer between 1024 and 1000000");
            }
            out.max_connections = *n;
        } else if (key == "max_connections_per_peer") {
            const auto n = integer_in(value, 1, kMaxConnections);
            if (!n) {
                return Status::invalid_argument(
                    "/max_connections_per_peer must be an integer between 1 and 1000000");
            }
            out.max_connections_per_peer = *n;
        } else {
            out.ignored_keys.emplace_back(key);
        }
    }
    if (out.host == "localhost" || out.host.find(':') != std::string::npos ||
        std::all_of(out.host.begin(), out.host.end(),
                    [](unsigned char c) { return std::isdigit(c) != 0 || c == '.'; })) {
        boost::system::error_code ec;
        if (out.host != "localhost") {
            (void)boost::asio::ip::make_address(out.host, ec);
        }
        if (!ec) {
            return out;
        }
    }
    return Status::invalid_argument("/host must be an IP address or 'localhost', got '" + out.host +
                                    "'");
}

bool HttpConfig::token_required() const {
    return remote_mode || require_token || !is_loopback_host(host);
}

std::optional<std::string> normalize_origin(std::string_view origin) {
    std::string lower = to_lower(origin);
    while (!lower.empty() && lower.back() == '/') {
        lower.pop_back();
    }
    std::string_view rest;
    if (lower.starts_with("http://")) {
        rest = std::string_view(lower).substr(7);
    } else if (lower.starts_with("https://")) {
        rest = std::string_view(lower).substr(8);
    } else {
        return std::nullopt;
    }
    if (rest.empty() || rest.find_first_of("/?#@ *") != std::string_view::npos) {
        return std::nullopt;
    }
    // host[:port]: the host is a name or a bracketed IPv6 literal.
    std::string_view host = rest;
    if (rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        host = rest.substr(0, close + 1);
        rest = rest.substr(close + 1);
    } else {
        const std::size_t colon = rest.find(':');
        host = rest.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon);
    }
    if (!is_host_name(host)) {
        return std::nullopt;
    }
    if (!rest.empty()) {
        const std::string_view port = rest.substr(1);
        if (rest.front() != ':' || port.empty() || port.size() > 5 ||
            !std::all_of(port.begin(), port.end(),
                         [](unsigned char c) { return std::isdigit(c) != 0; })) {
            return std::nullopt;
        }
    }
    return lower;
}

}  // namespace runicorn::http_plugin
