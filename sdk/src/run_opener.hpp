#pragma once

#include <filesystem>
#include <memory>

#include <runicorn/plugin/artifact_store.hpp>
#include <runicorn/plugin/blob_store.hpp>
#include <runicorn/plugin/run_store.hpp>
#include <runicorn/result.hpp>

namespace runicorn::sdk {

/// The part of the run store the SDK uses: its root and open_run. The plugin's RunStore is
/// adapted to it (store_opener); tests and the benchmark implement it directly, so they do not
/// follow every addition to RunStore.
/// Thread safety: implementations are safe for concurrent use.
class RunOpener {
public:
    virtual ~RunOpener() = default;
    RunOpener(const RunOpener&) = delete;
    RunOpener& operator=(const RunOpener&) = delete;
    RunOpener(RunOpener&&) = delete;
    RunOpener& operator=(RunOpener&&) = delete;

    /// The storage root the runs go to.
    virtual std::filesystem::path root() const = 0;
    /// As RunStore::open_run.
    virtual Result<std::shared_ptr<plugin::RunWriter>> open_run(
        const plugin::RunCreateOptions& options) const = 0;
    /// The content-addressed blob store of the same root (the dedup plugin), or nullptr when it
    /// is not loaded: archive copies (datasets, pretrained, outputs, code snapshots) then warn.
    virtual std::shared_ptr<plugin::BlobStore> blob_store() const { return nullptr; }
    /// The artifact store of the same root (the dedup plugin), or nullptr when it is not loaded.
    virtual std::shared_ptr<plugin::ArtifactStore> artifact_store() const { return nullptr; }

protected:
    RunOpener() = default;
};

/// Adapts a plugin's RunStore (kept alive by the result), with the dedup plugin's services when
/// given (either may be nullptr).
std::shared_ptr<RunOpener> store_opener(std::shared_ptr<plugin::RunStore> store,
                                        std::shared_ptr<plugin::BlobStore> blobs = nullptr,
                                        std::shared_ptr<plugin::ArtifactStore> artifacts = nullptr);

}  // namespace runicorn::sdk
