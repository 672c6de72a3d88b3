#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <ctime>
#include <utility>

#include <runicorn/filter/filter.hpp>

namespace runicorn::filter {
namespace {

constexpr std::array<std::string_view, 11> kKeywords = {
    "AND", "OR", "NOT", "IN", "HAS", "UNDER", "EXISTS", "TRUE", "FALSE", "NULL", "NOW"};

constexpr std::string_view kStatusPrefix = "invalid filter (";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ident_start(char c) { return is_alpha(c) || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }

char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_upper(a[i]) != ascii_upper(b[i])) {
            return false;
        }
    }
    return true;
}

bool is_keyword(std::string_view word) {
    for (const auto k : kKeywords) {
        if (iequals(word, k)) {
            return true;
        }
    }
    return false;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

/// Thrown by the parser at the first error and caught in parse(): it unwinds the recursion in
/// one step and never leaves this file.
struct ParseFailure {
    Error error;
};

[[noreturn]] void fail(ErrorCode code, std::size_t position, std::string message) {
    throw ParseFailure{Error{code, std::move(message), position}};
}
[[noreturn]] void fail_syntax(std::size_t position, std::string message) {
    fail(ErrorCode::kSyntax, position, std::move(message));
}
[[noreturn]] void fail_field(std::size_t position, std::string message) {
    fail(ErrorCode::kField, position, std::move(message));
}

struct Name {
    std::string text;
    std::size_t position = 0;
    bool quoted = false;
};

/// Recursive descent over the characters (no separate lexer: `7d` after NOW and `1e3` elsewhere
/// need the context). Thread safety: externally synchronized (one parse per object).
class Parser {
public:
    Parser(std::string_view text, const ParseOptions& options) : text_(text), options_(options) {}

    Expression run() {
        Expression e;
        skip_ws();
        if (at_end()) {
            return e;
        }
        e.root = parse_or(0);
        skip_ws();
        if (!at_end()) {
            if (peek() == ')') {
                fail_syntax(pos_, "unbalanced ')'");
            }
            fail_syntax(pos_, "unexpected '" + std::string(1, peek()) + "'");
        }
        return e;
    }

private:
    bool at_end() const { return pos_ >= text_.size(); }
    char peek(std::size_t ahead = 0) const {
        return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
    }
    void skip_ws() {
        while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
            ++pos_;
        }
    }
    bool consume(std::string_view symbol) {
        if (text_.substr(pos_).starts_with(symbol)) {
            pos_ += symbol.size();
            return true;
        }
        return false;
    }
    /// The identifier at pos_ (empty when none), without consuming it.
    std::string_view ident_ahead() const {
        if (at_end() || !is_ident_start(peek())) {
            return {};
        }
        std::size_t end = pos_;
        while (end < text_.size() && is_ident_char(text_[end])) {
            ++end;
        }
        return text_.substr(pos_, end - pos_);
    }
    bool keyword_ahead(std::string_view keyword) const { return iequals(ident_ahead(), keyword); }
    bool consume_keyword(std::string_view keyword) {
        if (keyword_ahead(keyword)) {
            pos_ += keyword.size();
            return true;
        }
        return false;
    }

    static Node combine(Node::Kind kind, std::vector<Node> parts) {
        if (parts.size() == 1) {
            return std::move(parts.front());
        }
        Node n;
        n.kind = kind;
        n.position = parts.front().position;
        for (auto& p : parts) {
            // (a AND b) AND c is a AND b AND c: keep the tree flat.
            if (p.kind == kind) {
                for (auto& c : p.children) {
                    n.children.push_back(std::move(c));
                }
            } else {
                n.children.push_back(std::move(p));
            }
        }
        return n;
    }

    Node parse_or(std::size_t depth) {
        std::vector<Node> parts;
        parts.push_back(parse_and(depth));
        for (;;) {
            skip_ws();
            if (consume("||") || consume_keyword("OR")) {
                parts.push_back(parse_and(depth));
            } else {
                return combine(Node::Kind::kOr, std::move(parts));
            }
        }
    }

    Node parse_and(std::size_t depth) {
        std::vector<Node> parts;
        parts.push_back(parse_unary(depth));
        for (;;) {
            skip_ws();
            if (at_end() || peek() == ')' || text_.substr(pos_).starts_with("||") ||
                keyword_ahead("OR")) {
                return combine(Node::Kind::kAnd, std::move(parts));
            }
            // An explicit AND, or juxtaposition.
            if (!consume("&&")) {
                consume_keyword("AND");
            }
            parts.push_back(parse_unary(depth));
        }
    }

    Node parse_unary(std::size_t depth) {
        std::size_t nots = 0;
        std::size_t first = 0;
        for (;;) {
            skip_ws();
            const std::size_t at = pos_;
            if (peek() == '!' && peek(1) != '=' && peek(1) != '~') {
                ++pos_;
            } else if (!consume_keyword("NOT")) {
                break;
            }
            first = nots == 0 ? at : first;
            ++nots;
        }
        Node inner = parse_primary(depth);
        if (nots % 2 == 0) {
            return inner;
        }
        Node n;
        n.kind = Node::Kind::kNot;
        n.position = first;
        n.children.push_back(std::move(inner));
        return n;
    }

    void count_predicate(std::size_t position) {
        if (++predicates_ > kMaxPredicates) {
            fail_syntax(position,
                        "too many predicates (at most " + std::to_string(kMaxPredicates) + ")");
        }
    }

    Node text_term(std::string text, std::size_t position) {
        count_predicate(position);
        Node n;
        n.kind = Node::Kind::kText;
        n.text = std::move(text);
        n.position = position;
        return n;
    }

    Node parse_primary(std::size_t depth) {
        skip_ws();
        if (at_end()) {
            fail_syntax(pos_,
                        "unexpected end of the filter: expected a field, a search word or '('");
        }
        const std::size_t start = pos_;
        const char c = peek();
        if (c == '(') {
            if (depth + 1 > kMaxDepth) {
                fail_syntax(pos_, "parentheses nested too deeply (at most " +
                                      std::to_string(kMaxDepth) + " levels)");
            }
            ++pos_;
            skip_ws();
            if (peek() == ')') {
                fail_syntax(pos_, "empty parentheses");
            }
            Node inner = parse_or(depth + 1);
            skip_ws();
            if (at_end()) {
                fail_syntax(pos_, "missing ')' for the '(' at position " + std::to_string(start));
            }
            if (peek() != ')') {
                fail_syntax(pos_, "expected ')'");
            }
            ++pos_;
            return inner;
        }
        if (c == '"' || c == '\'') {
            std::string s = parse_string();
            skip_ws();
            const std::size_t op_at = pos_;
            if (try_operator()) {
                fail_syntax(op_at,
                            "a quoted string cannot be a field: quote field names with "
                            "backquotes, e.g. summary.`val/acc`");
            }
            return text_term(std::move(s), start);
        }
        if (c == '`' || is_ident_start(c)) {
            return parse_field_primary();
        }
        if (c == ')') {
            fail_syntax(pos_, "unexpected ')': expected a field, a search word or '('");
        }
        fail_syntax(pos_, "unexpected '" + std::string(1, c) +
                              "': quote search words that hold other characters, e.g. "
                              "\"yolo-v5\"");
    }

    Name parse_name() {
        Name n;
        n.position = pos_;
        if (peek() == '`') {
            n.quoted = true;
            ++pos_;
            for (;;) {
                if (at_end()) {
                    fail_syntax(n.position, "unterminated backquoted name");
                }
                const char ch = text_[pos_++];
                if (ch == '`') {
                    if (peek() == '`') {
                        n.text.push_back('`');
                        ++pos_;
                        continue;
                    }
                    return n;
                }
                n.text.push_back(ch);
            }
        }
        if (!is_ident_start(peek())) {
            fail_syntax(pos_, "expected a name after '.'");
        }
        const auto id = ident_ahead();
        n.text = std::string(id);
        pos_ += id.size();
        return n;
    }

    Node parse_field_primary() {
        const std::size_t start = pos_;
        std::vector<Name> names;
        names.push_back(parse_name());
        while (peek() == '.') {
            ++pos_;
            names.push_back(parse_name());
        }
        const bool simple_word = names.size() == 1 && !names.front().quoted;
        if (simple_word && is_keyword(names.front().text)) {
            fail_syntax(start, "'" + names.front().text +
                                   "' is a keyword here: quote it to search for it, e.g. \"" +
                                   names.front().text + "\"");
        }
        const std::string written(text_.substr(start, pos_ - start));
        skip_ws();
        const std::size_t op_at = pos_;
        const auto op = try_operator();
        if (!op) {
            if (simple_word) {
                return text_term(names.front().text, start);
            }
            if (at_end()) {
                fail_syntax(pos_, "expected an operator after '" + written + "'");
            }
            fail_syntax(op_at, "expected an operator after '" + written + "'");
        }
        count_predicate(start);
        Node n;
        n.kind = Node::Kind::kPredicate;
        n.position = start;
        n.op = *op;
        n.field = resolve_field(names, start, written);
        parse_operands(n);
        check_predicate(n);
        return n;
    }

    /// Consumes a comparison operator or an operator keyword at pos_.
    std::optional<Op> try_operator() {
        static constexpr std::array<std::pair<std::string_view, Op>, 9> kSymbols = {{
            {"==", Op::kEq},
            {"!=", Op::kNe},
            {"!~", Op::kNotGlob},
            {"<=", Op::kLe},
            {">=", Op::kGe},
            {"=", Op::kEq},
            {"<", Op::kLt},
            {">", Op::kGt},
            {"~", Op::kGlob},
        }};
        for (const auto& [symbol, op] : kSymbols) {
            if (consume(symbol)) {
                return op;
            }
        }
        if (consume_keyword("IN")) {
            return Op::kIn;
        }
        if (consume_keyword("HAS")) {
            return Op::kHas;
        }
        if (consume_keyword("UNDER")) {
            return Op::kUnder;
        }
        if (consume_keyword("EXISTS")) {
            return Op::kExists;
        }
        if (keyword_ahead("NOT")) {
            const std::size_t save = pos_;
            pos_ += 3;
            skip_ws();
            if (consume_keyword("IN")) {
                return Op::kNotIn;
            }
            pos_ = save;
        }
        return std::nullopt;
    }

    Field resolve_field(const std::vector<Name>& names, std::size_t start,
                        const std::string& written) {
        struct Simple {
            std::string_view name;
            FieldKind kind;
        };
        static constexpr std::array<Simple, 13> kSimple = {{
            {"id", FieldKind::kId},
            {"path", FieldKind::kPath},
            {"alias", FieldKind::kAlias},
            {"status", FieldKind::kStatus},
            {"exit_reason", FieldKind::kExitReason},
            {"hostname", FieldKind::kHostname},
            {"liveness", FieldKind::kLiveness},
            {"tags", FieldKind::kTags},
            {"created", FieldKind::kCreated},
            {"started", FieldKind::kStarted},
            {"ended", FieldKind::kEnded},
            {"duration", FieldKind::kDuration},
            {"last_step", FieldKind::kLastStep},
        }};
        Field f;
        f.position = start;
        f.text = written;
        const std::string& root = names.front().text;
        for (const auto& s : kSimple) {
            if (root == s.name) {
                if (names.size() > 1) {
                    fail_field(names[1].position, "'" + root + "' has no sub-fields");
                }
                if (s.kind == FieldKind::kLastStep && !options_.metric_summaries) {
                    fail_field(start, "last_step is not indexed yet");
                }
                f.kind = s.kind;
                return f;
            }
        }
        std::size_t first_key = 1;
        if (root == "summary") {
            f.kind = FieldKind::kSummary;
        } else if (root == "meta") {
            f.kind = FieldKind::kMeta;
        } else if (root == "config") {
            f.kind = FieldKind::kConfig;
            if (names.size() > 1 && (names[1].text == "args" || names[1].text == "extra")) {
                f.kind = names[1].text == "args" ? FieldKind::kConfigArgs : FieldKind::kConfigExtra;
                first_key = 2;
            }
        } else if (root == "metric") {
            static constexpr std::array<std::string_view, 4> kStats = {"last", "min", "max",
                                                                       "count"};
            if (names.size() != 3 ||
                std::find(kStats.begin(), kStats.end(), names[2].text) == kStats.end()) {
                fail_field(start, "expected metric.<key>.last, .min, .max or .count, not '" +
                                      written + "'");
            }
            if (!options_.metric_summaries) {
                fail_field(start, "metric summaries are not indexed yet");
            }
            f.kind = FieldKind::kMetric;
            f.keys = {names[1].text, names[2].text};
            return f;
        } else {
            std::string message = "unknown field '" + written + "'";
            if (names.size() == 1) {
                message += " (did you mean summary." + written + "?)";
            }
            message +=
                "; fields: id, path, alias, status, exit_reason, hostname, liveness, tags, "
                "created, started, ended, duration, last_step, summary.<key>, config.<key>, "
                "meta.<key>, metric.<key>.last|min|max|count";
            fail_field(start, message);
        }
        if (names.size() <= first_key && f.kind != FieldKind::kConfigArgs &&
            f.kind != FieldKind::kConfigExtra) {
            fail_field(start, "'" + root + "' needs a key, e.g. " + root + ".acc");
        }
        for (std::size_t i = first_key; i < names.size(); ++i) {
            // SQLite's JSON paths quote a key in double quotes with no escape for one inside.
            if (names[i].text.find('"') != std::string::npos) {
                fail_field(names[i].position, "a key holding '\"' cannot be queried");
            }
            f.keys.push_back(names[i].text);
        }
        return f;
    }

    void parse_operands(Node& n) {
        switch (n.op) {
            case Op::kExists:
                return;
            case Op::kIn:
            case Op::kNotIn: {
                skip_ws();
                if (peek() != '(') {
                    fail_syntax(pos_, std::string(n.op == Op::kIn ? "IN" : "NOT IN") +
                                          " needs a list in parentheses, e.g. (\"a\", \"b\")");
                }
                ++pos_;
                for (;;) {
                    n.literals.push_back(parse_literal());
                    skip_ws();
                    if (consume(",")) {
                        continue;
                    }
                    if (at_end()) {
                        fail_syntax(pos_, "missing ')' after the IN list");
                    }
                    if (!consume(")")) {
                        fail_syntax(pos_, "expected ',' or ')' in the IN list");
                    }
                    return;
                }
            }
            default:
                n.literals.push_back(parse_literal());
                return;
        }
    }

    Literal parse_literal() {
        skip_ws();
        Literal lit;
        lit.position = pos_;
        if (at_end()) {
            fail_syntax(pos_, "unexpected end of the filter: expected a value");
        }
        const char c = peek();
        if (c == '"' || c == '\'') {
            lit.kind = LiteralKind::kString;
            lit.text = parse_string();
            return lit;
        }
        if (is_digit(c) || (c == '-' && is_digit(peek(1)))) {
            lit.kind = LiteralKind::kNumber;
            lit.number = parse_number();
            return lit;
        }
        const auto word = ident_ahead();
        if (iequals(word, "TRUE") || iequals(word, "FALSE")) {
            pos_ += word.size();
            lit.kind = LiteralKind::kBool;
            lit.boolean = iequals(word, "TRUE");
            return lit;
        }
        if (iequals(word, "NULL")) {
            pos_ += word.size();
            lit.kind = LiteralKind::kNull;
            return lit;
        }
        if (iequals(word, "NOW")) {
            pos_ += word.size();
            lit.kind = LiteralKind::kNow;
            const std::size_t save = pos_;
            skip_ws();
            if (peek() == '+' || peek() == '-') {
                const double sign = peek() == '-' ? -1.0 : 1.0;
                ++pos_;
                skip_ws();
                lit.number = sign * parse_duration();
            } else {
                pos_ = save;
            }
            return lit;
        }
        if (!word.empty()) {
            fail_syntax(pos_, "expected a value, not '" + std::string(word) +
                                  "': quote strings, e.g. \"" + std::string(word) + "\"");
        }
        fail_syntax(pos_, "expected a value (a number, a string, TRUE, FALSE, NULL or NOW)");
    }

    double parse_duration() {
        const std::size_t start = pos_;
        std::uint64_t n = 0;
        while (is_digit(peek())) {
            if (pos_ - start >= 12) {
                fail_syntax(start, "duration too long");
            }
            n = n * 10 + static_cast<std::uint64_t>(peek() - '0');
            ++pos_;
        }
        if (pos_ == start) {
            fail_syntax(pos_, "expected a duration after NOW, e.g. NOW - 7d");
        }
        double unit = 0;
        switch (ascii_lower(peek())) {
            case 's':
                unit = 1;
                break;
            case 'm':
                unit = 60;
                break;
            case 'h':
                unit = 3600;
                break;
            case 'd':
                unit = 86400;
                break;
            case 'w':
                unit = 604800;
                break;
            default:
                fail_syntax(pos_, "a duration needs a unit: s, m, h, d or w (e.g. 7d)");
        }
        ++pos_;
        if (is_ident_char(peek())) {
            fail_syntax(start, "a duration needs a unit: s, m, h, d or w (e.g. 7d)");
        }
        return static_cast<double>(n) * unit;
    }

    double parse_number() {
        const std::size_t start = pos_;
        const auto digits = [this] {
            const std::size_t from = pos_;
            while (is_digit(peek())) {
                ++pos_;
            }
            return pos_ > from;
        };
        consume("-");
        digits();
        if (peek() == '.') {
            ++pos_;
            if (!digits()) {
                fail_syntax(start, "invalid number: expected digits after '.'");
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            ++pos_;
            if (peek() == '+' || peek() == '-') {
                ++pos_;
            }
            if (!digits()) {
                fail_syntax(start, "invalid number: expected digits in the exponent");
            }
        }
        if (is_ident_char(peek()) || peek() == '.') {
            fail_syntax(start, "invalid number '" + number_text(start) +
                                   "': quote words that start with a digit");
        }
        double value = 0;
        const char* first = text_.data() + start;
        const char* last = text_.data() + pos_;
        const auto [ptr, ec] = std::from_chars(first, last, value);
        if (ec != std::errc() || ptr != last) {
            fail_syntax(start, "number out of range");
        }
        return value;
    }

    std::string number_text(std::size_t start) const {
        std::size_t end = pos_;
        while (end < text_.size() && (is_ident_char(text_[end]) || text_[end] == '.')) {
            ++end;
        }
        return std::string(text_.substr(start, end - start));
    }

    unsigned hex4(std::size_t escape_at) {
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            const char h = peek();
            unsigned d = 0;
            if (is_digit(h)) {
                d = static_cast<unsigned>(h - '0');
            } else if (ascii_lower(h) >= 'a' && ascii_lower(h) <= 'f') {
                d = static_cast<unsigned>(ascii_lower(h) - 'a' + 10);
            } else {
                fail_syntax(escape_at, "invalid \\u escape: expected four hex digits");
            }
            v = v * 16 + d;
            ++pos_;
        }
        return v;
    }

    std::string parse_string() {
        const std::size_t start = pos_;
        const char quote = text_[pos_++];
        std::string out;
        for (;;) {
            if (at_end()) {
                fail_syntax(start, "unterminated string");
            }
            const char ch = text_[pos_];
            if (quote == '\'') {
                ++pos_;
                if (ch == '\'') {
                    if (peek() == '\'') {
                        out.push_back('\'');
                        ++pos_;
                        continue;
                    }
                    return out;
                }
                out.push_back(ch);
                continue;
            }
            if (ch == '"') {
                ++pos_;
                return out;
            }
            if (static_cast<unsigned char>(ch) < 0x20) {
                fail_syntax(pos_, "control character in a string: use an escape such as \\n");
            }
            if (ch != '\\') {
                out.push_back(ch);
                ++pos_;
                continue;
            }
            const std::size_t escape_at = pos_;
            ++pos_;
            const char e = peek();
            ++pos_;
            switch (e) {
                case '"':
                case '\\':
                case '/':
                    out.push_back(e);
                    break;
                case 'b':
                    out.push_back('\b');
                    break;
                case 'f':
                    out.push_back('\f');
                    break;
                case 'n':
                    out.push_back('\n');
                    break;
                case 'r':
                    out.push_back('\r');
                    break;
                case 't':
                    out.push_back('\t');
                    break;
                case 'u': {
                    std::uint32_t cp = hex4(escape_at);
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (!consume("\\u")) {
                            fail_syntax(escape_at, "invalid \\u escape: unpaired surrogate");
                        }
                        const std::uint32_t low = hex4(escape_at);
                        if (low < 0xDC00 || low > 0xDFFF) {
                            fail_syntax(escape_at, "invalid \\u escape: unpaired surrogate");
                        }
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        fail_syntax(escape_at, "invalid \\u escape: unpaired surrogate");
                    }
                    append_utf8(out, cp);
                    break;
                }
                default:
                    fail_syntax(escape_at, "invalid escape in a string");
            }
        }
    }

    void check_predicate(Node& n) {
        const FieldType type = field_type(n.field.kind);
        if (type == FieldType::kStringList && n.op != Op::kHas && n.op != Op::kIn &&
            n.op != Op::kNotIn && n.op != Op::kExists) {
            fail_field(n.field.position, "tags is a list of strings: use HAS, IN or NOT IN");
        }
        if (n.op == Op::kHas && type != FieldType::kStringList && type != FieldType::kJson) {
            fail_field(n.field.position,
                       "'" + n.field.text + "' is not a list: HAS works on tags and JSON lists");
        }
        const bool ordering = n.op == Op::kLt || n.op == Op::kLe || n.op == Op::kGt ||
                              n.op == Op::kGe || n.op == Op::kGlob || n.op == Op::kNotGlob ||
                              n.op == Op::kUnder;
        for (auto& lit : n.literals) {
            if (lit.kind == LiteralKind::kNull && ordering) {
                fail_syntax(lit.position, "NULL can only be compared with = or !=");
            }
            if ((n.op == Op::kGlob || n.op == Op::kNotGlob) && lit.kind != LiteralKind::kString) {
                fail_syntax(lit.position, "~ and !~ need a string pattern");
            }
            if (n.op == Op::kUnder && lit.kind != LiteralKind::kString) {
                fail_syntax(lit.position, "UNDER needs a string path");
            }
            if (type == FieldType::kTime && lit.kind == LiteralKind::kString && n.op != Op::kGlob &&
                n.op != Op::kNotGlob && n.op != Op::kUnder) {
                auto t = parse_iso8601(lit.text);
                if (!t) {
                    fail_syntax(lit.position, "invalid time '" + lit.text +
                                                  "': expected ISO 8601, e.g. 2026-01-14 or "
                                                  "2026-01-14T09:30");
                }
                lit.kind = LiteralKind::kNumber;
                lit.number = *t;
            }
        }
    }

    std::string_view text_;
    const ParseOptions& options_;
    std::size_t pos_ = 0;
    std::size_t predicates_ = 0;
};

}  // namespace

