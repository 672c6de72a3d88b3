#include "asset_refs.hpp"

#include <array>
#include <map>
#include <set>
#include <system_error>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/uuid/name_generator_sha1.hpp>
#include <boost/uuid/string_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <sqlite3.h>

#include "api_json.hpp"

namespace runicorn::http_plugin::api {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

/// Namespace of derived asset ids (a fixed random UUID, so the ids never change).
constexpr char kAssetIdNamespace[] = "6f1c8a52-3d4e-4b7a-9c1e-2a5d7e9f0b13";

std::optional<std::string> string_field(const json::object& o, std::string_view key) {
    if (const json::value* v = o.if_contains(key); v != nullptr && v->is_string()) {
        return std::string(v->as_string());
    }
    return std::nullopt;
}

RunAsset entry_asset(const json::object& o, std::string type, std::string role) {
    RunAsset a;
    a.asset_type = std::move(type);
    a.role = std::move(role);
    a.name = string_field(o, "name");
    a.fingerprint = string_field(o, "fingerprint");
    a.archive_path = string_field(o, "archive_path");
    return a;
}

// "file:<path>?mode=ro" with the characters a URI filename cannot carry escaped.
std::string sqlite_uri(const fs::path& file, std::string_view params) {
    static constexpr std::string_view kHex = "0123456789ABCDEF";
    std::string out = "file:";
    for (const char c : file.string()) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '%' || c == '?' || c == '#' || u < 0x21 || u >= 0x7f) {
            out.push_back('%');
            out.push_back(kHex[u >> 4U]);
            out.push_back(kHex[u & 0xFU]);
        } else {
            out.push_back(c);
        }
    }
    out.push_back('?');
    out.append(params);
    return out;
}

/// Read-only lookups in index/runicorn.db (FORMAT.md §6); every lookup answers nullopt when the
/// database is missing or unreadable. Thread safety: externally synchronized.
class V06AssetIndex {
public:
    explicit V06AssetIndex(const fs::path& root) {
        const fs::path file = root / "index" / "runicorn.db";
        std::error_code ec;
        if (!fs::is_regular_file(file, ec)) {
            return;
        }
        // A WAL database needs its -shm file; where it cannot be created (a read-only copy),
        // immutable=1 reads the main file as it is.
        for (const std::string_view params : {"mode=ro", "mode=ro&immutable=1"}) {
            sqlite3* db = nullptr;
            const std::string uri = sqlite_uri(file, params);
            if (sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                                nullptr) == SQLITE_OK) {
                sqlite3_busy_timeout(db, 2000);
                if (sqlite3_exec(db, "SELECT 1 FROM assets LIMIT 1", nullptr, nullptr, nullptr) ==
                    SQLITE_OK) {
                    db_ = db;
                    return;
                }
            }
            sqlite3_close(db);
        }
    }
    ~V06AssetIndex() { sqlite3_close(db_); }
    V06AssetIndex(const V06AssetIndex&) = delete;
    V06AssetIndex& operator=(const V06AssetIndex&) = delete;
    V06AssetIndex(V06AssetIndex&&) = delete;
    V06AssetIndex& operator=(V06AssetIndex&&) = delete;

    std::optional<std::string> by_fingerprint(const std::string& type, const std::string& fp) {
        return query(
            "SELECT asset_id FROM assets WHERE asset_type = ?1 AND fingerprint = ?2 "
            "ORDER BY created_at LIMIT 1",
            {type, fp});
    }

    std::optional<std::string> by_run(const std::string& run_id, const std::string& type,
                                      const std::string& name) {
        return query(
            "SELECT a.asset_id FROM assets a JOIN run_assets r ON r.asset_id = a.asset_id "
            "WHERE r.run_id = ?1 AND a.asset_type = ?2 AND COALESCE(a.name, '') = ?3 "
            "ORDER BY a.created_at LIMIT 1",
            {run_id, type, name});
    }

private:
    std::optional<std::string> query(const char* sql, const std::vector<std::string>& args) {
        if (db_ == nullptr) {
            return std::nullopt;
        }
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
            sqlite3_finalize(stmt);
            return std::nullopt;
        }
        for (std::size_t i = 0; i < args.size(); ++i) {
            sqlite3_bind_text(stmt, static_cast<int>(i + 1), args[i].data(),
                              static_cast<int>(args[i].size()), SQLITE_TRANSIENT);
        }
        std::optional<std::string> out;
        if (sqlite3_step(stmt) == SQLITE_ROW) {
            if (const unsigned char* text = sqlite3_column_text(stmt, 0); text != nullptr) {
                out = std::string(reinterpret_cast<const char*>(text));
            }
        }
        sqlite3_finalize(stmt);
        return out;
    }

    sqlite3* db_ = nullptr;
};

std::vector<RunAsset> read_run_assets(const fs::path& run_dir) {
    const std::optional<json::value> assets = read_json_file(run_dir / "assets.json");
    return assets ? list_run_assets(*assets) : std::vector<RunAsset>{};
}

}  // namespace

