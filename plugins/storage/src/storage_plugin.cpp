#include <memory>

#include <runicorn/plugin/plugin.hpp>
#include <runicorn/plugin/run_store.hpp>

#include "run_discovery.hpp"

namespace runicorn::storage {
namespace {

/// The run store over plain run folders. Thread safety: safe for concurrent use (stateless
/// reads of the file system).
class FolderRunStore final : public plugin::RunStore {
public:
    FolderRunStore(std::filesystem::path root, std::shared_ptr<spdlog::logger> log)
        : root_(std::move(root)), log_(std::move(log)) {}

    std::filesystem::path root() const override { return root_; }
    Result<std::vector<plugin::RunLocation>> discover_runs(bool include_deleted) const override {
        return storage::discover_runs(root_, include_deleted, log_.get());
    }

private:
    std::filesystem::path root_;
    std::shared_ptr<spdlog::logger> log_;
};

class StoragePlugin final : public plugin::Plugin {
public:
    Status init(plugin::PluginContext& ctx) override {
        return ctx.provide<plugin::RunStore>(
            std::make_shared<FolderRunStore>(ctx.storage_root(), ctx.logger()));
    }
    Status start() override { return Status::ok(); }
    void stop() noexcept override {}
};

}  // namespace
}  // namespace runicorn::storage

RUNICORN_DECLARE_PLUGIN(runicorn::storage::StoragePlugin)
