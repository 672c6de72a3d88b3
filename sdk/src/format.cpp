#include "format.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>

namespace runicorn::sdk {
namespace {

/// Length of the valid UTF-8 sequence starting at s[i], or 0 when the bytes there are not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned min = 0;
    if (b0 < 0x80) {
        return 1;
    }
    if ((b0 & 0xE0) == 0xC0) {
        n = 2;
        min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        n = 3;
        min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (i + n > s.size()) {
        return 0;
    }
    unsigned cp = b0 & (0x7F >> n);
    for (std::size_t k = 1; k < n; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8.
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return n;
}

/// True when every byte can be copied into a JSON string literal unchanged.
bool is_plain(std::string_view s) noexcept {
    for (const char c : s) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b >= 0x80 || c == '"' || c == '\\') {
            return false;
        }
    }
    return true;
}

void append_escaped_slow(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        const auto b = static_cast<unsigned char>(c);
        if (b >= 0x80) {
            const std::size_t n = utf8_sequence(s, i);
            if (n == 0) {
                out += "\xEF\xBF\xBD";  // U+FFFD
                ++i;
            } else {
                out.append(s.substr(i, n));
                i += n;
            }
            continue;
        }
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
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
            default:
                if (b < 0x20) {
                    out += "\\u00";
                    out += kHex[b >> 4];
                    out += kHex[b & 0xF];
                } else {
                    out += c;
                }
        }
        ++i;
    }
}

/// Writes the bytes of a string literal (no NUL).
template <std::size_t N>
char* put(char* p, const char (&lit)[N]) {
    return std::copy(lit, lit + N - 1, p);
}

char* put(char* p, std::string_view s) { return std::copy(s.begin(), s.end(), p); }

/// The most bytes write_json_string writes for `s`: every byte may become \u00XX.
std::size_t json_string_bound(std::string_view s) { return s.size() * 6 + 2; }

std::size_t value_bound(const MetricValue& v) {
    return v.kind() == MetricValue::Kind::kString ? json_string_bound(v.as_string()) : kDoubleChars;
}

char* write_json_string(char* p, std::string_view s) {
    *p++ = '"';
    const std::size_t n = s.size();
    std::size_t i = 0;
    for (; i < n; ++i) {
        const char c = s[i];
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b >= 0x80 || c == '"' || c == '\\') {
            break;
        }
        p[i] = c;
    }
    p += i;
    if (i < n) {
        std::string slow;
        append_escaped_slow(slow, s.substr(i));
        p = put(p, slow);
    }
    *p++ = '"';
    return p;
}

char* write_int(char* p, std::int64_t v) { return std::to_chars(p, p + 24, v).ptr; }

char* write_value(char* p, const MetricValue& v) {
    switch (v.kind()) {
        case MetricValue::Kind::kNull:
            return put(p, "null");
        case MetricValue::Kind::kF64:
            return p + format_double(p, v.as_f64());
        case MetricValue::Kind::kI64:
            return write_int(p, v.as_i64());
        case MetricValue::Kind::kBoolean:
            return v.as_bool() ? put(p, "true") : put(p, "false");
        case MetricValue::Kind::kString:
            return write_json_string(p, v.as_string());
    }
    return p;
}

bool valid_key(std::string_view key) noexcept {
    if (key.empty() || key.size() > kMaxKeyBytes) {
        return false;
    }
    return is_plain(key) || check_key(key) == KeyProblem::kNone;
}

}  // namespace

KeyProblem check_key(std::string_view key) noexcept {
    if (key.empty()) {
        return KeyProblem::kEmpty;
    }
    if (key.size() > kMaxKeyBytes) {
        return KeyProblem::kTooLong;
    }
    std::size_t i = 0;
    while (i < key.size()) {
        const auto b = static_cast<unsigned char>(key[i]);
        if (b == 0) {
            return KeyProblem::kNul;
        }
        if (b < 0x80) {
            ++i;
            continue;
        }
        const std::size_t n = utf8_sequence(key, i);
        if (n == 0) {
            return KeyProblem::kBadUtf8;
        }
        i += n;
    }
    return KeyProblem::kNone;
}

std::string_view key_problem_text(KeyProblem p) noexcept {
    switch (p) {
        case KeyProblem::kNone:
            return "valid";
        case KeyProblem::kEmpty:
            return "empty";
        case KeyProblem::kTooLong:
            return "longer than 256 bytes";
        case KeyProblem::kNul:
            return "contains NUL";
        case KeyProblem::kBadUtf8:
            return "not valid UTF-8";
    }
    return "invalid";
}

bool is_reserved_key(std::string_view key) noexcept {
    switch (key.size()) {
        case 4:
            return key == "step" || key == "time";
        case 5:
            return key == "stage";
        case 11:
            return key == "global_step";
        default:
            return false;
    }
}

std::size_t format_double(char* buf, double v) noexcept {
    auto token = [buf](std::string_view t) {
        std::copy(t.begin(), t.end(), buf);
        return t.size();
    };
    if (std::isnan(v)) {
        return token("NaN");
    }
    if (std::isinf(v)) {
        return token(v > 0 ? "Infinity" : "-Infinity");
    }
    // Python's repr(): the shortest round-trip digits, in scientific notation when the decimal
    // exponent is below -4 or at least 16, else in fixed notation with at least one fraction
    // digit ("1.0", so the value reads back as a float).
    const double a = std::fabs(v);
    const bool scientific = a >= 1e16 || (a < 1e-4 && a != 0.0);
    const auto r =
        std::to_chars(buf, buf + kDoubleChars - 2, v,
                      scientific ? std::chars_format::scientific : std::chars_format::fixed);
    auto n = static_cast<std::size_t>(r.ptr - buf);
    if (!scientific && v == std::trunc(v)) {  // an integral value prints without a '.'
        buf[n++] = '.';
        buf[n++] = '0';
    }
    return n;
}

