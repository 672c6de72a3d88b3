#include "api_json.hpp"

#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace runicorn::http_plugin::api {
namespace {

/// Rewrites NaN, Infinity and -Infinity outside strings to null so Boost.JSON can parse the text.
std::string neutralise_non_finite(std::string_view text) {
    std::string out;
    out.reserve(text.size());
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
        if (rest.starts_with("NaN")) {
            out += "null";
            i += 2;
        } else if (rest.starts_with("-Infinity")) {
            out += "null";
            i += 8;
        } else if (rest.starts_with("Infinity")) {
            out += "null";
            i += 7;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

void indent(std::string& out, int level) { out.append(static_cast<std::size_t>(level) * 2, ' '); }

void pretty(const boost::json::value& v, std::string& out, int level) {
    if (const auto* obj = v.if_object()) {
        if (obj->empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        bool first = true;
        for (const auto& kv : *obj) {
            if (!first) {
                out += ",\n";
            }
            first = false;
            indent(out, level + 1);
            out += boost::json::serialize(boost::json::value(kv.key()));
            out += ": ";
            pretty(kv.value(), out, level + 1);
        }
        out += "\n";
        indent(out, level);
        out += "}";
    } else if (const auto* arr = v.if_array()) {
        if (arr->empty()) {
            out += "[]";
            return;
        }
        out += "[\n";
        bool first = true;
        for (const auto& item : *arr) {
            if (!first) {
                out += ",\n";
            }
            first = false;
            indent(out, level + 1);
            pretty(item, out, level + 1);
        }
        out += "\n";
        indent(out, level);
        out += "]";
    } else {
        out += boost::json::serialize(v);
    }
}

}  // namespace

void null_non_finite(boost::json::value& value) {
    std::vector<boost::json::value*> stack{&value};
    while (!stack.empty()) {
        boost::json::value* cur = stack.back();
        stack.pop_back();
        if (auto* d = cur->if_double()) {
            if (!std::isfinite(*d)) {
                *cur = nullptr;
            }
        } else if (auto* obj = cur->if_object()) {
            for (auto& kv : *obj) {
                stack.push_back(&kv.value());
            }
        } else if (auto* arr = cur->if_array()) {
            for (auto& item : *arr) {
                stack.push_back(&item);
            }
        }
    }
}

boost::json::value compat_number(std::optional<double> number) {
    if (!number || !std::isfinite(*number)) {
        return nullptr;
    }
    return *number;
}

std::optional<boost::json::value> parse_tolerant_json(std::string_view text) {
    if (text.starts_with("\xEF\xBB\xBF")) {
        text.remove_prefix(3);
    }
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    if (!ec) {
        return v;
    }
    const std::string fixed = neutralise_non_finite(text);
    ec.clear();
    v = boost::json::parse(fixed, ec);
    if (ec) {
        return std::nullopt;
    }
    return v;
}

std::optional<boost::json::value> read_json_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) {
        return std::nullopt;
    }
    return parse_tolerant_json(buffer.str());
}

std::string pretty_json(const boost::json::value& value) {
    std::string out;
    pretty(value, out, 0);
    out += "\n";
    return out;
}

}  // namespace runicorn::http_plugin::api