std::string_view error_code_name(ErrorCode code) noexcept {
    return code == ErrorCode::kField ? "FILTER_FIELD" : "FILTER_SYNTAX";
}

Status Error::to_status() const {
    return Status::invalid_argument(std::string(kStatusPrefix) +
                                    std::string(error_code_name(code)) + " at position " +
                                    std::to_string(position) + "): " + message);
}

std::optional<Error> error_from_status(const Status& status) {
    if (status.code() != StatusCode::kInvalidArgument) {
        return std::nullopt;
    }
    std::string_view m = status.message();
    if (!m.starts_with(kStatusPrefix)) {
        return std::nullopt;
    }
    m.remove_prefix(kStatusPrefix.size());
    Error e;
    if (m.starts_with("FILTER_SYNTAX")) {
        e.code = ErrorCode::kSyntax;
    } else if (m.starts_with("FILTER_FIELD")) {
        e.code = ErrorCode::kField;
    } else {
        return std::nullopt;
    }
    m.remove_prefix(error_code_name(e.code).size());
    constexpr std::string_view kAt = " at position ";
    if (!m.starts_with(kAt)) {
        return std::nullopt;
    }
    m.remove_prefix(kAt.size());
    const auto [ptr, ec] = std::from_chars(m.data(), m.data() + m.size(), e.position);
    if (ec != std::errc()) {
        return std::nullopt;
    }
    m.remove_prefix(static_cast<std::size_t>(ptr - m.data()));
    if (!m.starts_with("): ")) {
        return std::nullopt;
    }
    m.remove_prefix(3);
    e.message = std::string(m);
    return e;
}

