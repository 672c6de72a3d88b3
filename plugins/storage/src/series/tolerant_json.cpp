#include "tolerant_json.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace runicorn::storage::series {
namespace {

constexpr int kMaxDepth = 512;

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n) {
            return false;
        }
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += len;
    }
    return true;
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

bool hex4(std::string_view s, std::size_t pos, std::uint32_t& out) {
    if (pos + 4 > s.size()) {
        return false;
    }
    out = 0;
    for (std::size_t i = pos; i < pos + 4; ++i) {
        const char c = s[i];
        out <<= 4;
        if (c >= '0' && c <= '9') {
            out |= static_cast<std::uint32_t>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            out |= static_cast<std::uint32_t>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            out |= static_cast<std::uint32_t>(c - 'A' + 10);
        } else {
            return false;
        }
    }
    return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool parse_json_double(std::string_view text, double& out) {
    const char* first = text.data();
    const char* last = first + text.size();
    const auto res = std::from_chars(first, last, out);
    if (res.ptr != last) {
        return false;
    }
    if (res.ec == std::errc::result_out_of_range) {
        // from_chars leaves `out` alone here. Overflow is ±Infinity, underflow ±0 (Python float()).
        const bool negative = text.front() == '-';
        bool tiny = false;
        const auto e = text.find_first_of("eE");
        if (e != std::string_view::npos && e + 1 < text.size() && text[e + 1] == '-') {
            tiny = true;
        }
        const double mag = tiny ? 0.0 : std::numeric_limits<double>::infinity();
        out = negative ? -mag : mag;
        return true;
    }
    return res.ec == std::errc();
}

void TolerantLineParser::skip_ws() {
    while (pos_ < in_.size()) {
        const char c = in_[pos_];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            break;
        }
        ++pos_;
    }
}

bool TolerantLineParser::consume(char c) {
    skip_ws();
    if (pos_ < in_.size() && in_[pos_] == c) {
        ++pos_;
        return true;
    }
    return false;
}

bool TolerantLineParser::consume_word(std::string_view w) {
    if (in_.substr(pos_, w.size()) == w) {
        pos_ += w.size();
        return true;
    }
    return false;
}

bool TolerantLineParser::parse_string(std::string_view& out) {
    skip_ws();
    if (pos_ >= in_.size() || in_[pos_] != '"') {
        return false;
    }
    ++pos_;
    const std::size_t start = arena_.size();
    while (true) {
        if (pos_ >= in_.size()) {
            return false;
        }
        const char c = in_[pos_];
        if (c == '"') {
            ++pos_;
            break;
        }
        if (static_cast<unsigned char>(c) < 0x20) {
            return false;
        }
        if (c != '\\') {
            arena_.push_back(c);
            ++pos_;
            continue;
        }
        if (pos_ + 1 >= in_.size()) {
            return false;
        }
        const char e = in_[pos_ + 1];
        pos_ += 2;
        switch (e) {
            case '"':
                arena_.push_back('"');
                break;
            case '\\':
                arena_.push_back('\\');
                break;
            case '/':
                arena_.push_back('/');
                break;
            case 'b':
                arena_.push_back('\b');
                break;
            case 'f':
                arena_.push_back('\f');
                break;
            case 'n':
                arena_.push_back('\n');
                break;
            case 'r':
                arena_.push_back('\r');
                break;
            case 't':
                arena_.push_back('\t');
                break;
            case 'u': {
                std::uint32_t cp = 0;
                if (!hex4(in_, pos_, cp)) {
                    return false;
                }
                pos_ += 4;
                // A surrogate pair becomes one code point; a lone surrogate is kept (Python).
                if (cp >= 0xD800 && cp <= 0xDBFF && in_.substr(pos_, 2) == "\\u") {
                    std::uint32_t lo = 0;
                    if (hex4(in_, pos_ + 2, lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        pos_ += 6;
                    }
                }
                append_utf8(arena_, cp);
                break;
            }
            default:
                return false;
        }
    }
    out = std::string_view(arena_).substr(start);
    return true;
}

bool TolerantLineParser::parse_number(FieldValue& out) {
    const std::size_t start = pos_;
    if (pos_ < in_.size() && in_[pos_] == '-') {
        ++pos_;
        if (consume_word("Infinity")) {
            out.type = FieldValue::Type::kNumber;
            out.kind = PointKind::kDouble;
            out.d = -std::numeric_limits<double>::infinity();
            return true;
        }
    }
    if (pos_ >= in_.size()) {
        return false;
    }
    if (in_[pos_] == '0') {
        ++pos_;
    } else if (is_digit(in_[pos_])) {
        while (pos_ < in_.size() && is_digit(in_[pos_])) {
            ++pos_;
        }
    } else {
        return false;
    }
    bool integral = true;
    if (pos_ < in_.size() && in_[pos_] == '.') {
        integral = false;
        ++pos_;
        if (pos_ >= in_.size() || !is_digit(in_[pos_])) {
            return false;
        }
        while (pos_ < in_.size() && is_digit(in_[pos_])) {
            ++pos_;
        }
    }
    if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
        integral = false;
        ++pos_;
        if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) {
            ++pos_;
        }
        if (pos_ >= in_.size() || !is_digit(in_[pos_])) {
            return false;
        }
        while (pos_ < in_.size() && is_digit(in_[pos_])) {
            ++pos_;
        }
    }
    const std::string_view text = in_.substr(start, pos_ - start);
    out.type = FieldValue::Type::kNumber;
    if (integral) {
        std::int64_t i = 0;
        const auto res = std::from_chars(text.data(), text.data() + text.size(), i);
        if (res.ec == std::errc() && res.ptr == text.data() + text.size()) {
            out.kind = PointKind::kInt;
            out.i = i;
            out.d = static_cast<double>(i);
            return true;
        }
        // Outside int64: read as a double (FORMAT.md G3).
    }
    out.kind = PointKind::kDouble;
    return parse_json_double(text, out.d);
}