std::vector<RunAsset> list_run_assets(const json::value& assets) {
    std::vector<RunAsset> out;
    const json::object* root = assets.if_object();
    if (root == nullptr) {
        return out;
    }
    if (const json::value* code = root->if_contains("code"); code != nullptr && code->is_object()) {
        if (const json::value* snap = code->as_object().if_contains("snapshot");
            snap != nullptr && snap->is_object()) {
            RunAsset a = entry_asset(snap->as_object(), "code_snapshot", "code");
            const auto format = string_field(snap->as_object(), "format");
            a.name = format == "manifest" ? "code_snapshot" : "code_snapshot.zip";
            out.push_back(std::move(a));
        }
    }
    if (const json::value* config = root->if_contains("config");
        config != nullptr && config->is_object() && !config->as_object().empty()) {
        RunAsset a;
        a.asset_type = "config";
        a.role = "config";
        out.push_back(std::move(a));
    }
    const std::array<std::array<const char*, 3>, 3> lists = {
        {{"datasets", "dataset", "dataset"},
         {"pretrained", "pretrained", "pretrained"},
         {"outputs", "output", "output"}}};
    for (const auto& [key, type, role] : lists) {
        const json::value* list = root->if_contains(key);
        if (list == nullptr || !list->is_array()) {
            continue;
        }
        for (const json::value& item : list->as_array()) {
            if (item.is_object()) {
                out.push_back(entry_asset(item.as_object(), type, role));
            }
        }
    }
    return out;
}

std::string derived_asset_id(const RunAsset& asset, std::string_view run_id, std::size_t position) {
    static const boost::uuids::uuid kNamespace =
        boost::uuids::string_generator()(kAssetIdNamespace);
    boost::uuids::name_generator_sha1 gen(kNamespace);
    std::string name = asset.asset_type;
    name.push_back('\0');
    if (asset.fingerprint) {
        name += *asset.fingerprint;
    } else {
        name.append(run_id);
        name.push_back('\0');
        name += std::to_string(position);
        name.push_back('\0');
        name += asset.name.value_or("");
    }
    return boost::uuids::to_string(gen(name));
}

Result<AssetRefs> compute_asset_refs(const plugin::RunStore& store, const plugin::RunLocation& run,
                                     const fs::path& storage_root) {
    const std::vector<RunAsset> mine = read_run_assets(run.dir);
    // (type, fingerprint) of this run's fingerprinted assets -> the other runs listing it.
    std::map<std::pair<std::string, std::string>, std::set<std::string>> others;
    for (const RunAsset& a : mine) {
        if (a.fingerprint) {
            others.try_emplace({a.asset_type, *a.fingerprint});
        }
    }
    if (!others.empty()) {
        RUNICORN_ASSIGN_OR_RETURN(std::vector<plugin::RunLocation> runs,
                                  store.discover_runs(/*include_deleted=*/true));
        std::error_code ec;
        for (const plugin::RunLocation& other : runs) {
            if (other.dir == run.dir || fs::equivalent(other.dir, run.dir, ec)) {
                continue;
            }
            for (const RunAsset& a : read_run_assets(other.dir)) {
                if (!a.fingerprint) {
                    continue;
                }
                if (auto it = others.find({a.asset_type, *a.fingerprint}); it != others.end()) {
                    it->second.insert(other.run_id);
                }
            }
        }
    }
    V06AssetIndex index(storage_root);
    AssetRefs out;
    for (std::size_t i = 0; i < mine.size(); ++i) {
        AssetRef ref;
        ref.asset = mine[i];
        std::optional<std::string> id =
            ref.asset.fingerprint
                ? index.by_fingerprint(ref.asset.asset_type, *ref.asset.fingerprint)
                : index.by_run(run.run_id, ref.asset.asset_type, ref.asset.name.value_or(""));
        ref.asset_id = id ? std::move(*id) : derived_asset_id(ref.asset, run.run_id, i);
        if (ref.asset.fingerprint) {
            const std::set<std::string>& ids =
                others.at({ref.asset.asset_type, *ref.asset.fingerprint});
            ref.other_runs.assign(ids.begin(), ids.end());
        }
        ref.ref_count = 1 + ref.other_runs.size();
        (ref.other_runs.empty() ? out.orphaned : out.shared).push_back(std::move(ref));
    }
    return out;
}

json::object asset_ref_json(const AssetRef& ref, bool with_other_runs) {
    json::object o;
    o["asset_id"] = ref.asset_id;
    o["asset_type"] = ref.asset.asset_type;
    o["name"] = ref.asset.name ? json::value(*ref.asset.name) : json::value(nullptr);
    o["fingerprint"] =
        ref.asset.fingerprint ? json::value(*ref.asset.fingerprint) : json::value(nullptr);
    o["role"] = ref.asset.role;
    o["ref_count"] = ref.ref_count;
    if (with_other_runs) {
        json::array ids;
        for (const std::string& id : ref.other_runs) {
            ids.emplace_back(id);
        }
        o["other_runs"] = std::move(ids);
    }
    return o;
}

}  // namespace runicorn::http_plugin::api
