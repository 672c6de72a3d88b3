#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <runicorn/status.hpp>

namespace runicorn::storage {

/// The `runs` row of Runicorn v0.6's asset index `<root>/index/runicorn.db` (FORMAT.md §6).
struct V06RunRow {
    std::string run_id;
    std::string path;  ///< The normalized run path; "" for a root-path run (as v0.6 writes it).
    std::optional<std::string> alias;
    double created_at = 0;
    std::string status = "running";
    std::string run_dir;  ///< Absolute run folder.
    std::string workspace_root;
};

/// Keeps Runicorn v0.6's asset index in step with our runs, so that a v0.6 viewer pointed at a
/// mixed store treats our runs' assets as shared rather than orphaned (FORMAT.md §6). Every write
/// takes `index/runicorn.db.lock`, then `BEGIN IMMEDIATE` with busy_timeout=5000 and
/// foreign_keys=ON. The schema is never changed: when the file is created here it gets exactly
/// v0.6's DDL in WAL mode.
///
/// All functions are best effort for their callers: they return the failure (naming the file) so
/// the caller can count and log it, and never touch run folders. On a network filesystem they do
/// nothing and return OK. Thread safety: safe for concurrent use (each call opens its own
/// connection; the lock file and SQLite serialise writers across processes).
class V06Index {
public:
    /// `<root>/index/runicorn.db`.
    static std::filesystem::path file_of(const std::filesystem::path& root);

    /// Upserts the run's row with status 'running' and ended_at NULL (SDK init or resume),
    /// creating the database with v0.6's schema when it does not exist yet.
    static Status upsert_run(const std::filesystem::path& root, const V06RunRow& row);

    /// Sets status (and ended_at when given) of an existing row; no row, no change. Creates
    /// nothing: without the database file this is a no-op.
    static Status set_status(const std::filesystem::path& root, std::string_view run_id,
                             std::string_view status, std::optional<double> ended_at);

    /// Sets runs.alias of an existing row (the viewer's PATCH); no-op without the file or row.
    static Status set_alias(const std::filesystem::path& root, std::string_view run_id,
                            const std::optional<std::string>& alias);

    /// Deletes the run's row (its run_assets links cascade) and every `assets` row left without a
    /// link (permanent delete). Never deletes files. No-op without the database file.
    static Status delete_run(const std::filesystem::path& root, std::string_view run_id);
};

}  // namespace runicorn::storage