void append_double(std::string& out, double v) {
    char buf[kDoubleChars];
    out.append(buf, format_double(buf, v));
}

void append_int(std::string& out, std::int64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    if (is_plain(s)) {
        out.append(s);
    } else {
        append_escaped_slow(out, s);
    }
    out += '"';
}

void append_metric_value(std::string& out, const MetricValue& v) {
    switch (v.kind()) {
        case MetricValue::Kind::kNull:
            out += "null";
            break;
        case MetricValue::Kind::kF64:
            append_double(out, v.as_f64());
            break;
        case MetricValue::Kind::kI64:
            append_int(out, v.as_i64());
            break;
        case MetricValue::Kind::kBoolean:
            out += v.as_bool() ? "true" : "false";
            break;
        case MetricValue::Kind::kString:
            append_json_string(out, v.as_string());
            break;
    }
}

StageRef resolve_stage(std::span<const Field> fields, const std::string_view* stage_arg) noexcept {
    StageRef r;
    if (stage_arg != nullptr) {
        r.text = stage_arg;
        return r;
    }
    for (const Field& f : fields) {
        if (f.key.size() == 5 && f.key == "stage") {
            r.value = &f.value;
        }
    }
    if (r.value != nullptr && r.value->kind() == MetricValue::Kind::kNull) {
        r.value = nullptr;
    }
    return r;
}

std::size_t metrics_line_bound(std::span<const Field> fields, StageRef stage) noexcept {
    // {"ts":,"type":"metrics","data":{ "global_step":,"time":,"stage":}}\n and two timestamps.
    std::size_t n = 96 + 2 * kDoubleChars + 24;
    for (const Field& f : fields) {
        n += json_string_bound(f.key) + 2 + value_bound(f.value);
    }
    if (stage.text != nullptr) {
        n += json_string_bound(*stage.text);
    } else if (stage.value != nullptr) {
        n += value_bound(*stage.value);
    }
    return n;
}

char* write_metrics_line(char* p, std::span<const Field> fields, std::int64_t global_step,
                         StageRef stage, double ts, std::vector<std::string>* bad_keys) {
    // ts and time are the same number: format it once.
    char tsbuf[kDoubleChars];
    const std::size_t tslen = format_double(tsbuf, ts);
    const std::string_view tstext(tsbuf, tslen);
    p = put(p, R"({"ts":)");
    p = put(p, tstext);
    p = put(p, R"(,"type":"metrics","data":{)");
    for (const Field& f : fields) {
        if (is_reserved_key(f.key)) {
            continue;
        }
        if (!valid_key(f.key)) {
            if (bad_keys != nullptr) {
                bad_keys->emplace_back(f.key);
            }
            continue;
        }
        p = write_json_string(p, f.key);
        *p++ = ':';
        p = write_value(p, f.value);
        *p++ = ',';
    }
    p = put(p, R"("global_step":)");
    p = write_int(p, global_step);
    p = put(p, R"(,"time":)");
    p = put(p, tstext);
    if (stage.text != nullptr) {
        p = put(p, R"(,"stage":)");
        p = write_json_string(p, *stage.text);
    } else if (stage.value != nullptr) {
        p = put(p, R"(,"stage":)");
        p = write_value(p, *stage.value);
    }
    return put(p, "}}\n");
}

void format_metrics_line(std::string& out, std::span<const Field> fields, std::int64_t global_step,
                         StageRef stage, double ts, std::vector<std::string>* bad_keys) {
    const std::size_t old = out.size();
    out.resize(old + metrics_line_bound(fields, stage));
    char* end = write_metrics_line(out.data() + old, fields, global_step, stage, ts, bad_keys);
    out.resize(static_cast<std::size_t>(end - out.data()));
}

void format_image_line(std::string& out, const ImageEvent& e, double ts) {
    out += R"({"ts":)";
    append_double(out, ts);
    out += R"(,"type":"image","data":{"key":)";
    append_json_string(out, e.key);
    out += R"(,"path":)";
    append_json_string(out, e.path);
    out += R"(,"step":)";
    if (e.step != nullptr) {
        append_int(out, *e.step);
    } else {
        out += "null";
    }
    out += R"(,"caption":)";
    if (e.caption != nullptr) {
        append_json_string(out, *e.caption);
    } else {
        out += "null";
    }
    out += R"(,"global_step":)";
    append_int(out, e.global_step);
    out += R"(,"format":)";
    append_json_string(out, e.format);
    out += R"(,"size_bytes":)";
    append_int(out, static_cast<std::int64_t>(e.size_bytes));
    if (e.width >= 0 && e.height >= 0) {
        out += R"(,"width":)";
        append_int(out, e.width);
        out += R"(,"height":)";
        append_int(out, e.height);
    }
    out += "}}\n";
}

void format_text_line(std::string& out, std::string_view text, double unix_seconds) {
    const auto t = static_cast<std::time_t>(std::floor(unix_seconds));
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[16];
    const std::size_t n = std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    out.append(buf, n);
    out += " | ";
    out.append(text);
    out += '\n';
}

}  // namespace runicorn::sdk
