#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <runicorn/runicorn.hpp>

namespace runicorn::sdk {

/// Why a record key is refused (SDK.md §1.3: a non-empty UTF-8 string of at most 256 bytes without
/// NUL).
enum class KeyProblem : std::uint8_t { kNone, kEmpty, kTooLong, kNul, kBadUtf8 };

inline constexpr std::size_t kMaxKeyBytes = 256;

/// Checks a record key; kNone when it is valid.
KeyProblem check_key(std::string_view key) noexcept;
/// "empty", "longer than 256 bytes", "contains NUL", "not valid UTF-8".
std::string_view key_problem_text(KeyProblem p) noexcept;

/// True for the data keys that log() never writes as given: global_step, step, time and stage
/// (stage is re-added as the injected key).
bool is_reserved_key(std::string_view key) noexcept;

/// Appends the shortest round-trip form of v (std::to_chars) laid out as Python's repr() does:
/// scientific below 1e-4 and from 1e16 up ("1e-07", "1e+16"), else fixed with at least one
/// fraction digit ("1.0", so it reads back as a float). NaN, +Inf and -Inf become the tokens
/// NaN, Infinity and -Infinity (FORMAT.md G3).
void append_double(std::string& out, double v);
/// The same into `buf` (at least kDoubleChars bytes); returns the length.
inline constexpr std::size_t kDoubleChars = 40;
std::size_t format_double(char* buf, double v) noexcept;
void append_int(std::string& out, std::int64_t v);
/// Appends `s` as a JSON string literal: `"` and `\` escaped, \b \f \n \r \t, other control
/// characters as \u00XX; UTF-8 is kept as is and invalid UTF-8 bytes become U+FFFD.
void append_json_string(std::string& out, std::string_view s);
/// null, a number (as above), true/false or a string literal.
void append_metric_value(std::string& out, const MetricValue& v);

/// The stage of a metrics record: none, an argument (a string) or the value of a "stage" data key
/// (written as given; a null value means none).
struct StageRef {
    const std::string_view* text = nullptr;
    const MetricValue* value = nullptr;
};

/// Picks the stage of a record: the argument if given, else the last valid "stage" key of the
/// data.
StageRef resolve_stage(std::span<const Field> fields, const std::string_view* stage_arg) noexcept;

/// The most bytes write_metrics_line can write for these fields.
std::size_t metrics_line_bound(std::span<const Field> fields, StageRef stage) noexcept;
/// Writes the line of format_metrics_line at `p` (room for metrics_line_bound bytes) and returns
/// its end. The hot path: no allocation unless a key is invalid or a string needs escaping.
char* write_metrics_line(char* p, std::span<const Field> fields, std::int64_t global_step,
                         StageRef stage, double ts, std::vector<std::string>* bad_keys);

/// Formats one events.jsonl metrics line, `\n` included (FORMAT.md §4.4):
///   {"ts":<ts>,"type":"metrics","data":{<user
///   keys>,"global_step":<step>,"time":<ts>[,"stage":..]}}
/// User keys keep their order; invalid and reserved keys are left out. The offending keys are
/// appended to `bad_keys` when it is not null (reserved keys are not offending).
void format_metrics_line(std::string& out, std::span<const Field> fields, std::int64_t global_step,
                         StageRef stage, double ts, std::vector<std::string>* bad_keys);

/// Formats one events.jsonl image line (FORMAT.md §4.4), `\n` included.
struct ImageEvent {
    std::string_view key;
    std::string_view path;  ///< media/<file>
    const std::int64_t* step = nullptr;
    const std::string* caption = nullptr;
    std::int64_t global_step = 0;
    std::string_view format;
    std::uint64_t size_bytes = 0;
    std::int64_t width = -1;  ///< -1: unknown
    std::int64_t height = -1;
};
void format_image_line(std::string& out, const ImageEvent& e, double ts);

/// Formats one logs.txt line "HH:MM:SS | <text>\n" from the local wall-clock time `unix_seconds`.
void format_text_line(std::string& out, std::string_view text, double unix_seconds);

}  // namespace runicorn::sdk
