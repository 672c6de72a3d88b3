#include "http_config.hpp"

#include <algorithm>
#include <cctype>

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
        } else {
            out.ignored_keys.emplace_back(key);
        }
    }
    if (!is_loopback_host(out.host)) {
        return Status::invalid_argument("binding to '" + out.host +
                                        "' (not loopback) needs an access token, which this "
                                        "build does not support yet");
    }
    return out;
}

}  // namespace runicorn::http_plugin
