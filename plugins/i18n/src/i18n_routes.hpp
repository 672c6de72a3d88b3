#pragma once

#include <functional>
#include <memory>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/plugin/locales.hpp>
#include <runicorn/status.hpp>

#include "locale_catalog.hpp"

namespace runicorn::i18n {

/// Registers GET /api/i18n/locales and GET /api/i18n/:locale (API.md §4.8). `catalogs` returns
/// the catalogs behind `locales`; both must outlive the routes (the route handlers hold them).
Status add_i18n_routes(plugin::HttpRoutes& routes, std::shared_ptr<const plugin::Locales> locales,
                       std::function<const CatalogSet&()> catalogs);

/// The locales listing for a request: {"default", "negotiated", "locales": [...]}.
boost::json::object locales_body(const plugin::Locales& locales,
                                 const plugin::HttpRequest& request);

/// The catalog response for GET /api/i18n/:locale: 200 with {"locale", "fallback", "version",
/// "messages"} and an ETag, or 304 when If-None-Match names the same version.
plugin::HttpResponse catalog_response(const CatalogSet& catalogs,
                                      const plugin::HttpRequest& request);

}  // namespace runicorn::i18n
