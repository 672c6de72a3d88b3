#include "json_io.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <system_error>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

namespace runicorn::storage {
namespace json = boost::json;

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

/// Thrown inside the parser only, caught by parse_json(): the recursion unwinds in one step.
struct ParseError {
    std::size_t offset;
    std::string reason;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/// A recursive-descent parser over the whole text. Boost.JSON 1.81 has no option for the
/// non-finite tokens, and rewriting them to sentinels would make sentinel-valued input ambiguous,
/// so the grammar is parsed here and Boost.JSON only holds the result.
/// Thread safety: externally synchronized (one parser per call).
class Parser {
public:
    explicit Parser(std::string_view text) : text_(text) {}

    json::value parse_document() {
        if (text_.substr(pos_).starts_with(kBom)) {
            pos_ += kBom.size();
        }
        skip_ws();
        if (pos_ >= text_.size()) {
            fail("no JSON value (empty input)");
        }
        json::value v = parse_value(0);
        skip_ws();
        if (pos_ < text_.size()) {
            fail("unexpected data after the JSON value");
        }
        return v;
    }

private:
    [[noreturn]] void fail(std::string reason) const { throw ParseError{pos_, std::move(reason)}; }

    void skip_ws() {
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                break;
            }
            ++pos_;
        }
    }

    bool consume_literal(std::string_view word) {
        if (text_.substr(pos_).starts_with(word)) {
            pos_ += word.size();
            return true;
        }
        return false;
    }

    json::value parse_value(int depth) {
        if (pos_ >= text_.size()) {
            fail("unexpected end of input");
        }
        switch (text_[pos_]) {
            case '{':
                return parse_object(depth + 1);
            case '[':
                return parse_array(depth + 1);
            case '"': {
                std::string s;
                parse_string(s);
                return json::string(s.data(), s.size());
            }
            case 't':
                if (consume_literal("true")) {
                    return true;
                }
                break;
            case 'f':
                if (consume_literal("false")) {
                    return false;
                }
                break;
            case 'n':
                if (consume_literal("null")) {
                    return nullptr;
                }
                break;
            case 'N':
                if (consume_literal("NaN")) {
                    return std::numeric_limits<double>::quiet_NaN();
                }
                break;
            case 'I':
                if (consume_literal("Infinity")) {
                    return std::numeric_limits<double>::infinity();
                }
                break;
            case '-':
                if (consume_literal("-Infinity")) {
                    return -std::numeric_limits<double>::infinity();
                }
                return parse_number();
            default:
                if (is_digit(text_[pos_])) {
                    return parse_number();
                }
                break;
        }
        fail("unexpected character");
    }

