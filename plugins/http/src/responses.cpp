#include "responses.hpp"

#include <cctype>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/error.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>

namespace runicorn::http_plugin {
namespace {

/// True when `content_type` is application/json, optionally followed by parameters.
bool is_json_content_type(std::string_view content_type) {
    const std::size_t semi = content_type.find(';');
    std::string_view media = content_type.substr(0, semi);
    while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) {
        media.remove_suffix(1);
    }
    while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) {
        media.remove_prefix(1);
    }
    constexpr std::string_view kWanted = "application/json";
    if (media.size() != kWanted.size()) {
        return false;
    }
    for (std::size_t i = 0; i < media.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(media[i])) != kWanted[i]) {
            return false;
        }
    }
    return true;
}

/// The first violation of the key-count or string-length limits in `v`, or "".
std::string check_json_limits(const boost::json::value& v) {
    // Iterative, so a value at the depth limit cannot exhaust the stack here either.
    std::vector<const boost::json::value*> stack{&v};
    while (!stack.empty()) {
        const boost::json::value* cur = stack.back();
        stack.pop_back();
        if (const auto* obj = cur->if_object()) {
            if (obj->size() > kMaxJsonKeys) {
                return "JSON object has more than " + std::to_string(kMaxJsonKeys) + " keys";
            }
            for (const auto& kv : *obj) {
                if (kv.key().size() > kMaxJsonString) {
                    return "JSON string longer than 1 MiB";
                }
                stack.push_back(&kv.value());
            }
        } else if (const auto* arr = cur->if_array()) {
            for (const auto& item : *arr) {
                stack.push_back(&item);
            }
        } else if (const auto* str = cur->if_string()) {
            if (str->size() > kMaxJsonString) {
                return "JSON string longer than 1 MiB";
            }
        }
    }
    return "";
}

}  // namespace

plugin::HttpResponse json_response(unsigned status, const boost::json::value& value) {
    plugin::HttpResponse out;
    out.status = status;
    out.content_type = std::string(kJsonType);
    out.body = boost::json::serialize(value);
    return out;
}

std::string default_error_code(unsigned status) {
    switch (status) {
        case 400:
            return "BAD_REQUEST";
        case 401:
            return "UNAUTHORIZED";
        case 403:
            return "FORBIDDEN";
        case 404:
            return "NOT_FOUND";
        case 405:
            return "METHOD_NOT_ALLOWED";
        case 408:
            return "REQUEST_TIMEOUT";
        case 409:
            return "CONFLICT";
        case 413:
            return "PAYLOAD_TOO_LARGE";
        case 414:
            return "URI_TOO_LONG";
        case 415:
            return "UNSUPPORTED_MEDIA_TYPE";
        case 416:
            return "RANGE_NOT_SATISFIABLE";
        case 422:
            return "VALIDATION_ERROR";
        case 429:
            return "RATE_LIMITED";
        case 431:
            return "HEADERS_TOO_LARGE";
        case 500:
            return "INTERNAL";
        case 503:
            return "UNAVAILABLE";
        case 507:
            return "INSUFFICIENT_STORAGE";
        default:
            return "HTTP_" + std::to_string(status);
    }
}

plugin::HttpResponse error_response(unsigned status, std::string_view code,
                                    std::string_view detail) {
    boost::json::object body;
    body["detail"] = detail;
    body["code"] = code;
    return json_response(status, body);
}

plugin::HttpResponse error_response(unsigned status, std::string_view detail) {
    return error_response(status, default_error_code(status), detail);
}

plugin::HttpResponse structured_error_response(unsigned status, std::string_view code,
                                               const boost::json::value& detail) {
    boost::json::object body;
    body["detail"] = detail;
    const boost::json::value* inner = nullptr;
    if (const auto* obj = detail.if_object()) {
        inner = obj->if_contains("code");
    }
    if (inner != nullptr && inner->is_string()) {
        body["code"] = inner->as_string();
    } else {
        body["code"] = code;
    }
    return json_response(status, body);
}

unsigned http_status_for(StatusCode code) noexcept {
    switch (code) {
        case StatusCode::kInvalidArgument:
            return 400;
        case StatusCode::kPermissionDenied:
            return 403;
        case StatusCode::kNotFound:
            return 404;
        case StatusCode::kAlreadyExists:
            return 409;
        case StatusCode::kUnavailable:
            return 503;
        default:
            return 500;
    }
}

plugin::HttpResponse error_response(const Status& status) {
    const unsigned http_status = http_status_for(status.code());
    return error_response(
        http_status,
        http_status == 500 ? std::string("INTERNAL") : std::string(status_code_name(status.code())),
        status.message());
}

plugin::HttpResponse validation_error(const std::vector<ValidationIssue>& issues) {
    boost::json::array detail;
    for (const ValidationIssue& issue : issues) {
        boost::json::array loc;
        for (const std::string& part : issue.loc) {
            loc.emplace_back(part);
        }
        boost::json::object entry;
        entry["loc"] = std::move(loc);
        entry["msg"] = issue.msg;
        entry["type"] = issue.type;
        detail.emplace_back(std::move(entry));
    }
    boost::json::object body;
    body["detail"] = std::move(detail);
    body["code"] = "VALIDATION_ERROR";
    return json_response(422, body);
}

plugin::HttpResponse validation_error(std::vector<std::string> loc, std::string msg,
                                      std::string type) {
    return validation_error({ValidationIssue{std::move(loc), std::move(msg), std::move(type)}});
}

std::optional<plugin::HttpResponse> parse_json_body(const plugin::HttpRequest& request,
                                                    boost::json::value& out) {
    const std::optional<std::string> content_type = request.header("content-type");
    if (!content_type || !is_json_content_type(*content_type)) {
        return error_response(415, "Content-Type must be application/json");
    }
    if (request.body.size() > kMaxJsonBody) {
        return error_response(413, "Request body too large");
    }
    boost::json::parse_options options;
    options.max_depth = kMaxJsonDepth;
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(request.body, ec, {}, options);
    if (ec == boost::json::error::too_deep) {
        return error_response(400, "JSON nested deeper than " + std::to_string(kMaxJsonDepth));
    }
    if (ec) {
        return error_response(400, "Malformed JSON body");
    }
    if (std::string why = check_json_limits(parsed); !why.empty()) {
        return error_response(413, why);
    }
    out = std::move(parsed);
    return std::nullopt;
}

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

}  // namespace runicorn::http_plugin
