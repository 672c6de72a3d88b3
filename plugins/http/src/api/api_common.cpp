#include "api_common.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <utility>

#include <spdlog/logger.h>

#include "../http_router.hpp"
#include "../responses.hpp"

namespace runicorn::http_plugin::api {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

void fnv1a(std::uint64_t& h, std::string_view data) {
    for (const char c : data) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    h ^= 0xff;  // separator, so ("ab", "c") and ("a", "bc") differ
    h *= 1099511628211ULL;
}

/// True when an If-None-Match header value names `etag` (a list, weak tags compared weakly).
bool etag_matches(std::string_view header, std::string_view etag) {
    std::size_t pos = 0;
    while (pos <= header.size()) {
        std::size_t comma = header.find(',', pos);
        if (comma == std::string_view::npos) {
            comma = header.size();
        }
        std::string_view item = header.substr(pos, comma - pos);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
            item.remove_prefix(1);
        }
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
            item.remove_suffix(1);
        }
        if (item.starts_with("W/")) {
            item.remove_prefix(2);
        }
        if (item == "*" || item == etag) {
            return true;
        }
        pos = comma + 1;
    }
    return false;
}

}  // namespace

Status add_route(plugin::HttpRoutes& routes, plugin::RouteSpec spec, Handler fn) {
    return routes.add_route(std::move(spec), make_handler(std::move(fn)));
}

Handler with_store(const std::shared_ptr<ApiState>& state,
                   std::function<plugin::HttpResponse(ApiState&, const plugin::HttpRequest&)> fn) {
    return [state, fn = std::move(fn)](const plugin::HttpRequest& request) {
        if (state->store() == nullptr) {
            return store_missing();
        }
        return fn(*state, request);
    };
}

std::optional<plugin::HttpResponse> object_body(const plugin::HttpRequest& request,
                                                boost::json::object& out) {
    boost::json::value v;
    if (auto err = parse_json_body(request, v)) {
        return err;
    }
    if (!v.is_object()) {
        return validation_error({"body"}, "value is not a valid dict", "type_error.dict");
    }
    out = std::move(v.as_object());
    return std::nullopt;
}

plugin::HttpResponse store_missing() {
    return error_response(503, "PLUGIN_NOT_LOADED", "Storage plugin not loaded");
}

plugin::HttpResponse run_not_found() {
    return error_response(404, "RUN_NOT_FOUND", "Run not found");
}

plugin::HttpResponse invalid_run_id(std::string_view run_id) {
    return error_response(400, "INVALID_RUN_ID", "Invalid run_id format: " + std::string(run_id));
}

plugin::HttpResponse store_failure(const ApiState& state, std::string_view what,
                                   const Status& status) {
    if (status.code() == StatusCode::kNotFound) {
        return run_not_found();
    }
    const unsigned http_status = http_status_for(status.code());
    if (http_status == 500) {
        if (state.logger() != nullptr) {
            state.logger()->error("{}: {}", what, status.to_string());
        }
        return error_response(500, "INTERNAL", "Internal error");
    }
    return error_response(status);
}

std::optional<bool> parse_bool(std::string_view text) {
    const std::string v = lower(text);
    if (v == "true" || v == "1" || v == "yes" || v == "on" || v == "t" || v == "y") {
        return true;
    }
    if (v == "false" || v == "0" || v == "no" || v == "off" || v == "f" || v == "n") {
        return false;
    }
    return std::nullopt;
}

std::optional<plugin::HttpResponse> query_bool(const plugin::HttpRequest& request,
                                               std::string_view name, bool& value) {
    const std::optional<std::string> raw = request.query_value(name);
    if (!raw) {
        return std::nullopt;
    }
    const std::optional<bool> parsed = parse_bool(*raw);
    if (!parsed) {
        return validation_error({"query", std::string(name)},
                                "value could not be parsed to a boolean", "type_error.bool");
    }
    value = *parsed;
    return std::nullopt;
}

std::string list_etag(std::string_view target, std::string_view body,
                      const plugin::HeaderList& extra) {
    std::uint64_t h = 14695981039346656037ULL;
    fnv1a(h, target);
    fnv1a(h, body);
    for (const auto& [k, v] : extra) {
        fnv1a(h, k);
        fnv1a(h, v);
    }
    std::array<char, 24> buf{};
    std::snprintf(buf.data(), buf.size(), "\"%016llx\"", static_cast<unsigned long long>(h));
    return std::string(buf.data());
}

plugin::HttpResponse cached_json(const plugin::HttpRequest& request, const boost::json::value& body,
                                 plugin::HeaderList extra) {
    plugin::HttpResponse response = json_response(200, body);
    const std::string etag = list_etag(request.target, response.body, extra);
    response.headers = std::move(extra);
    response.headers.emplace_back("ETag", etag);
    response.headers.emplace_back("Cache-Control", "no-cache");
    if (const auto inm = request.header("if-none-match"); inm && etag_matches(*inm, etag)) {
        response.status = 304;
        response.body.clear();
    }
    return response;
}

}  // namespace runicorn::http_plugin::api
