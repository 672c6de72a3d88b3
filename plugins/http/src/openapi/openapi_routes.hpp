#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

#include "../route_table.hpp"

namespace runicorn::http_plugin {

/// The OpenAPI 3.1 document of `routes` (API.md §4.9): one path item per pattern (`:name` becomes
/// `{name}` with a required path parameter), one operation per method with summary, tags (the
/// spec's, else the first segment after /api), parameters, the success response schema, and
/// `x-runicorn-compat`; stream routes carry `x-runicorn-stream: {"protocol": "websocket"|"sse"}`.
/// A schema text that is not valid JSON is left out.
boost::json::object openapi_document(const std::vector<plugin::RouteSpec>& routes,
                                     const std::string& version);

/// Adds GET /openapi.json (generated from the live route table on each request), GET /docs (an
/// offline HTML page; its script GET /docs/docs.js renders the document with plain DOM calls, no
/// CDN, nothing inline, so the CSP holds) and GET /redoc (301 to /docs). The handlers hold `table`
/// weakly.
Status add_openapi_routes(const std::shared_ptr<RouteTable>& table, std::string version);

}  // namespace runicorn::http_plugin
