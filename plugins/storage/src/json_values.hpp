#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace runicorn::storage {

/// Typed, tolerant look-ups in a JSON object read from disk (FORMAT.md G4, G6): a missing key or
/// a value of the wrong type gives nullopt, never an exception.

/// The string at `key`.
inline std::optional<std::string> json_string(const boost::json::object& obj,
                                              std::string_view key) {
    const auto* v = obj.if_contains(key);
    if (v == nullptr || !v->is_string()) {
        return std::nullopt;
    }
    return std::string(v->get_string());
}

/// Any number as a double (integers converted).
inline std::optional<double> json_to_number(const boost::json::value& v) {
    if (v.is_double()) {
        return v.get_double();
    }
    if (v.is_int64()) {
        return static_cast<double>(v.get_int64());
    }
    if (v.is_uint64()) {
        return static_cast<double>(v.get_uint64());
    }
    return std::nullopt;
}

/// An integer, also from an integral double within int64 range ("3.0" → 3).
inline std::optional<std::int64_t> json_to_int(const boost::json::value& v) {
    if (v.is_int64()) {
        return v.get_int64();
    }
    if (v.is_uint64()) {
        const auto u = v.get_uint64();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(u);
    }
    if (v.is_double()) {
        const double d = v.get_double();
        // 2^63 is exactly representable; anything at or above it does not fit.
        if (std::isfinite(d) && d == std::trunc(d) && d >= -9223372036854775808.0 &&
            d < 9223372036854775808.0) {
            return static_cast<std::int64_t>(d);
        }
    }
    return std::nullopt;
}

inline std::optional<double> json_number(const boost::json::object& obj, std::string_view key) {
    const auto* v = obj.if_contains(key);
    return v == nullptr ? std::nullopt : json_to_number(*v);
}

inline std::optional<std::int64_t> json_int(const boost::json::object& obj, std::string_view key) {
    const auto* v = obj.if_contains(key);
    return v == nullptr ? std::nullopt : json_to_int(*v);
}

}  // namespace runicorn::storage
