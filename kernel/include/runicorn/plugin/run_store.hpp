#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <runicorn/export.hpp>
#include <runicorn/result.hpp>

namespace runicorn::plugin {

/// A run folder found under the storage root (FORMAT.md §2.2).
struct RunLocation {
    std::string run_id;  ///< The run folder's name.
    std::optional<std::string>
        path;                   ///< Segments between runs/ and the folder; nullopt at the top.
    std::filesystem::path dir;  ///< Absolute run folder.
    bool legacy = false;        ///< Found in the v0.2–v0.5 <project>/<name>/runs/ layout.
    bool deleted = false;       ///< Holds a `.deleted` marker (soft-deleted).
};

/// The run store: run folders under the storage root, as Runicorn v0.6 lays them out.
/// Thread safety: safe for concurrent use.
class RUNICORN_PLUGIN_API RunStore {
public:
    static constexpr std::string_view kServiceId = "runicorn.run_store/1";

    virtual ~RunStore() = default;
    RunStore(const RunStore&) = delete;
    RunStore& operator=(const RunStore&) = delete;
    RunStore(RunStore&&) = delete;
    RunStore& operator=(RunStore&&) = delete;

    /// The storage root this store serves.
    virtual std::filesystem::path root() const = 0;
    /// Every run folder in v0.6 discovery order (new layout depth-first, then legacy projects).
    /// Soft-deleted runs are included only when `include_deleted`. Fails with NOT_FOUND when the
    /// root does not exist; unreadable sub-directories are skipped with a warning.
    virtual Result<std::vector<RunLocation>> discover_runs(bool include_deleted) const = 0;

protected:
    RunStore() = default;
};

}  // namespace runicorn::plugin
