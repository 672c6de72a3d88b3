#pragma once

// One parsed events.jsonl line before it is committed to the columns (internal).

#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "series_data.hpp"

namespace runicorn::storage::series {

/// A value of `data`. Strings are decoded; their bytes live in the parser that made the record.
struct FieldValue {
    enum class Type : std::uint8_t { kNumber, kNull, kString, kOther };
    Type type = Type::kOther;
    PointKind kind = PointKind::kDouble;  ///< for kNumber
    double d = 0.0;                       ///< for kNumber
    std::int64_t i = 0;                   ///< for kNumber of kind kInt (exact)
    std::string_view s;                   ///< for kString
};

struct Field {
    std::string_view key;
    FieldValue v;
};

/// The envelope of one line (FORMAT.md §4.4); duplicate keys: the last occurrence wins (G7).
struct Record {
    bool is_metrics = false;
    bool data_is_object = false;
    double ts = std::numeric_limits<double>::quiet_NaN();
    std::vector<Field> fields;  ///< `data`, in order (duplicates included)

    void clear() {
        is_metrics = false;
        data_is_object = false;
        ts = std::numeric_limits<double>::quiet_NaN();
        fields.clear();
    }
};

}  // namespace runicorn::storage::series
