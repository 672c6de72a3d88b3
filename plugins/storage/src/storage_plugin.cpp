#include <memory>

#include <runicorn/plugin/plugin.hpp>
#include <runicorn/plugin/run_store.hpp>

#include "folder_run_store.hpp"

namespace runicorn::storage {
namespace {

/// Provides runicorn.run_store/1 over the storage root's run folders.
/// Thread safety: externally synchronized (lifecycle calls come from the kernel, one at a time).
class StoragePlugin final : public plugin::Plugin {
public:
    Status init(plugin::PluginContext& ctx) override {
        FolderRunStore::Options options;
        if (const auto* v = ctx.config().if_contains("check_liveness")) {
            if (!v->is_bool()) {
                return Status::invalid_argument(
                    "invalid setting '/check_liveness' of plugin 'storage': expected a boolean");
            }
            options.check_liveness = v->get_bool();
        }
        return ctx.provide<plugin::RunStore>(
            std::make_shared<FolderRunStore>(ctx.storage_root(), ctx.logger(), options));
    }
    Status start() override { return Status::ok(); }
    void stop() noexcept override {}
};

}  // namespace
}  // namespace runicorn::storage

RUNICORN_DECLARE_PLUGIN(runicorn::storage::StoragePlugin)
