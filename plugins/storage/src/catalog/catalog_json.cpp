#include "catalog_json.hpp"

#include <cmath>
#include <limits>

#include <boost/json.hpp>

namespace runicorn::storage::catalog {
namespace json = boost::json;

namespace {

constexpr std::string_view kNanKey = "$runicorn_nan";

void write(const json::value& v, std::string& out) {
    switch (v.kind()) {
        case json::kind::object: {
            out.push_back('{');
            bool first = true;
            for (const auto& [key, item] : v.get_object()) {
                if (!first) {
                    out.push_back(',');
                }
                first = false;
                out += json::serialize(json::string_view(key));
                out.push_back(':');
                write(item, out);
            }
            out.push_back('}');
            return;
        }
        case json::kind::array: {
            out.push_back('[');
            bool first = true;
            for (const auto& item : v.get_array()) {
                if (!first) {
                    out.push_back(',');
                }
                first = false;
                write(item, out);
            }
            out.push_back(']');
            return;
        }
        case json::kind::double_: {
            const double d = v.get_double();
            if (std::isnan(d)) {
                out += "{\"";
                out += kNanKey;
                out += "\":true}";
            } else if (std::isinf(d)) {
                out += d > 0 ? "1e999" : "-1e999";
            } else {
                out += json::serialize(v);
            }
            return;
        }
        default:
            out += json::serialize(v);
            return;
    }
}

bool is_nan_marker(const json::object& o) { return o.size() == 1 && o.begin()->key() == kNanKey; }

void restore(json::value& v) {
    if (auto* o = v.if_object()) {
        if (is_nan_marker(*o)) {
            v = std::numeric_limits<double>::quiet_NaN();
            return;
        }
        for (auto& item : *o) {
            restore(item.value());
        }
    } else if (auto* a = v.if_array()) {
        for (auto& item : *a) {
            restore(item);
        }
    }
}

}  // namespace

std::string to_catalog_json(const json::value& value) {
    std::string out;
    write(value, out);
    return out;
}

std::optional<json::value> from_catalog_json(std::string_view text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec) {
        return std::nullopt;
    }
    // Most rows hold no NaN: skip the walk unless the marker's name occurs at all.
    if (text.find(kNanKey) != std::string_view::npos) {
        restore(v);
    }
    return v;
}

}  // namespace runicorn::storage::catalog