bool TolerantLineParser::parse_value(FieldValue& out, int depth) {
    skip_ws();
    if (pos_ >= in_.size()) {
        return false;
    }
    const char c = in_[pos_];
    switch (c) {
        case '"':
            out.type = FieldValue::Type::kString;
            return parse_string(out.s);
        case '{':
        case '[':
            out.type = FieldValue::Type::kOther;
            return skip_value(depth);
        case 't':
            out.type = FieldValue::Type::kNumber;
            out.kind = PointKind::kBool;
            out.d = 1.0;
            return consume_word("true");
        case 'f':
            out.type = FieldValue::Type::kNumber;
            out.kind = PointKind::kBool;
            out.d = 0.0;
            return consume_word("false");
        case 'n':
            out.type = FieldValue::Type::kNull;
            return consume_word("null");
        case 'N':
            out.type = FieldValue::Type::kNumber;
            out.kind = PointKind::kDouble;
            out.d = std::numeric_limits<double>::quiet_NaN();
            return consume_word("NaN");
        case 'I':
            out.type = FieldValue::Type::kNumber;
            out.kind = PointKind::kDouble;
            out.d = std::numeric_limits<double>::infinity();
            return consume_word("Infinity");
        default:
            return parse_number(out);
    }
}

bool TolerantLineParser::skip_value(int depth) {
    if (depth > kMaxDepth) {
        return false;
    }
    skip_ws();
    if (pos_ >= in_.size()) {
        return false;
    }
    const char c = in_[pos_];
    if (c == '{' || c == '[') {
        const char close = c == '{' ? '}' : ']';
        ++pos_;
        if (consume(close)) {
            return true;
        }
        while (true) {
            if (c == '{') {
                std::string_view key;
                if (!parse_string(key) || !consume(':')) {
                    return false;
                }
            }
            if (!skip_value(depth + 1)) {
                return false;
            }
            if (consume(close)) {
                return true;
            }
            if (!consume(',')) {
                return false;
            }
        }
    }
    FieldValue ignored;
    return parse_value(ignored, depth);
}

bool TolerantLineParser::parse_data_object(Record& rec) {
    // At '{'.
    ++pos_;
    rec.fields.clear();
    rec.data_is_object = true;
    if (consume('}')) {
        return true;
    }
    while (true) {
        Field f;
        if (!parse_string(f.key) || !consume(':') || !parse_value(f.v, 2)) {
            return false;
        }
        rec.fields.push_back(f);
        if (consume('}')) {
            return true;
        }
        if (!consume(',')) {
            return false;
        }
    }
}

bool TolerantLineParser::parse_envelope(Record& rec) {
    if (!consume('{')) {
        return false;
    }
    if (consume('}')) {
        return true;
    }
    while (true) {
        std::string_view key;
        if (!parse_string(key) || !consume(':')) {
            return false;
        }
        skip_ws();
        if (key == "data") {
            if (pos_ < in_.size() && in_[pos_] == '{') {
                if (!parse_data_object(rec)) {
                    return false;
                }
            } else {
                rec.fields.clear();
                rec.data_is_object = false;
                if (!skip_value(1)) {
                    return false;
                }
            }
        } else if (key == "type" || key == "ts") {
            FieldValue v;
            if (!parse_value(v, 1)) {
                return false;
            }
            if (key == "type") {
                rec.is_metrics = v.type == FieldValue::Type::kString && v.s == "metrics";
            } else {
                rec.ts = v.type == FieldValue::Type::kNumber && v.kind != PointKind::kBool
                             ? v.d
                             : std::numeric_limits<double>::quiet_NaN();
            }
        } else if (!skip_value(1)) {
            return false;
        }
        if (consume('}')) {
            return true;
        }
        if (!consume(',')) {
            return false;
        }
    }
}

bool TolerantLineParser::parse(std::string_view line, Record& rec) {
    rec.clear();
    if (!valid_utf8(line)) {
        return false;
    }
    in_ = line;
    pos_ = 0;
    arena_.clear();
    // Decoded strings never outgrow their source, so the arena never reallocates and the
    // string_views handed out stay valid.
    arena_.reserve(line.size() + 1);
    if (!parse_envelope(rec)) {
        return false;
    }
    skip_ws();
    return pos_ == in_.size();
}

}  // namespace runicorn::storage::series
