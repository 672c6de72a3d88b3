#include <memory>

#include <spdlog/logger.h>

#include <runicorn/plugin/artifact_store.hpp>
#include <runicorn/plugin/blob_store.hpp>
#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/plugin/plugin.hpp>

#include "folder_artifact_store.hpp"
#include "hardlink_blob_store.hpp"
#include "routes/dedup_routes.hpp"
#include "routes/job_registry.hpp"

namespace runicorn::dedup {
namespace {

/// Registers the blob store over archive/ and the artifact store over artifacts/ in the storage
/// root, and, when the HTTP plugin is loaded, their routes (API.md §4.5, §4.6).
/// Thread safety: externally synchronized (the kernel calls it from one thread).
class DedupPlugin final : public plugin::Plugin {
public:
    Status init(plugin::PluginContext& ctx) override {
        HardlinkBlobStore::Options options;
        options.logger = ctx.logger();
        auto blobs = std::make_shared<HardlinkBlobStore>(ctx.storage_root(), std::move(options));
        auto artifacts = std::make_shared<FolderArtifactStore>(ctx.storage_root(), blobs);
        RUNICORN_RETURN_IF_ERROR(ctx.provide<plugin::BlobStore>(blobs));
        RUNICORN_RETURN_IF_ERROR(ctx.provide<plugin::ArtifactStore>(artifacts));
        // The routes are optional: without the HTTP plugin the stores still work.
        if (auto routes = ctx.find<plugin::HttpRoutes>()) {
            jobs_ = std::make_shared<JobRegistry>();
            if (auto s = register_dedup_routes(*routes, blobs, artifacts, jobs_); !s.is_ok()) {
                ctx.logger()->warn("dedup: some HTTP routes were not registered: {}", s.message());
            }
        }
        return Status::ok();
    }
    Status start() override { return Status::ok(); }
    void stop() noexcept override {
        if (jobs_) {
            jobs_->stop();  // running maintenance jobs finish before the library goes
        }
    }

private:
    std::shared_ptr<JobRegistry> jobs_;
};

}  // namespace
}  // namespace runicorn::dedup

RUNICORN_DECLARE_PLUGIN(runicorn::dedup::DedupPlugin)
