#pragma once

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/plugin/locales.hpp>
#include <runicorn/status.hpp>

#include "http_router.hpp"

namespace runicorn::http_plugin {

/// The runicorn.http_routes/1 service: a Router behind a reader/writer lock, plus the base URL the
/// server publishes once it listens. Routes may be added at any time; a request sees the table as
/// it was when it was matched.
///
/// Thread safety: safe for concurrent use.
class RouteTable final : public plugin::HttpRoutes {
public:
    RouteTable() = default;
    ~RouteTable() override = default;
    RouteTable(const RouteTable&) = delete;
    RouteTable& operator=(const RouteTable&) = delete;
    RouteTable(RouteTable&&) = delete;
    RouteTable& operator=(RouteTable&&) = delete;

    /// See Router::add.
    Status add_route(plugin::RouteSpec spec,
                     std::shared_ptr<plugin::RouteHandler> handler) override;
    /// "" until set_base_url() is called with the listening address.
    std::string base_url() const override;

    /// Keeps the locales service for error_locale.hpp (released by clear()).
    void set_locales(std::shared_ptr<const plugin::Locales> locales) override;
    /// The locales service, or null when the i18n plugin did not hand one over.
    std::shared_ptr<const plugin::Locales> locales() const;

    /// Publishes the server's address ("" when it stops listening).
    void set_base_url(std::string url);
    /// See Router::match.
    RouteMatch match(std::string_view method, const std::vector<std::string>& segments) const;
    /// See Router::routes.
    std::vector<plugin::RouteSpec> routes() const;
    /// Drops every route and its handler (at shutdown, so other plugins' code can be unloaded).
    void clear() noexcept;

private:
    mutable std::shared_mutex mutex_;
    Router router_;
    std::string base_url_;
    std::shared_ptr<const plugin::Locales> locales_;
};

}  // namespace runicorn::http_plugin
