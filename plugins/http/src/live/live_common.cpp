#include "live_common.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "../responses.hpp"

namespace runicorn::http_plugin::live {

plugin::HttpResponse storage_missing() {
    return error_response(503, "PLUGIN_NOT_LOADED", "storage plugin not loaded");
}

plugin::HttpResponse run_not_found() {
    return error_response(404, "RUN_NOT_FOUND", "Run not found");
}

plugin::HttpResponse failure_response(const Status& status, std::string_view where,
                                      spdlog::logger& log, std::string_view what) {
    if (status.code() == StatusCode::kNotFound) {
        return run_not_found();
    }
    if (status.code() == StatusCode::kInvalidArgument) {
        const std::string& m = status.message();
        const auto colon = m.find(": ");
        if (colon != std::string::npos && colon > 0 &&
            std::all_of(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
            })) {
            return validation_error({std::string(where), m.substr(0, colon)}, m.substr(colon + 2),
                                    "value_error");
        }
        return error_response(400, m);
    }
    const unsigned code = http_status_for(status.code());
    if (code == 500) {
        log.error("{}: {}", what, status.message());
        return error_response(500, "INTERNAL", "Internal error");
    }
    return error_response(status);
}

std::optional<plugin::HttpResponse> query_int(const plugin::HttpRequest& request,
                                              std::string_view name,
                                              std::optional<std::int64_t>& out) {
    const auto text = request.query_value(name);
    if (!text) {
        return std::nullopt;
    }
    std::string_view s = *text;
    while (!s.empty() && s.front() == ' ') {
        s.remove_prefix(1);
    }
    while (!s.empty() && s.back() == ' ') {
        s.remove_suffix(1);
    }
    if (!s.empty() && s.front() == '+') {
        s.remove_prefix(1);
    }
    std::int64_t v = 0;
    const auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || res.ec != std::errc() || res.ptr != s.data() + s.size()) {
        return validation_error({"query", std::string(name)},
                                "Input should be a valid integer, unable to parse string as an "
                                "integer",
                                "int_parsing");
    }
    out = v;
    return std::nullopt;
}

std::optional<plugin::HttpResponse> query_double(const plugin::HttpRequest& request,
                                                 std::string_view name,
                                                 std::optional<double>& out) {
    const auto text = request.query_value(name);
    if (!text) {
        return std::nullopt;
    }
    double v = 0.0;
    const char* first = text->data();
    const char* last = first + text->size();
    const auto res = std::from_chars(first, last, v);
    if (text->empty() || res.ec != std::errc() || res.ptr != last || !std::isfinite(v)) {
        return validation_error({"query", std::string(name)},
                                "Input should be a valid number, unable to parse string as a "
                                "number",
                                "float_parsing");
    }
    out = v;
    return std::nullopt;
}

plugin::HttpResponse with_etag(const plugin::HttpRequest& request, plugin::HttpResponse response) {
    if (response.status != 200) {
        return response;
    }
    // FNV-1a 64 over target, NUL, body: stable across restarts, unlike std::hash.
    std::uint64_t h = 0xcbf29ce484222325ULL;
    const auto mix = [&h](std::string_view s) {
        for (const char c : s) {
            h ^= static_cast<unsigned char>(c);
            h *= 0x100000001b3ULL;
        }
    };
    mix(request.target);
    mix(std::string_view("\0", 1));
    mix(response.body);
    for (const auto& [k, v] : response.headers) {
        mix(k);
        mix(v);
    }
    char buf[24];
    std::snprintf(buf, sizeof(buf), "\"%016llx\"", static_cast<unsigned long long>(h));
    const std::string etag = buf;
    response.headers.emplace_back("ETag", etag);
    response.headers.emplace_back("Cache-Control", "no-cache");
    if (auto inm = request.header("if-none-match")) {
        std::string_view list = *inm;
        while (!list.empty()) {
            const auto comma = list.find(',');
            std::string_view item = list.substr(0, comma);
            while (!item.empty() && item.front() == ' ') {
                item.remove_prefix(1);
            }
            while (!item.empty() && item.back() == ' ') {
                item.remove_suffix(1);
            }
            if (item.starts_with("W/")) {
                item.remove_prefix(2);
            }
            if (item == etag || item == "*") {
                plugin::HttpResponse not_modified;
                not_modified.status = 304;
                not_modified.content_type.clear();
                not_modified.headers = {{"ETag", etag}, {"Cache-Control", "no-cache"}};
                return not_modified;
            }
            if (comma == std::string_view::npos) {
                break;
            }
            list.remove_prefix(comma + 1);
        }
    }
    return response;
}

std::optional<bool> parse_bool_text(std::string_view text) {
    std::string t(text);
    std::transform(t.begin(), t.end(), t.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (t == "true" || t == "1" || t == "yes" || t == "on" || t == "t" || t == "y") {
        return true;
    }
    if (t == "false" || t == "0" || t == "no" || t == "off" || t == "f" || t == "n") {
        return false;
    }
    return std::nullopt;
}

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        while (!item.empty() && item.front() == ' ') {
            item.remove_prefix(1);
        }
        while (!item.empty() && item.back() == ' ') {
            item.remove_suffix(1);
        }
        if (!item.empty()) {
            out.emplace_back(item);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        text.remove_prefix(comma + 1);
    }
    return out;
}

}  // namespace runicorn::http_plugin::live
