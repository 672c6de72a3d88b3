#pragma once

#include <filesystem>
#include <memory>

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

protected:
    RunOpener() = default;
};

/// Adapts a plugin's RunStore (kept alive by the result).
std::shared_ptr<RunOpener> store_opener(std::shared_ptr<plugin::RunStore> store);

}  // namespace runicorn::sdk
