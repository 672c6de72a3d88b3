#pragma once

#include <filesystem>
#include <string_view>

#include <boost/json/value.hpp>

#include <runicorn/result.hpp>

namespace runicorn::dedup {

/// Parses JSON text the way FORMAT.md G1/G3 asks: a leading UTF-8 BOM is skipped and the bare
/// tokens NaN, Infinity and -Infinity outside strings read as null (the blob code never needs
/// their values). INVALID_ARGUMENT with the parser's reason when the text is not JSON.
Result<boost::json::value> parse_tolerant_json(std::string_view text);

/// Reads and parses a whole file with parse_tolerant_json(); errors name the file. NOT_FOUND
/// when it does not exist.
Result<boost::json::value> read_json_file(const std::filesystem::path& path);

/// Reads a whole file into a string; errors name the file.
Result<std::string> read_file(const std::filesystem::path& path);

}  // namespace runicorn::dedup
