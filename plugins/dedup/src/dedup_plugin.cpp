#include <memory>

#include <runicorn/plugin/blob_store.hpp>
#include <runicorn/plugin/plugin.hpp>

#include "blob_layout.hpp"

namespace runicorn::dedup {
namespace {

/// The blob store over archive/blobs in the storage root. Thread safety: safe for concurrent use.
class HardlinkBlobStore final : public plugin::BlobStore {
public:
    explicit HardlinkBlobStore(std::filesystem::path root) : root_(std::move(root)) {}

    Result<std::filesystem::path> blob_path(std::string_view sha256) const override {
        return dedup::blob_path(root_, sha256);
    }
    Result<bool> contains(std::string_view sha256) const override {
        RUNICORN_ASSIGN_OR_RETURN(auto p, dedup::blob_path(root_, sha256));
        std::error_code ec;
        return std::filesystem::is_regular_file(p, ec);
    }
    Result<plugin::BlobStats> stats() const override { return blob_stats(root_); }

private:
    std::filesystem::path root_;
};

class DedupPlugin final : public plugin::Plugin {
public:
    Status init(plugin::PluginContext& ctx) override {
        return ctx.provide<plugin::BlobStore>(
            std::make_shared<HardlinkBlobStore>(ctx.storage_root()));
    }
    Status start() override { return Status::ok(); }
    void stop() noexcept override {}
};

}  // namespace
}  // namespace runicorn::dedup

RUNICORN_DECLARE_PLUGIN(runicorn::dedup::DedupPlugin)
