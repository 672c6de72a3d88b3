#include "v06_index.hpp"

#include <string>
#include <system_error>
#include <utility>

#include "catalog/sqlite_db.hpp"
#include "catalog_location.hpp"
#include "file_io.hpp"
#include <sys/stat.h>

namespace runicorn::storage {
namespace {

namespace fs = std::filesystem;

// Runicorn v0.6's DDL, verbatim (FORMAT.md §6; fixtures/runicorn-0.6/store/index/runicorn.db).
constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY,
  path TEXT NOT NULL DEFAULT 'default',
  alias TEXT NULL,
  created_at REAL NULL,
  ended_at REAL NULL,
  status TEXT NULL,
  run_dir TEXT NOT NULL,
  workspace_root TEXT NULL
);
CREATE INDEX IF NOT EXISTS idx_runs_path ON runs(path);
CREATE INDEX IF NOT EXISTS idx_runs_alias ON runs(alias);
CREATE TABLE IF NOT EXISTS assets (
  asset_id TEXT PRIMARY KEY,
  asset_type TEXT NOT NULL,
  name TEXT NULL,
  source_uri TEXT NULL,
  archive_uri TEXT NULL,
  is_archived INTEGER NOT NULL,
  fingerprint_kind TEXT NULL,
  fingerprint TEXT NULL,
  size_bytes INTEGER NULL,
  mtime REAL NULL,
  created_at REAL NULL,
  metadata_json TEXT NULL
);
CREATE TABLE IF NOT EXISTS run_assets (
  run_id TEXT NOT NULL,
  asset_id TEXT NOT NULL,
  role TEXT NOT NULL,
  created_at REAL NULL,
  PRIMARY KEY (run_id, asset_id, role),
  FOREIGN KEY (run_id) REFERENCES runs(run_id) ON DELETE CASCADE,
  FOREIGN KEY (asset_id) REFERENCES assets(asset_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS idx_assets_type_name ON assets(asset_type, name);
CREATE INDEX IF NOT EXISTS idx_assets_fingerprint ON assets(fingerprint);
CREATE UNIQUE INDEX IF NOT EXISTS idx_assets_type_fingerprint_unique ON assets(asset_type, fingerprint);
CREATE INDEX IF NOT EXISTS idx_run_assets_run ON run_assets(run_id);
CREATE INDEX IF NOT EXISTS idx_run_assets_asset ON run_assets(asset_id);
)sql";

enum class Open { kCreate, kExisting };

/// The lock and the connection of one write, in that order (the lock is released last).
struct Session {
    FileLock lock;
    std::unique_ptr<catalog::Database> db;
};

/// Locks and opens the database; nullopt when there is nothing to do (no file and kExisting, or
/// a network filesystem).
Result<std::optional<Session>> open_index(const fs::path& root, Open mode) {
    const fs::path file = V06Index::file_of(root);
    std::error_code ec;
    const bool exists = fs::exists(file, ec);
    if (!exists && mode == Open::kExisting) {
        return std::optional<Session>();
    }
    if (on_network_filesystem(root)) {
        return std::optional<Session>();
    }
    if (!exists && ::mkdir(file.parent_path().c_str(), 0755) != 0 && errno != EEXIST) {
        return io_error(errno, "creating directory", file.parent_path());
    }
    Session session;
    RUNICORN_ASSIGN_OR_RETURN(session.lock, FileLock::acquire(lock_path_for(file)));
    RUNICORN_ASSIGN_OR_RETURN(session.db, catalog::Database::open(file.string()));
    if (!exists) {
        RUNICORN_RETURN_IF_ERROR(session.db->exec(kSchema));
    }
    return std::optional<Session>(std::move(session));
}

Status with_context(Status status, const fs::path& root) {
    if (status.is_ok()) {
        return status;
    }
    return Status(status.code(), "updating the v0.6 index '" + V06Index::file_of(root).string() +
                                     "': " + std::string(status.message()));
}

}  // namespace

fs::path V06Index::file_of(const fs::path& root) { return root / "index" / "runicorn.db"; }

namespace {

/// Runs `body` on the locked database inside BEGIN IMMEDIATE, committing when it succeeds; nothing
/// happens when open_index() finds nothing to do. Errors name the file.
template <class Body>
Status in_transaction(const fs::path& root, Open mode, Body body) {
    auto write = [&]() -> Status {
        RUNICORN_ASSIGN_OR_RETURN(auto session, open_index(root, mode));
        if (!session) {
            return Status::ok();
        }
        catalog::Transaction tx(*session->db);
        RUNICORN_RETURN_IF_ERROR(tx.status());
        RUNICORN_RETURN_IF_ERROR(body(*session->db));
        return tx.commit();
    };
    return with_context(write(), root);
}

}  // namespace

Status V06Index::upsert_run(const fs::path& root, const V06RunRow& row) {
    return in_transaction(root, Open::kCreate, [&](catalog::Database& db) -> Status {
        RUNICORN_ASSIGN_OR_RETURN(
            auto stmt,
            db.prepare("INSERT INTO runs (run_id, path, alias, created_at, ended_at, status, "
                       "run_dir, workspace_root) VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7) "
                       "ON CONFLICT(run_id) DO UPDATE SET path = excluded.path, "
                       "alias = COALESCE(excluded.alias, runs.alias), ended_at = NULL, "
                       "status = excluded.status, run_dir = excluded.run_dir, "
                       "workspace_root = excluded.workspace_root"));
        stmt.bind(1, std::string_view(row.run_id));
        stmt.bind(2, std::string_view(row.path));
        stmt.bind(3, row.alias);
        stmt.bind(4, row.created_at);
        stmt.bind(5, std::string_view(row.status));
        stmt.bind(6, std::string_view(row.run_dir));
        stmt.bind(7, std::string_view(row.workspace_root));
        return stmt.run();
    });
}

Status V06Index::set_status(const fs::path& root, std::string_view run_id, std::string_view status,
                            std::optional<double> ended_at) {
    return in_transaction(root, Open::kExisting, [&](catalog::Database& db) -> Status {
        RUNICORN_ASSIGN_OR_RETURN(
            auto stmt, db.prepare("UPDATE runs SET status = ?2, ended_at = ?3 WHERE run_id = ?1"));
        stmt.bind(1, run_id);
        stmt.bind(2, status);
        stmt.bind(3, ended_at);
        return stmt.run();
    });
}

Status V06Index::set_alias(const fs::path& root, std::string_view run_id,
                           const std::optional<std::string>& alias) {
    return in_transaction(root, Open::kExisting, [&](catalog::Database& db) -> Status {
        RUNICORN_ASSIGN_OR_RETURN(auto stmt,
                                  db.prepare("UPDATE runs SET alias = ?2 WHERE run_id = ?1"));
        stmt.bind(1, run_id);
        stmt.bind(2, alias);
        return stmt.run();
    });
}

Status V06Index::delete_run(const fs::path& root, std::string_view run_id) {
    return in_transaction(root, Open::kExisting, [&](catalog::Database& db) -> Status {
        RUNICORN_ASSIGN_OR_RETURN(auto del, db.prepare("DELETE FROM runs WHERE run_id = ?1"));
        del.bind(1, run_id);
        RUNICORN_RETURN_IF_ERROR(del.run());
        // Links cascade with the run; assets left without any link go too (FORMAT.md §6).
        return db.exec(
            "DELETE FROM assets WHERE asset_id NOT IN (SELECT asset_id FROM run_assets)");
    });
}

}  // namespace runicorn::storage
