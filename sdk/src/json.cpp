#include <limits>
#include <optional>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>

#include <runicorn/runicorn.hpp>

#include "format.hpp"
#include "json_convert.hpp"

namespace runicorn {

Json::Json(const MetricValue& v) {
    switch (v.kind()) {
        case MetricValue::Kind::kNull:
            break;
        case MetricValue::Kind::kF64:
            kind_ = Kind::kF64;
            f_ = v.as_f64();
            break;
        case MetricValue::Kind::kI64:
            kind_ = Kind::kI64;
            i_ = v.as_i64();
            break;
        case MetricValue::Kind::kBoolean:
            kind_ = Kind::kBoolean;
            b_ = v.as_bool();
            break;
        case MetricValue::Kind::kString:
            kind_ = Kind::kString;
            s_ = std::string(v.as_string());
            break;
    }
}

Json Json::array(std::initializer_list<Json> items) { return array(std::vector<Json>(items)); }

Json Json::array(std::vector<Json> items) {
    Json j;
    j.kind_ = Kind::kArray;
    j.items_ = std::move(items);
    return j;
}

Json Json::object() {
    Json j;
    j.kind_ = Kind::kObject;
    return j;
}

Json Json::object(std::initializer_list<JsonMember> members) {
    Json j = object();
    for (const JsonMember& m : members) {
        j.set(m.key, m.value);
    }
    return j;
}

namespace {

// Non-finite tokens are parsed as these strings, then turned into numbers (a JSON text can only
// produce them through a \u0000 escape, which no real key or value of a run's files carries).
constexpr std::string_view kNanMarker = "\\u0000runicorn:NaN";
constexpr std::string_view kInfMarker = "\\u0000runicorn:Infinity";
constexpr std::string_view kNegInfMarker = "\\u0000runicorn:-Infinity";

/// `text` with NaN, Infinity and -Infinity outside strings replaced by marker strings; nullopt
/// when it holds none.
std::optional<std::string> mark_non_finite(std::string_view text) {
    std::string out;
    bool changed = false;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            out.push_back(c);
            if (c == '\\' && i + 1 < text.size()) {
                out.push_back(text[++i]);
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
            out.push_back(c);
            continue;
        }
        const std::string_view rest = text.substr(i);
        std::string_view token;
        std::string_view marker;
        if (rest.starts_with("NaN")) {
            token = "NaN";
            marker = kNanMarker;
        } else if (rest.starts_with("Infinity")) {
            token = "Infinity";
            marker = kInfMarker;
        } else if (rest.starts_with("-Infinity")) {
            token = "-Infinity";
            marker = kNegInfMarker;
        }
        if (token.empty()) {
            out.push_back(c);
            continue;
        }
        out += '"';
        out += marker;
        out += '"';
        i += token.size() - 1;
        changed = true;
    }
    if (!changed) {
        return std::nullopt;
    }
    return out;
}

/// Turns the marker strings of mark_non_finite() back into numbers, everywhere in `v`.
void unmark_non_finite(boost::json::value& v) {
    if (v.is_string()) {
        const std::string_view s = v.get_string();
        if (!s.empty() && s.front() == '\0') {
            if (s == std::string_view("\0runicorn:NaN", 13)) {
                v = std::numeric_limits<double>::quiet_NaN();
            } else if (s == std::string_view("\0runicorn:Infinity", 18)) {
                v = std::numeric_limits<double>::infinity();
            } else if (s == std::string_view("\0runicorn:-Infinity", 19)) {
                v = -std::numeric_limits<double>::infinity();
            }
        }
    } else if (v.is_array()) {
        for (auto& e : v.get_array()) {
            unmark_non_finite(e);
        }
    } else if (v.is_object()) {
        for (auto& kv : v.get_object()) {
            unmark_non_finite(kv.value());
        }
    }
}

}  // namespace

