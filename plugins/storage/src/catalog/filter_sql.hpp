#pragma once

#include <string>
#include <vector>

#include <runicorn/filter/filter.hpp>
#include <runicorn/result.hpp>

#include "sqlite_db.hpp"

namespace runicorn::storage::catalog {

/// A piece of SQL and the values of its `?` parameters, in order.
struct SqlFragment {
    std::string sql;
    std::vector<SqlValue> params;
};

/// Compiles a parsed filter (API.md §4.2) to a boolean SQL expression over the catalog's `runs`
/// table that is never NULL, so NOT over a missing field is true. Every literal, name and key is
/// a bound parameter; only fixed SQL text is written into `sql`. `now` is the epoch time NOW
/// stands for. An expression without a root compiles to "1". metric.<key>.<stat> reads the
/// run_metric_keys table, last_step the runs column. Fails with the filter::Error::to_status() of
/// a FILTER_FIELD error for a metric field without a known statistic.
Result<SqlFragment> compile_filter(const filter::Expression& expression, double now);

/// The SQLite JSON path of `keys` below the root object, each key quoted: $."a"."b/c".
std::string json_path(const std::vector<std::string>& keys);

}  // namespace runicorn::storage::catalog
