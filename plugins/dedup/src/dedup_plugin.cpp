#include <memory>

#include <runicorn/plugin/blob_store.hpp>
#include <runicorn/plugin/plugin.hpp>

#include "hardlink_blob_store.hpp"

namespace runicorn::dedup {
namespace {

/// Registers the blob store over archive/ in the storage root.
/// Thread safety: externally synchronized (the kernel calls it from one thread).
class DedupPlugin final : public plugin::Plugin {
public:
    Status init(plugin::PluginContext& ctx) override {
        HardlinkBlobStore::Options options;
        options.logger = ctx.logger();
        return ctx.provide<plugin::BlobStore>(
            std::make_shared<HardlinkBlobStore>(ctx.storage_root(), std::move(options)));
    }
    Status start() override { return Status::ok(); }
    void stop() noexcept override {}
};

}  // namespace
}  // namespace runicorn::dedup

RUNICORN_DECLARE_PLUGIN(runicorn::dedup::DedupPlugin)
