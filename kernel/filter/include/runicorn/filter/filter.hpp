#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

/// The run filter expression language of API.md §4.2 (`q` on /api/runs, `runicorn ls --filter`):
/// a recursive-descent parser that turns the text into a typed AST, checking every field and
/// literal on the way. It knows nothing of SQL: the run catalog compiles the AST (bound
/// parameters only).
namespace runicorn::filter {

/// Limits of one expression (API.md §4.2); going over one is a FILTER_SYNTAX error.
inline constexpr std::size_t kMaxLength = 2048;    ///< Bytes of expression text.
inline constexpr std::size_t kMaxPredicates = 64;  ///< Predicates plus text terms.
inline constexpr std::size_t kMaxDepth = 16;       ///< Nesting of parentheses.

enum class ErrorCode {
    kSyntax,  ///< FILTER_SYNTAX: the text does not follow the grammar or a limit is exceeded.
    kField,   ///< FILTER_FIELD: an unknown field, or an operator the field cannot take.
};

/// "FILTER_SYNTAX" or "FILTER_FIELD" (the API's stable `code`).
std::string_view error_code_name(ErrorCode code) noexcept;

/// Why an expression was refused, and where: `position` is the byte offset in the expression of
/// the token at fault (the end of the text for an unexpected end).
struct Error {
    ErrorCode code = ErrorCode::kSyntax;
    std::string message;
    std::size_t position = 0;

    /// INVALID_ARGUMENT "invalid filter (<CODE> at position <N>): <message>", the form in which
    /// a filter error crosses RunStore::list_runs; error_from_status() reads it back.
    Status to_status() const;
};

/// The Error inside a Status made by Error::to_status(); nullopt for any other Status.
std::optional<Error> error_from_status(const Status& status);

/// Found by argument-dependent lookup from ParseResult::value() on an error.
[[noreturn]] void throw_exception_from_error(const Error& error, const boost::source_location&);

/// The fields of API.md §4.2.
enum class FieldKind {
    kId,
    kPath,
    kAlias,
    kStatus,
    kExitReason,
    kHostname,
    kLiveness,
    kTags,
    kCreated,
    kStarted,
    kEnded,
    kDuration,
    kLastStep,
    kSummary,      ///< summary.<key>...
    kConfig,       ///< config.<key>...: config.args.<key>, else config.extra.<key>
    kConfigArgs,   ///< config.args[.<key>...]
    kConfigExtra,  ///< config.extra[.<key>...]
    kMeta,         ///< meta.<key>...
    kMetric,       ///< metric.<key>.last|min|max|count
};

/// How a field's values compare.
enum class FieldType {
    kString,      ///< id, path, alias, status, exit_reason, hostname, liveness (some nullable)
    kStringList,  ///< tags
    kTime,        ///< created, started, ended: seconds; strings are read as ISO 8601
    kNumber,      ///< duration, last_step, metric.*
    kJson,        ///< summary.*, config.*, meta.*: any JSON value
};

FieldType field_type(FieldKind kind) noexcept;

/// A field reference. For the JSON kinds `keys` is the key path below the root object (each dot
/// descends into an object); for kMetric it is {metric key, statistic}; empty otherwise.
struct Field {
    FieldKind kind = FieldKind::kId;
    std::vector<std::string> keys;
    std::size_t position = 0;
    std::string text;  ///< As written, for messages.
};

enum class LiteralKind {
    kNumber,  ///< `number`; also a time field's ISO 8601 string, converted to epoch seconds.
    kString,
    kBool,
    kNull,
    kNow,  ///< NOW ± duration: `number` holds the offset in seconds, added when compiled.
};

struct Literal {
    LiteralKind kind = LiteralKind::kNull;
    double number = 0;
    std::string text;
    bool boolean = false;
    std::size_t position = 0;
};

enum class Op {
    kEq,       ///< = or ==
    kNe,       ///< !=
    kLt,       ///< <
    kLe,       ///< <=
    kGt,       ///< >
    kGe,       ///< >=
    kGlob,     ///< ~  (case-insensitive glob, `*` and `?`)
    kNotGlob,  ///< !~
    kIn,       ///< IN (...)
    kNotIn,    ///< NOT IN (...)
    kHas,      ///< HAS: list membership
    kUnder,    ///< UNDER: the path prefix rule
    kExists,   ///< EXISTS: the key is present, even if null
};

/// One node of the AST. AND and OR are n-ary; a run of NOTs is folded (an even number cancels).
struct Node {
    enum class Kind { kAnd, kOr, kNot, kPredicate, kText };

    Kind kind = Kind::kPredicate;
    std::vector<Node> children;     ///< kAnd, kOr: two or more; kNot: one.
    Field field;                    ///< kPredicate.
    Op op = Op::kEq;                ///< kPredicate.
    std::vector<Literal> literals;  ///< kPredicate: one; IN / NOT IN: one or more; EXISTS: none.
    std::string text;               ///< kText: the search word or string.
    std::size_t position = 0;
};

/// A parsed expression; an empty (or all-blank) text has no root and matches every run.
struct Expression {
    std::optional<Node> root;
};

struct ParseOptions {
    /// Whether metric.<key>.* fields may be used: only where per-key metric summaries are
    /// indexed (FORMAT.md §7.5). When false they are FILTER_FIELD "metric summaries are not
    /// indexed yet".
    bool metric_summaries = false;
};

using ParseResult = boost::system::result<Expression, Error>;

/// Parses and checks `text`. Keywords are case-insensitive; field names are not. On success the
/// AST owns copies of every name and literal; on failure the first error found is returned.
/// Time-field comparisons with a string are converted here (ISO 8601, local time unless the text
/// ends in `Z` or an offset), so a bad date is reported with its position.
ParseResult parse(std::string_view text, const ParseOptions& options = {});

/// Parses an ISO 8601 date or date-time: "2026-01-14" (local midnight), "2026-01-14T09:30",
/// "2026-01-14 09:30:15.25", each optionally ending in "Z" or an offset "+02:00" / "-0530";
/// without one the time is local. Returns epoch seconds, or INVALID_ARGUMENT.
Result<double> parse_iso8601(std::string_view text);

/// Translates a `~` pattern (`*`, `?`, everything else literal) to an SQLite GLOB pattern over
/// ASCII-lower-cased text: the pattern is lower-cased and `[` is escaped.
std::string glob_to_sqlite(std::string_view pattern);

}  // namespace runicorn::filter
