#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

namespace runicorn::http_plugin {

inline constexpr std::string_view kJsonType = "application/json";
inline constexpr std::string_view kHtmlType = "text/html; charset=utf-8";

/// Largest JSON request body (API.md §1.3); a larger one is refused with 413.
inline constexpr std::size_t kMaxJsonBody = std::size_t{1024} * 1024;
/// Deepest nesting of a JSON request body (API.md §1.3); deeper gives 400.
inline constexpr std::size_t kMaxJsonDepth = 32;
/// Most keys in one object of a JSON request body (API.md §1.3); more gives 413.
inline constexpr std::size_t kMaxJsonKeys = 10'000;
/// Longest string (or key) in a JSON request body, in bytes (API.md §1.3); longer gives 413.
inline constexpr std::size_t kMaxJsonString = std::size_t{1024} * 1024;

/// A response whose body is `value` serialized compactly, as application/json.
plugin::HttpResponse json_response(unsigned status, const boost::json::value& value);

/// The stable machine code API.md §1.2 gives an error status when the route names none:
/// 400 BAD_REQUEST, 401 UNAUTHORIZED, 403 FORBIDDEN, 404 NOT_FOUND, 405 METHOD_NOT_ALLOWED,
/// 408 REQUEST_TIMEOUT, 409 CONFLICT, 413 PAYLOAD_TOO_LARGE, 414 URI_TOO_LONG,
/// 415 UNSUPPORTED_MEDIA_TYPE, 416 RANGE_NOT_SATISFIABLE, 422 VALIDATION_ERROR, 429 RATE_LIMITED,
/// 431 HEADERS_TOO_LARGE, 500 INTERNAL, 503 UNAVAILABLE, 507 INSUFFICIENT_STORAGE; any other
/// status gives "HTTP_<status>".
std::string default_error_code(unsigned status);

/// An error response: `status` with the body {"detail": "<detail>", "code": "<code>"}
/// (API.md §1.2). `code` never depends on the locale.
plugin::HttpResponse error_response(unsigned status, std::string_view code,
                                    std::string_view detail);

/// error_response(status, default_error_code(status), detail).
plugin::HttpResponse error_response(unsigned status, std::string_view detail);

/// An error whose detail is an object (COMPAT host-key 409, filter errors): the body is
/// {"detail": <detail>, "code": <code>}. When `detail` is an object with a string "code", that
/// code is used at top level (the two are equal, API.md §1.2) and `code` is ignored.
plugin::HttpResponse structured_error_response(unsigned status, std::string_view code,
                                               const boost::json::value& detail);

/// The HTTP status for a Status code (STYLE.md rule 11): INVALID_ARGUMENT 400, PERMISSION_DENIED
/// 403, NOT_FOUND 404, ALREADY_EXISTS 409, UNAVAILABLE 503, anything else 500.
unsigned http_status_for(StatusCode code) noexcept;

/// error_response(http_status_for(status.code()), <canonical code name>, status.message()),
/// e.g. {"detail": "...", "code": "INVALID_ARGUMENT"}.
plugin::HttpResponse error_response(const Status& status);

/// One entry of a FastAPI-style validation failure (API.md §1.2).
struct ValidationIssue {
    std::vector<std::string> loc;  ///< E.g. {"query", "limit"} or {"body", "run_ids"}.
    std::string msg;               ///< Human-readable, e.g. "ensure this value is at least 1".
    std::string type;              ///< E.g. "value_error.number.not_ge", "type_error.integer".
};

/// 422 {"detail": [{"loc": [...], "msg", "type"}, ...], "code": "VALIDATION_ERROR"} (the COMPAT
/// list form for parameter type, range and required-field failures).
plugin::HttpResponse validation_error(const std::vector<ValidationIssue>& issues);

/// Shorthand for one issue.
plugin::HttpResponse validation_error(std::vector<std::string> loc, std::string msg,
                                      std::string type);

/// Reads the request body as JSON under the rules of API.md §1.1/§1.3: Content-Type must be
/// application/json (parameters such as charset allowed, case-insensitive), else 415; a body over
/// kMaxJsonBody gives 413; malformed JSON (invalid UTF-8, NaN tokens, trailing data, an empty
/// body) or nesting deeper than kMaxJsonDepth gives 400; an object with more than kMaxJsonKeys
/// keys or a string longer than kMaxJsonString gives 413. On success stores the value in `out`
/// and returns nullopt; otherwise returns the error response to send.
std::optional<plugin::HttpResponse> parse_json_body(const plugin::HttpRequest& request,
                                                    boost::json::value& out);

/// Escapes text for HTML element content and attribute values.
std::string html_escape(std::string_view text);

}  // namespace runicorn::http_plugin
