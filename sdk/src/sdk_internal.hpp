#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <runicorn/plugin/run_store.hpp>
#include <runicorn/runicorn.hpp>

#include "run_core.hpp"
#include "run_opener.hpp"

namespace runicorn::sdk {

/// The state behind Run handles: owns the run's core for the user. When the last handle goes
/// (and finish_on_destroy), an unfinished run is finished as "finished". The background writer
/// keeps its own reference to the core until the run is closed.
/// Thread safety: safe for concurrent use.
class RunHandle {
public:
    /// `opener`: the store the run was opened through (its blob and artifact services serve
    /// log_artifact/use_artifact and archive copies); may be nullptr.
    explicit RunHandle(std::shared_ptr<RunCore> core, std::shared_ptr<RunOpener> opener = nullptr)
        : core_(std::move(core)), opener_(std::move(opener)) {}
    ~RunHandle();
    RunHandle(const RunHandle&) = delete;
    RunHandle& operator=(const RunHandle&) = delete;
    RunHandle(RunHandle&&) = delete;
    RunHandle& operator=(RunHandle&&) = delete;

    RunCore& core() const noexcept { return *core_; }
    const std::shared_ptr<RunCore>& core_ptr() const noexcept { return core_; }
    /// The store the run was opened through, or nullptr.
    const std::shared_ptr<RunOpener>& opener() const noexcept { return opener_; }

private:
    std::shared_ptr<RunCore> core_;
    std::shared_ptr<RunOpener> opener_;
};

/// Access to Run internals for the C ABI and tests.
struct RunAccess {
    static RunCore* core(const Run& run) noexcept {
        return run.handle_ ? &run.handle_->core() : nullptr;
    }
    static Run make(std::shared_ptr<RunHandle> handle) noexcept { return Run(std::move(handle)); }
    static const std::shared_ptr<RunHandle>& handle(const Run& run) noexcept { return run.handle_; }
};

/// What init uses instead of the plugin and the system clock, for tests. A null store and a null
/// clock restore the defaults. Not thread-safe against a concurrent init.
struct TestHooks {
    std::shared_ptr<RunOpener> store;
    Clock clock = nullptr;
};
void set_test_hooks(TestHooks hooks);

/// init with the writer tag of the calling layer: "cpp", "c" or "python" (meta.json "writer"),
/// and the Python version for meta.json "python" (nullopt writes null).
Result<Run> init_as(InitOptions options, std::string_view language,
                    const std::optional<std::string>& python_version = std::nullopt) noexcept;

/// Parses RUNICORN_ON / RUNICORN_MODE (SDK.md §1.8) from an environment lookup: false when
/// RUNICORN_ON is 0,false,no,n,off (any case) or RUNICORN_MODE is "disabled".
bool enabled_from_env(const std::function<std::optional<std::string>(const std::string&)>& env);

}  // namespace runicorn::sdk
