#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <runicorn/status.hpp>

namespace runicorn::kernel {

/// Services by versioned id ("runicorn.run_store/1"), each with the id of the plugin that provides
/// it. Registering an id twice is an error (Envoy's registry rule).
///
/// Thread safety: safe for concurrent use.
class ServiceRegistry {
public:
    ServiceRegistry() = default;
    ServiceRegistry(const ServiceRegistry&) = delete;
    ServiceRegistry& operator=(const ServiceRegistry&) = delete;
    ~ServiceRegistry() = default;
    ServiceRegistry(ServiceRegistry&&) = delete;
    ServiceRegistry& operator=(ServiceRegistry&&) = delete;

    /// ALREADY_EXISTS (naming the current provider) when `id` is taken; INVALID_ARGUMENT for a null
    /// service or a malformed id.
    Status add(std::string_view id, std::string_view provider, std::shared_ptr<void> service);
    /// The service, or nullptr.
    std::shared_ptr<void> find(std::string_view id) const;
    /// The plugin id providing `id`, or "" when none does.
    std::string provider_of(std::string_view id) const;
    /// Removes every service `provider` registered.
    void remove_provider(std::string_view provider);
    /// Removes everything (teardown).
    void clear();

private:
    struct Entry {
        std::string provider;
        std::shared_ptr<void> service;
    };
    mutable std::mutex mu_;
    std::map<std::string, Entry, std::less<>> services_;
};

}  // namespace runicorn::kernel
