#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "record.hpp"

namespace runicorn::storage::series {

/// Parses a double literal as Python does: ±overflow → ±Infinity, underflow → ±0 (FORMAT.md G3).
/// Returns false when `text` is not a JSON number.
bool parse_json_double(std::string_view text, double& out);

/// The slow, tolerant line parser (FORMAT.md G3): strict RFC 8259 JSON plus the bare tokens NaN,
/// Infinity and -Infinity wherever a number may appear, literals that overflow a double read as
/// ±Infinity, integers outside int64 read as doubles. Used only for lines simdjson refuses.
///
/// Thread safety: externally synchronized. Strings in the Record point into this object and stay
/// valid until the next parse().
class TolerantLineParser {
public:
    /// Parses `line` (no trailing newline) into `rec`. Returns false, with `rec` unspecified, when
    /// the line is not exactly one JSON object (leading/trailing JSON whitespace allowed).
    bool parse(std::string_view line, Record& rec);

private:
    bool parse_envelope(Record& rec);
    bool parse_data_object(Record& rec);
    bool parse_value(FieldValue& out, int depth);
    bool skip_value(int depth);
    bool parse_string(std::string_view& out);
    bool parse_number(FieldValue& out);
    void skip_ws();
    bool consume(char c);
    bool consume_word(std::string_view w);

    std::string_view in_;
    std::size_t pos_ = 0;
    std::string arena_;
};

}  // namespace runicorn::storage::series
