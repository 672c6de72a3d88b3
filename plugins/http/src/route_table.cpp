#include "route_table.hpp"

#include <utility>

namespace runicorn::http_plugin {

Status RouteTable::add_route(plugin::RouteSpec spec,
                             std::shared_ptr<plugin::RouteHandler> handler) {
    const std::unique_lock lock(mutex_);
    return router_.add(std::move(spec), std::move(handler));
}

std::string RouteTable::base_url() const {
    const std::shared_lock lock(mutex_);
    return base_url_;
}

void RouteTable::set_base_url(std::string url) {
    const std::unique_lock lock(mutex_);
    base_url_ = std::move(url);
}

void RouteTable::set_locales(std::shared_ptr<const plugin::Locales> locales) {
    const std::unique_lock lock(mutex_);
    locales_ = std::move(locales);
}

std::shared_ptr<const plugin::Locales> RouteTable::locales() const {
    const std::shared_lock lock(mutex_);
    return locales_;
}

RouteMatch RouteTable::match(std::string_view method,
                             const std::vector<std::string>& segments) const {
    const std::shared_lock lock(mutex_);
    return router_.match(method, segments);
}

std::vector<plugin::RouteSpec> RouteTable::routes() const {
    const std::shared_lock lock(mutex_);
    return router_.routes();
}

void RouteTable::clear() noexcept {
    const std::unique_lock lock(mutex_);
    router_.clear();
    locales_.reset();
}

}  // namespace runicorn::http_plugin
