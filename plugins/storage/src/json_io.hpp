#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include <runicorn/result.hpp>

namespace runicorn::storage {

/// The deepest nesting of arrays and objects parse_json() accepts.
inline constexpr int kMaxJsonDepth = 1000;

/// Parses one JSON value as Runicorn v0.6 files need it (FORMAT.md G1–G3, G7), which Boost.JSON
/// alone rejects:
/// - a UTF-8 BOM at the start is skipped;
/// - the bare tokens `NaN`, `Infinity` and `-Infinity` are accepted wherever a number may appear
///   (never inside strings) and become the matching doubles;
/// - a number literal that overflows a double (`1e400`) becomes ±Infinity, one that underflows
///   becomes ±0.0; an integer outside int64 becomes a double;
/// - of duplicate object keys the last value wins, at the position of the first (Python's dict);
/// - bytes that are not valid UTF-8 inside strings are kept as they are; a lone UTF-16 surrogate
///   escape becomes U+FFFD.
/// Control characters inside strings, trailing commas, comments and data after the value are
/// errors. On failure INVALID_ARGUMENT "line L, column C: <reason>" (1-based, counted in bytes
/// from the start of `text`, BOM included).
Result<boost::json::value> parse_json(std::string_view text);

/// Serialises `value` compactly (no spaces), as one events.jsonl record body: raw UTF-8, doubles
/// in the shortest round-trip form (an integral double keeps a ".0"), non-finite doubles as the
/// tokens `NaN`, `Infinity`, `-Infinity` (FORMAT.md G3, §4.4). No trailing newline.
std::string to_compact_json(const boost::json::value& value);

/// Serialises `value` like Python's `json.dumps(value, indent=2, ensure_ascii=False)`
/// (FORMAT.md G2), with numbers written as in to_compact_json(). No trailing newline.
std::string to_pretty_json(const boost::json::value& value);

/// Appends `value` compactly to `out` (see to_compact_json()).
void append_compact_json(std::string& out, const boost::json::value& value);

/// Appends `s` as a quoted JSON string: `"`, `\` and control characters escaped, everything else
/// (non-ASCII UTF-8 included) raw.
void append_json_string(std::string& out, std::string_view s);

/// Appends `d` in the shortest form that reads back as the same double; NaN and ±Infinity as
/// the G3 tokens.
void append_json_double(std::string& out, double d);

}  // namespace runicorn::storage