    json::value parse_object(int depth) {
        if (depth > kMaxJsonDepth) {
            fail("nesting deeper than " + std::to_string(kMaxJsonDepth));
        }
        ++pos_;  // '{'
        json::object obj;
        skip_ws();
        if (pos_ < text_.size() && text_[pos_] == '}') {
            ++pos_;
            return obj;
        }
        std::string key;
        while (true) {
            skip_ws();
            if (pos_ >= text_.size() || text_[pos_] != '"') {
                fail("expected a string key");
            }
            key.clear();
            parse_string(key);
            skip_ws();
            if (pos_ >= text_.size() || text_[pos_] != ':') {
                fail("expected ':'");
            }
            ++pos_;
            skip_ws();
            // insert_or_assign keeps the first position and the last value, like a Python dict.
            obj.insert_or_assign(key, parse_value(depth));
            skip_ws();
            if (pos_ >= text_.size()) {
                fail("unexpected end of input in an object");
            }
            if (text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (text_[pos_] == '}') {
                ++pos_;
                return obj;
            }
            fail("expected ',' or '}'");
        }
    }

    json::value parse_array(int depth) {
        if (depth > kMaxJsonDepth) {
            fail("nesting deeper than " + std::to_string(kMaxJsonDepth));
        }
        ++pos_;  // '['
        json::array arr;
        skip_ws();
        if (pos_ < text_.size() && text_[pos_] == ']') {
            ++pos_;
            return arr;
        }
        while (true) {
            skip_ws();
            arr.push_back(parse_value(depth));
            skip_ws();
            if (pos_ >= text_.size()) {
                fail("unexpected end of input in an array");
            }
            if (text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (text_[pos_] == ']') {
                ++pos_;
                return arr;
            }
            fail("expected ',' or ']'");
        }
    }

    std::uint32_t parse_hex4() {
        if (pos_ + 4 > text_.size()) {
            fail("truncated \\u escape");
        }
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = text_[pos_++];
            v <<= 4;
            if (c >= '0' && c <= '9') {
                v |= static_cast<std::uint32_t>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                v |= static_cast<std::uint32_t>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                v |= static_cast<std::uint32_t>(c - 'A' + 10);
            } else {
                --pos_;
                fail("invalid \\u escape");
            }
        }
        return v;
    }

    /// Appends the decoded string at pos_ (its opening quote) to `buf`.
    void parse_string(std::string& buf) {
        ++pos_;  // opening quote
        while (true) {
            // Copy the run of ordinary bytes in one go: long strings are the common case.
            const std::size_t start = pos_;
            while (pos_ < text_.size()) {
                const auto c = static_cast<unsigned char>(text_[pos_]);
                if (c == '"' || c == '\\' || c < 0x20) {
                    break;
                }
                ++pos_;
            }
            buf.append(text_.substr(start, pos_ - start));
            if (pos_ >= text_.size()) {
                fail("unterminated string");
            }
            const char c = text_[pos_];
            if (c == '"') {
                ++pos_;
                break;
            }
            if (c != '\\') {
                fail("control character in a string");
            }
            ++pos_;
            if (pos_ >= text_.size()) {
                fail("unterminated string");
            }
            const char e = text_[pos_++];
            switch (e) {
                case '"':
                    buf += '"';
                    break;
                case '\\':
                    buf += '\\';
                    break;
                case '/':
                    buf += '/';
                    break;
                case 'b':
                    buf += '\b';
                    break;
                case 'f':
                    buf += '\f';
                    break;
                case 'n':
                    buf += '\n';
                    break;
                case 'r':
                    buf += '\r';
                    break;
                case 't':
                    buf += '\t';
                    break;
                case 'u': {
                    std::uint32_t cp = parse_hex4();
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (text_.substr(pos_).starts_with("\\u")) {
                            const std::size_t save = pos_;
                            pos_ += 2;
                            const std::uint32_t lo = parse_hex4();
                            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                            } else {
                                pos_ = save;
                                cp = 0xFFFD;
                            }
                        } else {
                            cp = 0xFFFD;
                        }
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        cp = 0xFFFD;
                    }
                    append_utf8(buf, cp);
                    break;
                }
                default:
                    --pos_;
                    fail("invalid escape in a string");
            }
        }
    }

    json::value parse_number() {
        const std::size_t start = pos_;
        if (text_[pos_] == '-') {
            ++pos_;
        }
        if (pos_ >= text_.size() || !is_digit(text_[pos_])) {
            fail("invalid number");
        }
        // Decimal exponent of the first significant digit, to tell overflow from underflow.
        std::int64_t first_sig = 0;
        bool seen_sig = false;
        std::int64_t int_digits = 0;
        if (text_[pos_] == '0') {
            ++pos_;
        } else {
            while (pos_ < text_.size() && is_digit(text_[pos_])) {
                if (!seen_sig) {
                    seen_sig = text_[pos_] != '0';
                }
                ++int_digits;
                ++pos_;
            }
            first_sig = int_digits - 1;
        }
        bool is_integer = true;
        if (pos_ < text_.size() && text_[pos_] == '.') {
            is_integer = false;
            ++pos_;
            if (pos_ >= text_.size() || !is_digit(text_[pos_])) {
                fail("invalid number");
            }
            std::int64_t index = 0;
            while (pos_ < text_.size() && is_digit(text_[pos_])) {
                if (!seen_sig && text_[pos_] != '0') {
                    seen_sig = true;
                    first_sig = -(index + 1);
                }
                ++index;
                ++pos_;
            }
        }
        std::int64_t exponent = 0;
        if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
            is_integer = false;
            ++pos_;
            bool negative = false;
            if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
                negative = text_[pos_] == '-';
                ++pos_;
            }
            if (pos_ >= text_.size() || !is_digit(text_[pos_])) {
                fail("invalid number");
            }
            while (pos_ < text_.size() && is_digit(text_[pos_])) {
                if (exponent < 100000) {
                    exponent = exponent * 10 + (text_[pos_] - '0');
                }
                ++pos_;
            }
            if (negative) {
                exponent = -exponent;
            }
        }
        const char* first = text_.data() + start;
        const char* last = text_.data() + pos_;
        const bool negative = *first == '-';
        if (is_integer) {
            std::int64_t i = 0;
            const auto [p, ec] = std::from_chars(first, last, i);
            if (ec == std::errc() && p == last) {
                return i;
            }
            // Outside int64: read as a double (FORMAT.md G3).
        }
        double d = 0;
        const auto [p, ec] = std::from_chars(first, last, d);
        if (ec == std::errc::result_out_of_range) {
            const bool overflow = seen_sig && first_sig + exponent > 0;
            const double mag = overflow ? std::numeric_limits<double>::infinity() : 0.0;
            return negative ? -mag : mag;
        }
        if (ec != std::errc() || p != last) {
            fail("invalid number");
        }
        return d;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