void throw_exception_from_error(const Error& error, const boost::source_location& /*loc*/) {
    throw StatusError(error.to_status());
}

FieldType field_type(FieldKind kind) noexcept {
    switch (kind) {
        case FieldKind::kId:
        case FieldKind::kPath:
        case FieldKind::kAlias:
        case FieldKind::kStatus:
        case FieldKind::kExitReason:
        case FieldKind::kHostname:
        case FieldKind::kLiveness:
            return FieldType::kString;
        case FieldKind::kTags:
            return FieldType::kStringList;
        case FieldKind::kCreated:
        case FieldKind::kStarted:
        case FieldKind::kEnded:
            return FieldType::kTime;
        case FieldKind::kDuration:
        case FieldKind::kLastStep:
        case FieldKind::kMetric:
            return FieldType::kNumber;
        case FieldKind::kSummary:
        case FieldKind::kConfig:
        case FieldKind::kConfigArgs:
        case FieldKind::kConfigExtra:
        case FieldKind::kMeta:
            return FieldType::kJson;
    }
    return FieldType::kJson;
}

ParseResult parse(std::string_view text, const ParseOptions& options) {
    if (text.size() > kMaxLength) {
        return Error{ErrorCode::kSyntax,
                     "the filter is longer than " + std::to_string(kMaxLength) + " characters",
                     kMaxLength};
    }
    try {
        return Parser(text, options).run();
    } catch (const ParseFailure& f) {
        return f.error;
    }
}

