#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace runicorn::http_plugin::api {

/// Replaces every non-finite double inside `value` (recursively) by null, as COMPAT responses
/// send NaN and ±Inf (API.md §1.1).
void null_non_finite(boost::json::value& value);

/// A number for a COMPAT response: null when absent or non-finite.
boost::json::value compat_number(std::optional<double> number);

/// Reads a JSON file the way readers must (FORMAT.md G1, G3, G6): skips a UTF-8 BOM and reads the
/// bare tokens NaN, Infinity and -Infinity outside strings as null. Returns nullopt when the file
/// is missing, unreadable, empty or not valid JSON. Never throws except std::bad_alloc.
std::optional<boost::json::value> read_json_file(const std::filesystem::path& file);

/// The same parse for text already in memory.
std::optional<boost::json::value> parse_tolerant_json(std::string_view text);

/// Serializes `value` with 2-space indentation and non-ASCII characters unescaped (FORMAT.md G2),
/// followed by a newline.
std::string pretty_json(const boost::json::value& value);

}  // namespace runicorn::http_plugin::api
