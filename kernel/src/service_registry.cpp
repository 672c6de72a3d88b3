#include "service_registry.hpp"

#include <vector>

#include "manifest.hpp"

namespace runicorn::kernel {

Status ServiceRegistry::add(std::string_view id, std::string_view provider,
                            std::shared_ptr<void> service) {
    if (!is_valid_service_id(id)) {
        return Status::invalid_argument("'" + std::string(id) +
                                        "' is not a service id like 'runicorn.run_store/1'");
    }
    if (service == nullptr) {
        return Status::invalid_argument("service '" + std::string(id) + "' is null");
    }
    std::lock_guard lock(mu_);
    auto it = services_.find(id);
    if (it != services_.end()) {
        return Status::already_exists("service '" + std::string(id) +
                                      "' is already registered by plugin '" + it->second.provider +
                                      "'");
    }
    services_.emplace(std::string(id), Entry{std::string(provider), std::move(service)});
    return Status::ok();
}

std::shared_ptr<void> ServiceRegistry::find(std::string_view id) const {
    std::lock_guard lock(mu_);
    auto it = services_.find(id);
    return it == services_.end() ? nullptr : it->second.service;
}

std::string ServiceRegistry::provider_of(std::string_view id) const {
    std::lock_guard lock(mu_);
    auto it = services_.find(id);
    return it == services_.end() ? std::string() : it->second.provider;
}

void ServiceRegistry::remove_provider(std::string_view provider) {
    std::vector<std::shared_ptr<void>> doomed;  // released outside the lock
    {
        std::lock_guard lock(mu_);
        for (auto it = services_.begin(); it != services_.end();) {
            if (it->second.provider == provider) {
                doomed.push_back(std::move(it->second.service));
                it = services_.erase(it);
            } else {
                ++it;
            }
        }
    }
}

void ServiceRegistry::clear() {
    std::map<std::string, Entry, std::less<>> doomed;
    {
        std::lock_guard lock(mu_);
        doomed.swap(services_);
    }
}

}  // namespace runicorn::kernel
