#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/plugin/run_store.hpp>

#include "run_json.hpp"

namespace runicorn::http_plugin::api {

/// GET /api/runs parameters (API.md §4.1) turned into a store query.
struct RunListParams {
    plugin::RunQuery query;
    ItemIncludes includes;
};

/// Parses limit, cursor, sort, order, status, path, exact, tags, q, deleted, include and count.
/// A malformed value (limit outside 1..1000 or not an integer, unknown order, deleted, include
/// entry or sort key, a bad boolean) gives a 422 list-form error. `sort=metric.<key>.last|min|max`
/// takes the key up to the last dot; the pseudo-status `crashed` goes to the store as given
/// (RunQuery::statuses). `path=/` selects root-path runs. `q` is passed to the store as
/// RunQuery::filter unchecked (the store reports a bad expression).
/// Returns the error response, or nullopt with `out` filled.
std::optional<plugin::HttpResponse> parse_run_list_params(const plugin::HttpRequest& request,
                                                          RunListParams& out);

/// Splits a comma list, trimming blanks and dropping empty entries.
std::vector<std::string> split_comma_list(std::string_view text);

/// Percent-encodes a query component (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view text);

/// `path` with the query list `query` re-encoded, `cursor` replaced by `cursor` (for Link).
std::string link_with_cursor(std::string_view path, const plugin::HeaderList& query,
                             std::string_view cursor);

}  // namespace runicorn::http_plugin::api
