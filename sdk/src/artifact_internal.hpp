#pragma once

// Internals of the SDK's artifacts (artifact.cpp): the state behind ArtifactVersion and the
// functions the C ABI and the Run methods share. Not part of the public API.

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <runicorn/artifact.hpp>
#include <runicorn/plugin/artifact_store.hpp>

#include "run_opener.hpp"

namespace runicorn::sdk {

/// A resolved version: version.json as read, plus the store that serves its files.
/// Thread safety: everything is immutable after construction except `aliases`, guarded by `mu`.
struct ArtifactVersionState {
    /// Keeps the plugin host's services (and their library) alive.
    std::shared_ptr<RunOpener> opener;
    std::shared_ptr<plugin::ArtifactStore> store;
    std::filesystem::path storage_root;
    std::string name;
    std::string type;
    int version = 0;
    std::string digest;
    double created_at = 0;
    std::string description;
    Json metadata = Json::object();
    std::uint64_t file_count = 0;
    std::uint64_t total_size_bytes = 0;
    std::optional<ArtifactProducer> produced_by;
    bool latest = false;
    bool deduplicated = false;

    mutable std::mutex mu;
    std::vector<std::string> aliases;  // guarded by mu
};

/// Access to ArtifactVersion internals for the C ABI and tests.
struct ArtifactAccess {
    static ArtifactVersion make(std::shared_ptr<ArtifactVersionState> state) noexcept {
        return ArtifactVersion(std::move(state));
    }
    static const std::shared_ptr<ArtifactVersionState>& state(const ArtifactVersion& v) noexcept {
        return v.state_;
    }
};

/// The ArtifactVersion for a version the store returned, served by `opener`'s artifact store.
ArtifactVersion make_artifact_version(std::shared_ptr<RunOpener> opener,
                                      std::shared_ptr<plugin::ArtifactStore> store,
                                      const plugin::ArtifactVersionInfo& info);

/// The artifact store of `opener`, or UNAVAILABLE naming `what` when the dedup plugin is not
/// loaded (or `opener` is null).
Result<std::shared_ptr<plugin::ArtifactStore>> artifact_store_of(const RunOpener* opener,
                                                                 std::string_view what);

}  // namespace runicorn::sdk
