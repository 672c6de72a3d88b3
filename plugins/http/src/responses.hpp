#pragma once

#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

namespace runicorn::http_plugin {

inline constexpr std::string_view kJsonType = "application/json";
inline constexpr std::string_view kHtmlType = "text/html; charset=utf-8";

/// A response whose body is `value` serialized compactly, as application/json.
plugin::HttpResponse json_response(unsigned status, const boost::json::value& value);

/// An error response: `status` with the body {"detail": "<detail>"}.
plugin::HttpResponse error_response(unsigned status, std::string_view detail);

/// The HTTP status for a Status code (STYLE.md rule 11): INVALID_ARGUMENT 400, PERMISSION_DENIED
/// 403, NOT_FOUND 404, ALREADY_EXISTS 409, UNAVAILABLE 503, anything else 500.
unsigned http_status_for(StatusCode code) noexcept;

/// error_response(http_status_for(status.code()), status.message()).
plugin::HttpResponse error_response(const Status& status);

/// Escapes text for HTML element content and attribute values.
std::string html_escape(std::string_view text);

}  // namespace runicorn::http_plugin
