#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace runicorn::storage::catalog {

/// JSON text for the catalog's JSON columns that SQLite's JSON functions accept whatever the value
/// holds: ±Infinity is written as ±1e999 (both SQLite and Boost.JSON read it back as ±Infinity),
/// and NaN as the marker object {"$runicorn_nan":true}, so that every typed comparison with it in
/// a filter is false (API.md §4.2) and the row stays valid JSON.
std::string to_catalog_json(const boost::json::value& value);

/// Parses text written by to_catalog_json(), turning NaN markers back into NaN. nullopt when the
/// text does not parse.
std::optional<boost::json::value> from_catalog_json(std::string_view text);

}  // namespace runicorn::storage::catalog
