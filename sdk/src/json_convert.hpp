#pragma once

#include <boost/json/value.hpp>

#include <runicorn/runicorn.hpp>

namespace runicorn::sdk {

/// The Boost.JSON form of a Json value (for the run store's merge_json).
boost::json::value to_boost(const Json& j);
/// The Json form of a Boost.JSON value; uint64 above INT64_MAX becomes f64.
Json from_boost(const boost::json::value& v);

}  // namespace runicorn::sdk
