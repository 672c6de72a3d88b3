#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <runicorn/plugin/run_store.hpp>
#include <runicorn/result.hpp>

namespace runicorn::http_plugin::api {

/// One asset a run's assets.json lists (FORMAT.md §4.6), named the way Runicorn v0.6's index
/// names it (FORMAT.md §6).
struct RunAsset {
    std::string asset_type;  ///< "code_snapshot", "config", "dataset", "pretrained", "output".
    std::string role;        ///< "code", "config", "dataset", "pretrained", "output".
    std::optional<std::string> name;
    /// The fingerprint when it is a string (a dict fingerprint of an unsaved local path counts as
    /// none: it identifies nothing across runs).
    std::optional<std::string> fingerprint;
    std::optional<std::string> archive_path;  ///< As recorded (not rebased).
};

/// The assets of an assets.json value, in file order: `code.snapshot` when it is an object,
/// `config` when it is a non-empty object (the counting rule of §4.6), then every object in
/// `datasets`, `pretrained` and `outputs`. Missing sections and wrong types count as empty.
std::vector<RunAsset> list_run_assets(const boost::json::value& assets);

/// One asset of the refs answer.
struct AssetRef {
    RunAsset asset;
    std::string asset_id;                 ///< From index/runicorn.db, else derived_asset_id().
    std::vector<std::string> other_runs;  ///< Ids of the other runs that list it.
    std::size_t ref_count = 1;            ///< Runs listing it, this one included.
};

/// Which of a run's assets other runs (soft-deleted ones included) still list.
struct AssetRefs {
    std::vector<AssetRef> orphaned;  ///< Listed by no other run; also every unfingerprinted one.
    std::vector<AssetRef> shared;
};

/// Computes the refs of the run at `run` (API.md §2.2 `/assets/refs`, COMPAT (fix)): from every
/// run's assets.json (discover_runs(true): soft-deleted runs included) rather than from
/// runicorn.db alone. An asset is identified by (asset_type, fingerprint). `asset_id` is the
/// runicorn.db id of the (asset_type, fingerprint) row, or for an unfingerprinted entry of the
/// row this run links with that type and name (runicorn.db), when the database exists and has one;
/// otherwise derived_asset_id(). Fails only when the runs cannot be listed; an unreadable
/// assets.json of another run counts as listing nothing. The permanent-delete preview can use the
/// same answer (orphaned = what deleting the run would release).
Result<AssetRefs> compute_asset_refs(const plugin::RunStore& store, const plugin::RunLocation& run,
                                     const std::filesystem::path& storage_root);

/// A stable id for an asset without a runicorn.db row: a name-based UUID (SHA-1, RFC 4122 v5)
/// of the type and fingerprint, or, without a fingerprint, of the run id, type, position in the
/// file and name.
std::string derived_asset_id(const RunAsset& asset, std::string_view run_id, std::size_t position);

/// The JSON object A of the refs answer: {"asset_id", "asset_type", "name", "fingerprint",
/// "role", "ref_count"}, plus "other_runs" when `with_other_runs`.
boost::json::object asset_ref_json(const AssetRef& ref, bool with_other_runs);

}  // namespace runicorn::http_plugin::api
