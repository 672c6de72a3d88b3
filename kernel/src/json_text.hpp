#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include <runicorn/result.hpp>

namespace runicorn::kernel {

/// Parses JSON text (comments and trailing commas are not allowed). On failure the INVALID_ARGUMENT
/// message is "<what>: line L, column C: <reason>", with 1-based line and column counted in bytes.
/// A UTF-8 BOM at the start is skipped (FORMAT.md G1).
Result<boost::json::value> parse_json_text(std::string_view text, std::string_view what);

/// Reads and parses a JSON file. NOT_FOUND when it does not exist, PERMISSION_DENIED/INTERNAL when
/// it cannot be read, INVALID_ARGUMENT (naming the file, line and column) when it is not JSON.
Result<boost::json::value> read_json_file(const std::filesystem::path& path);

/// Serialises `value` with 2-space indentation and non-ASCII characters unescaped (FORMAT.md G2),
/// followed by a newline.
std::string pretty_json(const boost::json::value& value);

}  // namespace runicorn::kernel