Result<Json> Json::parse(std::string_view text) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    if (ec) {
        if (const auto marked = mark_non_finite(text)) {
            boost::system::error_code ec_marked;
            boost::json::value w = boost::json::parse(*marked, ec_marked);
            if (!ec_marked) {
                unmark_non_finite(w);
                return sdk::from_boost(w);
            }
        }
        // Report the line and column of the failure: boost::json stops where the text went wrong,
        // so parse the prefix again with a stream parser to find the offset.
        std::size_t line = 1;
        std::size_t col = 1;
        boost::json::stream_parser p;
        boost::system::error_code ec2;
        const std::size_t used = p.write_some(text.data(), text.size(), ec2);
        for (std::size_t i = 0; i < used && i < text.size(); ++i) {
            if (text[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        return Status::invalid_argument("invalid JSON: line " + std::to_string(line) + ", column " +
                                        std::to_string(col) + ": " + ec.message());
    }
    return sdk::from_boost(v);
}

std::int64_t Json::as_i64() const noexcept {
    if (kind_ == Kind::kI64) {
        return i_;
    }
    if (kind_ == Kind::kF64 && f_ == f_ && f_ >= -9.2e18 && f_ <= 9.2e18) {
        return static_cast<std::int64_t>(f_);
    }
    return 0;
}

double Json::as_f64() const noexcept {
    if (kind_ == Kind::kF64) {
        return f_;
    }
    if (kind_ == Kind::kI64) {
        return static_cast<double>(i_);
    }
    return 0.0;
}

const Json* Json::find(std::string_view key) const noexcept {
    if (kind_ != Kind::kObject) {
        return nullptr;
    }
    for (std::size_t i = keys_.size(); i-- > 0;) {
        if (keys_[i] == key) {
            return &items_[i];
        }
    }
    return nullptr;
}

Json& Json::set(std::string_view key, Json value) {
    if (kind_ == Kind::kNull) {
        kind_ = Kind::kObject;
    }
    if (kind_ != Kind::kObject) {
        return *this;
    }
    for (std::size_t i = 0; i < keys_.size(); ++i) {
        if (keys_[i] == key) {
            items_[i] = std::move(value);
            return *this;
        }
    }
    keys_.emplace_back(key);
    items_.push_back(std::move(value));
    return *this;
}

Json& Json::push_back(Json value) {
    if (kind_ == Kind::kNull) {
        kind_ = Kind::kArray;
    }
    if (kind_ == Kind::kArray) {
        items_.push_back(std::move(value));
    }
    return *this;
}

namespace {

void dump_to(std::string& out, const Json& j) {
    switch (j.kind()) {
        case Json::Kind::kNull:
            out += "null";
            break;
        case Json::Kind::kBoolean:
            out += j.as_bool() ? "true" : "false";
            break;
        case Json::Kind::kI64:
            sdk::append_int(out, j.as_i64());
            break;
        case Json::Kind::kF64:
            sdk::append_double(out, j.as_f64());
            break;
        case Json::Kind::kString:
            sdk::append_json_string(out, j.as_string());
            break;
        case Json::Kind::kArray: {
            out += '[';
            bool first = true;
            for (const Json& item : j.items()) {
                if (!first) {
                    out += ',';
                }
                first = false;
                dump_to(out, item);
            }
            out += ']';
            break;
        }
        case Json::Kind::kObject: {
            out += '{';
            for (std::size_t i = 0; i < j.keys().size(); ++i) {
                if (i > 0) {
                    out += ',';
                }
                sdk::append_json_string(out, j.keys()[i]);
                out += ':';
                dump_to(out, j.items()[i]);
            }
            out += '}';
            break;
        }
    }
}

}  // namespace

std::string Json::dump() const {
    std::string out;
    dump_to(out, *this);
    return out;
}

bool operator==(const Json& a, const Json& b) noexcept {
    if (a.kind_ != b.kind_) {
        return false;
    }
    switch (a.kind_) {
        case Json::Kind::kNull:
            return true;
        case Json::Kind::kBoolean:
            return a.b_ == b.b_;
        case Json::Kind::kI64:
            return a.i_ == b.i_;
        case Json::Kind::kF64:
            return a.f_ == b.f_ || (a.f_ != a.f_ && b.f_ != b.f_);
        case Json::Kind::kString:
            return a.s_ == b.s_;
        case Json::Kind::kArray:
            return a.items_ == b.items_;
        case Json::Kind::kObject:
            return a.keys_ == b.keys_ && a.items_ == b.items_;
    }
    return false;
}

namespace sdk {

boost::json::value to_boost(const Json& j) {
    switch (j.kind()) {
        case Json::Kind::kNull:
            return nullptr;
        case Json::Kind::kBoolean:
            return j.as_bool();
        case Json::Kind::kI64:
            return j.as_i64();
        case Json::Kind::kF64:
            return j.as_f64();
        case Json::Kind::kString:
            return boost::json::string(j.as_string());
        case Json::Kind::kArray: {
            boost::json::array a;
            a.reserve(j.size());
            for (const Json& item : j.items()) {
                a.push_back(to_boost(item));
            }
            return a;
        }
        case Json::Kind::kObject: {
            boost::json::object o;
            for (std::size_t i = 0; i < j.keys().size(); ++i) {
                o[j.keys()[i]] = to_boost(j.items()[i]);
            }
            return o;
        }
    }
    return nullptr;
}

Json from_boost(const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::null:
            return nullptr;
        case boost::json::kind::bool_:
            return v.get_bool();
        case boost::json::kind::int64:
            return v.get_int64();
        case boost::json::kind::uint64:
            return v.get_uint64();
        case boost::json::kind::double_:
            return v.get_double();
        case boost::json::kind::string:
            return std::string(v.get_string());
        case boost::json::kind::array: {
            std::vector<Json> items;
            items.reserve(v.get_array().size());
            for (const auto& item : v.get_array()) {
                items.push_back(from_boost(item));
            }
            return Json::array(std::move(items));
        }
        case boost::json::kind::object: {
            Json o = Json::object();
            for (const auto& kv : v.get_object()) {
                o.set(kv.key(), from_boost(kv.value()));
            }
            return o;
        }
    }
    return nullptr;
}

}  // namespace sdk
}  // namespace runicorn