std::string location_of(std::string_view text, std::size_t offset) {
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

template <class Int>
void append_integer(std::string& out, Int v) {
    std::array<char, 24> buf{};
    const auto [p, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    out.append(buf.data(), p);
}

void append_scalar(std::string& out, const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            out += "null";
            break;
        case json::kind::bool_:
            out += v.get_bool() ? "true" : "false";
            break;
        case json::kind::int64:
            append_integer(out, v.get_int64());
            break;
        case json::kind::uint64:
            append_integer(out, v.get_uint64());
            break;
        case json::kind::double_:
            append_json_double(out, v.get_double());
            break;
        case json::kind::string:
            append_json_string(out, v.get_string());
            break;
        case json::kind::array:
        case json::kind::object:
            break;  // handled by the callers
    }
}

void pretty_into(std::string& out, const json::value& v, int indent) {
    const auto newline = [&out](int n) {
        out += '\n';
        out.append(static_cast<std::size_t>(n) * 2, ' ');
    };
    if (v.is_object()) {
        const auto& obj = v.get_object();
        if (obj.empty()) {
            out += "{}";
            return;
        }
        out += '{';
        bool first = true;
        for (const auto& kv : obj) {
            if (!first) {
                out += ',';
            }
            first = false;
            newline(indent + 1);
            append_json_string(out, kv.key());
            out += ": ";
            pretty_into(out, kv.value(), indent + 1);
        }
        newline(indent);
        out += '}';
    } else if (v.is_array()) {
        const auto& arr = v.get_array();
        if (arr.empty()) {
            out += "[]";
            return;
        }
        out += '[';
        bool first = true;
        for (const auto& item : arr) {
            if (!first) {
                out += ',';
            }
            first = false;
            newline(indent + 1);
            pretty_into(out, item, indent + 1);
        }
        newline(indent);
        out += ']';
    } else {
        append_scalar(out, v);
    }
}

}  // namespace

Result<json::value> parse_json(std::string_view text) {
    try {
        return Parser(text).parse_document();
    } catch (const ParseError& e) {
        return Status::invalid_argument(location_of(text, e.offset) + ": " + e.reason);
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted("out of memory while parsing JSON");
    } catch (const std::exception& e) {
        // Boost.JSON's containers throw length errors for absurd sizes.
        return Status::invalid_argument(std::string("cannot hold the JSON value: ") + e.what());
    }
}

void append_json_string(std::string& out, std::string_view s) {
    static constexpr std::string_view kHex = "0123456789abcdef";
    out += '"';
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        out.append(s.substr(start, i - start));
        start = i + 1;
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            default:
                out += "\\u00";
                out += kHex[c >> 4];
                out += kHex[c & 0xF];
                break;
        }
    }
    out.append(s.substr(start));
    out += '"';
}

void append_json_double(std::string& out, double d) {
    if (std::isnan(d)) {
        out += "NaN";
        return;
    }
    if (std::isinf(d)) {
        out += d > 0 ? "Infinity" : "-Infinity";
        return;
    }
    std::array<char, 32> buf{};
    const auto [p, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
    const std::string_view text(buf.data(), static_cast<std::size_t>(p - buf.data()));
    out.append(text);
    // Keep the value a double when read back ("1.0", not "1"), as Python's repr does.
    if (text.find_first_of(".e") == std::string_view::npos) {
        out += ".0";
    }
}

void append_compact_json(std::string& out, const json::value& v) {
    if (v.is_object()) {
        out += '{';
        bool first = true;
        for (const auto& kv : v.get_object()) {
            if (!first) {
                out += ',';
            }
            first = false;
            append_json_string(out, kv.key());
            out += ':';
            append_compact_json(out, kv.value());
        }
        out += '}';
    } else if (v.is_array()) {
        out += '[';
        bool first = true;
        for (const auto& item : v.get_array()) {
            if (!first) {
                out += ',';
            }
            first = false;
            append_compact_json(out, item);
        }
        out += ']';
    } else {
        append_scalar(out, v);
    }
}

std::string to_compact_json(const json::value& value) {
    std::string out;
    append_compact_json(out, value);
    return out;
}

std::string to_pretty_json(const json::value& value) {
    std::string out;
    pretty_into(out, value, 0);
    return out;
}

}  // namespace runicorn::storage