Result<double> parse_iso8601(std::string_view text) {
    const auto bad = [&text] {
        return Status::invalid_argument("'" + std::string(text) +
                                        "' is not an ISO 8601 date or date-time");
    };
    std::size_t pos = 0;
    const auto number = [&](std::size_t n, int& out) {
        if (pos + n > text.size()) {
            return false;
        }
        out = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (!is_digit(text[pos + i])) {
                return false;
            }
            out = out * 10 + (text[pos + i] - '0');
        }
        pos += n;
        return true;
    };
    const auto expect = [&](char c) {
        if (pos < text.size() && text[pos] == c) {
            ++pos;
            return true;
        }
        return false;
    };
    int year = 0;
    int month = 0;
    int day = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;
    double fraction = 0;
    if (!number(4, year) || !expect('-') || !number(2, month) || !expect('-') || !number(2, day) ||
        month < 1 || month > 12 || day < 1 || day > 31) {
        return bad();
    }
    if (pos < text.size() && (text[pos] == 'T' || text[pos] == 't' || text[pos] == ' ')) {
        ++pos;
        if (!number(2, hour) || !expect(':') || !number(2, minute) || hour > 23 || minute > 59) {
            return bad();
        }
        if (expect(':')) {
            if (!number(2, second) || second > 60) {
                return bad();
            }
            if (expect('.')) {
                const std::size_t from = pos;
                double scale = 0.1;
                while (pos < text.size() && is_digit(text[pos])) {
                    fraction += scale * (text[pos] - '0');
                    scale /= 10;
                    ++pos;
                }
                if (pos == from) {
                    return bad();
                }
            }
        }
    }
    std::optional<int> offset_s;
    if (expect('Z') || expect('z')) {
        offset_s = 0;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        const int sign = text[pos] == '-' ? -1 : 1;
        ++pos;
        int oh = 0;
        int om = 0;
        if (!number(2, oh)) {
            return bad();
        }
        expect(':');
        if (!number(2, om) || oh > 23 || om > 59) {
            return bad();
        }
        offset_s = sign * (oh * 3600 + om * 60);
    }
    if (pos != text.size()) {
        return bad();
    }
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    if (offset_s) {
        const std::time_t t = ::timegm(&tm);
        if (tm.tm_mday != day) {
            return bad();  // normalised: 2026-02-31 is not a date
        }
        return static_cast<double>(t - *offset_s) + fraction;
    }
    tm.tm_isdst = -1;
    const std::time_t t = std::mktime(&tm);
    if (t == static_cast<std::time_t>(-1) || tm.tm_mday != day) {
        return bad();
    }
    return static_cast<double>(t) + fraction;
}

std::string glob_to_sqlite(std::string_view pattern) {
    std::string out;
    out.reserve(pattern.size());
    for (const char c : pattern) {
        if (c == '[') {
            out += "[[]";
        } else {
            out.push_back(ascii_lower(c));
        }
    }
    return out;
}

}  // namespace runicorn::filter
