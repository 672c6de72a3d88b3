#include "responses.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace runicorn::http_plugin {

plugin::HttpResponse json_response(unsigned status, const boost::json::value& value) {
    plugin::HttpResponse out;
    out.status = status;
    out.content_type = std::string(kJsonType);
    out.body = boost::json::serialize(value);
    return out;
}

plugin::HttpResponse error_response(unsigned status, std::string_view detail) {
    boost::json::object body;
    body["detail"] = detail;
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
    return error_response(http_status_for(status.code()), status.message());
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
