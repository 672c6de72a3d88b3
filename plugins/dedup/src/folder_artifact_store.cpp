#include "folder_artifact_store.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <set>

#include <boost/json.hpp>

#include "blob_layout.hpp"
#include "dir_manifest.hpp"
#include "file_ops.hpp"
#include "json_io.hpp"
#include "references.hpp"
#include "sha256.hpp"
#include "tolerant_json.hpp"
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::dedup {
namespace fs = std::filesystem;
namespace json = boost::json;
using plugin::ArtifactVersionInfo;

namespace {

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool is_dir(const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool path_exists(const fs::path& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0;
}

std::string str_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

double num_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        return 0;
    }
    if (v->is_double()) {
        return v->get_double();
    }
    if (v->is_int64()) {
        return static_cast<double>(v->get_int64());
    }
    if (v->is_uint64()) {
        return static_cast<double>(v->get_uint64());
    }
    return 0;
}

std::int64_t int_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        return 0;
    }
    if (v->is_int64()) {
        return v->get_int64();
    }
    if (v->is_uint64()) {
        return static_cast<std::int64_t>(v->get_uint64());
    }
    if (v->is_double()) {
        return static_cast<std::int64_t>(v->get_double());
    }
    return 0;
}

std::optional<plugin::ArtifactRunRef> run_ref_from_json(const json::value* v) {
    if (v == nullptr || !v->is_object()) {
        return std::nullopt;
    }
    const auto& o = v->get_object();
    plugin::ArtifactRunRef r;
    r.run_id = str_of(o, "run_id");
    if (const auto* p = o.if_contains("path"); p != nullptr && p->is_string()) {
        r.path = std::string(p->get_string());
    }
    r.run_dir = str_of(o, "run_dir");
    r.hostname = str_of(o, "hostname");
    return r;
}

Status bad_name(std::string_view name) {
    return Status::invalid_argument("invalid artifact name '" + std::string(name) +
                                    "' (expected [A-Za-z0-9][A-Za-z0-9._-]{0,127})");
}

Status bad_alias(std::string_view alias) {
    if (plugin::is_reserved_alias(alias)) {
        return Status::invalid_argument("alias '" + std::string(alias) +
                                        "' is reserved (latest and v<N> are computed)");
    }
    return Status::invalid_argument("invalid alias '" + std::string(alias) +
                                    "' (expected [A-Za-z][A-Za-z0-9._-]{0,63})");
}

std::string version_label(std::string_view name, int n) {
    return std::string(name) + ":v" + std::to_string(n);
}

/// The status of a run folder: "deleted" when soft-deleted, else status.json's "status" ("" when
/// unknown).
std::string run_status(const fs::path& run) {
    if (path_exists(run / ".deleted")) {
        return "deleted";
    }
    auto v = read_json_file(run / "status.json");
    if (!v || !v->is_object()) {
        return "";
    }
    return str_of(v->get_object(), "status");
}

}  // namespace

FolderArtifactStore::FolderArtifactStore(fs::path root, std::shared_ptr<plugin::BlobStore> blobs)
    : root_(std::move(root)), blobs_(std::move(blobs)) {}

fs::path FolderArtifactStore::dir_of(std::string_view name) const {
    return root_ / "artifacts" / std::string(name);
}

Result<fs::path> FolderArtifactStore::existing_dir(std::string_view name) const {
    if (!plugin::is_valid_artifact_name(name)) {
        return bad_name(name);
    }
    auto dir = dir_of(name);
    if (!path_exists(dir / "artifact.json")) {
        return Status::not_found("artifact '" + std::string(name) + "' not found");
    }
    return dir;
}

Result<FolderArtifactStore::Aliases> FolderArtifactStore::read_aliases(const fs::path& dir) const {
    Aliases out;
    auto v = read_json_file(dir / "aliases.json");
    if (!v) {
        if (v.error().code() == StatusCode::kNotFound) {
            return out;
        }
        return v.error();
    }
    if (!v->is_object()) {
        return Status::invalid_argument("'" + (dir / "aliases.json").string() +
                                        "' is not a JSON object");
    }
    const auto& o = v->get_object();
    out.updated_at = num_of(o, "updated_at");
    if (const auto* a = o.if_contains("aliases"); a != nullptr && a->is_object()) {
        for (const auto& kv : a->get_object()) {
            if (kv.value().is_int64() && kv.value().get_int64() > 0 &&
                plugin::is_valid_user_alias(kv.key())) {
                out.map[std::string(kv.key())] = static_cast<int>(kv.value().get_int64());
            }
        }
    }
    return out;
}

Status FolderArtifactStore::write_aliases(const fs::path& dir, const Aliases& aliases) const {
    json::object o;
    json::object a;
    for (const auto& [alias, n] : aliases.map) {
        a[alias] = n;
    }
    o["aliases"] = std::move(a);
    o["updated_at"] = aliases.updated_at;
    return write_file_atomic(dir / "aliases.json", pretty_json(o));
}

std::vector<int> FolderArtifactStore::existing_versions(const fs::path& dir) const {
    std::vector<int> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        const auto name = it->path().filename().string();
        const int n = plugin::parse_version_ref(name);
        if (n > 0 && name == "v" + std::to_string(n) && path_exists(it->path() / "version.json")) {
            out.push_back(n);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

Result<ArtifactVersionInfo> FolderArtifactStore::read_version(const fs::path& dir, int n,
                                                              const Aliases& aliases,
                                                              int latest) const {
    const auto path = dir / ("v" + std::to_string(n)) / "version.json";
    auto v = read_json_file(path);
    if (!v) {
        return v.error();
    }
    if (!v->is_object()) {
        return Status::invalid_argument("'" + path.string() + "' is not a JSON object");
    }
    const auto& o = v->get_object();
    ArtifactVersionInfo info;
    info.name = dir.filename().string();
    info.type = str_of(o, "type");
    info.version = n;
    info.digest = str_of(o, "digest");
    info.created_at = num_of(o, "created_at");
    info.description = str_of(o, "description");
    if (const auto* m = o.if_contains("metadata"); m != nullptr && m->is_object()) {
        info.metadata = m->get_object();
    }
    info.file_count =
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, int_of(o, "file_count")));
    info.total_size_bytes =
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, int_of(o, "total_size_bytes")));
    info.produced_by = run_ref_from_json(o.if_contains("produced_by"));
    for (const auto& [alias, target] : aliases.map) {
        if (target == n) {
            info.aliases.push_back(alias);
        }
    }
    info.latest = n == latest;
    return info;
}

Result<int> FolderArtifactStore::resolve_ref(const fs::path& dir, std::string_view name,
                                             std::string_view ref) const {
    const auto versions = existing_versions(dir);
    if (ref.empty() || ref == "latest") {
        if (versions.empty()) {
            return Status::not_found("version '" + std::string(name) + ":latest' not found");
        }
        return versions.back();
    }
    if (const int n = plugin::parse_version_ref(ref); n > 0) {
        if (!std::binary_search(versions.begin(), versions.end(), n)) {
            return Status::not_found("version '" + version_label(name, n) + "' not found");
        }
        return n;
    }
    if (!plugin::is_valid_user_alias(ref)) {
        return Status::invalid_argument("invalid version reference '" + std::string(ref) +
                                        "' (expected v<N>, latest or an alias)");
    }
    RUNICORN_ASSIGN_OR_RETURN(auto aliases, read_aliases(dir));
    const auto it = aliases.map.find(std::string(ref));
    if (it == aliases.map.end() ||
        !std::binary_search(versions.begin(), versions.end(), it->second)) {
        return Status::not_found("version '" + std::string(name) + ":" + std::string(ref) +
                                 "' not found");
    }
    return it->second;
}

Result<std::vector<plugin::ArtifactInfo>> FolderArtifactStore::list() const {
    std::vector<plugin::ArtifactInfo> out;
    std::error_code ec;
    std::vector<std::string> names;
    for (fs::directory_iterator it(root_ / "artifacts", ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        const auto name = it->path().filename().string();
        if (plugin::is_valid_artifact_name(name) && path_exists(it->path() / "artifact.json")) {
            names.push_back(name);
        }
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        if (auto i = info(name)) {
            out.push_back(std::move(*i));
        }
    }
    return out;
}

Result<plugin::ArtifactInfo> FolderArtifactStore::info(std::string_view name) const {
    RUNICORN_ASSIGN_OR_RETURN(auto dir, existing_dir(name));
    auto v = read_json_file(dir / "artifact.json");
    if (!v) {
        return v.error();
    }
    if (!v->is_object()) {
        return Status::invalid_argument("'" + (dir / "artifact.json").string() +
                                        "' is not a JSON object");
    }
    const auto& o = v->get_object();
    plugin::ArtifactInfo info;
    info.name = std::string(name);
    info.type = str_of(o, "type");
    info.description = str_of(o, "description");
    info.created_at = num_of(o, "created_at");
    info.updated_at = info.created_at;
    RUNICORN_ASSIGN_OR_RETURN(auto aliases, read_aliases(dir));
    const auto versions = existing_versions(dir);
    info.latest_version = versions.empty() ? 0 : versions.back();
    info.version_count = versions.size();
    for (const int n : versions) {
        if (auto ver = read_version(dir, n, aliases, info.latest_version)) {
            info.total_size_bytes += ver->total_size_bytes;
            info.updated_at = std::max(info.updated_at, ver->created_at);
        }
    }
    info.updated_at = std::max(info.updated_at, aliases.updated_at);
    for (const auto& [alias, n] : aliases.map) {
        if (std::binary_search(versions.begin(), versions.end(), n)) {
            info.aliases.emplace_back(alias, n);
        }
    }
    return info;
}

Result<std::vector<ArtifactVersionInfo>> FolderArtifactStore::versions(
    std::string_view name) const {
    RUNICORN_ASSIGN_OR_RETURN(auto dir, existing_dir(name));
    RUNICORN_ASSIGN_OR_RETURN(auto aliases, read_aliases(dir));
    auto numbers = existing_versions(dir);
    std::vector<ArtifactVersionInfo> out;
    const int latest = numbers.empty() ? 0 : numbers.back();
    for (auto it = numbers.rbegin(); it != numbers.rend(); ++it) {
        if (auto v = read_version(dir, *it, aliases, latest)) {
            out.push_back(std::move(*v));
        }
    }
    return out;
}

Result<ArtifactVersionInfo> FolderArtifactStore::version(std::string_view name,
                                                         std::string_view ref) const {
    RUNICORN_ASSIGN_OR_RETURN(auto dir, existing_dir(name));
    RUNICORN_ASSIGN_OR_RETURN(const int n, resolve_ref(dir, name, ref));
    RUNICORN_ASSIGN_OR_RETURN(auto aliases, read_aliases(dir));
    const auto numbers = existing_versions(dir);
    return read_version(dir, n, aliases, numbers.empty() ? 0 : numbers.back());
}

Result<ArtifactVersionInfo> FolderArtifactStore::resolve(std::string_view reference) const {
    const auto colon = reference.find(':');
    const auto name = reference.substr(0, colon);
    if (colon != std::string_view::npos && colon + 1 == reference.size()) {
        return Status::invalid_argument("invalid artifact reference '" + std::string(reference) +
                                        "' (expected name, name:v<N>, name:latest or "
                                        "name:<alias>)");
    }
    if (!plugin::is_valid_artifact_name(name)) {
        return bad_name(name);
    }
    return version(name, colon == std::string_view::npos ? std::string_view("latest")
                                                         : reference.substr(colon + 1));
}

Result<plugin::DirManifest> FolderArtifactStore::manifest(std::string_view name,
                                                          int version) const {
    RUNICORN_ASSIGN_OR_RETURN(auto dir, existing_dir(name));
    const auto vdir = dir / ("v" + std::to_string(version));
    if (version <= 0 || !path_exists(vdir / "version.json")) {
        return Status::not_found("version '" + version_label(name, version) + "' not found");
    }
    return blobs_->read_manifest(vdir / "manifest.json");
}

Result<std::vector<plugin::ArtifactFileInfo>> FolderArtifactStore::files(std::string_view name,
                                                                         int version) const {
    RUNICORN_ASSIGN_OR_RETURN(auto m, manifest(name, version));
    std::vector<plugin::ArtifactFileInfo> out;
    out.reserve(m.files.size());
    for (auto& f : m.files) {
        out.push_back({std::move(f.rel), f.size_bytes, std::move(f.sha256)});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
    return out;
}

Result<fs::path> FolderArtifactStore::run_folder(std::string_view run_dir) const {
    RUNICORN_RETURN_IF_ERROR(validate_rel_path(run_dir));
    auto path = root_ / std::string(run_dir);
    if (!is_dir(path)) {
        return Status::not_found("run folder '" + path.string() + "' does not exist");
    }
    return path;
}

Status FolderArtifactStore::record_in_run(std::string_view run_dir, const char* list,
                                          const json::object& entry) const {
    RUNICORN_ASSIGN_OR_RETURN(auto run, run_folder(run_dir));
    RUNICORN_ASSIGN_OR_RETURN(auto lock, FileLock::acquire(run / "artifacts.json.lock"));
    json::object doc;
    auto v = read_json_file(run / "artifacts.json");
    if (v && v->is_object()) {
        doc = std::move(v->get_object());  // unknown keys and their order are kept (G4)
    } else if (!v && v.error().code() != StatusCode::kNotFound) {
        return v.error();
    }
    for (const char* key : {"logged", "used"}) {
        if (!doc.contains(key) || !doc[key].is_array()) {
            doc[key] = json::array();
        }
    }
    doc[list].get_array().push_back(entry);
    return write_file_atomic(run / "artifacts.json", pretty_json(doc));
}

Result<ArtifactVersionInfo> FolderArtifactStore::save(const plugin::ArtifactSaveRequest& req) {
    if (!plugin::is_valid_artifact_name(req.name)) {
        return bad_name(req.name);
    }
    if (!plugin::is_valid_artifact_type(req.type)) {
        return Status::invalid_argument("invalid artifact type '" + req.type +
                                        "' (expected [A-Za-z0-9][A-Za-z0-9._-]{0,63})");
    }
    for (const auto& a : req.aliases) {
        if (!plugin::is_valid_user_alias(a)) {
            return bad_alias(a);
        }
    }
    if (req.sources.empty()) {
        return Status::invalid_argument("artifact '" + req.name + "' has no files");
    }
    if (req.produced_by) {
        if (auto run = run_folder(req.produced_by->run_dir); !run) {
            return run.error();
        }
    }

    // 1. Every file, with its path inside the artifact.
    struct Entry {
        std::string rel;
        fs::path path;
        bool executable = false;
    };
    std::vector<Entry> entries;
    std::set<std::string> seen;
    const auto add = [&](std::string rel, fs::path path, bool executable) -> Status {
        RUNICORN_RETURN_IF_ERROR(validate_rel_path(rel));
        if (!seen.insert(rel).second) {
            return Status::invalid_argument("two files of artifact '" + req.name + "' map to '" +
                                            rel + "'");
        }
        entries.push_back({std::move(rel), std::move(path), executable});
        return Status::ok();
    };
    for (const auto& src : req.sources) {
        struct stat st {};
        if (::stat(src.local.c_str(), &st) != 0) {
            return errno_status("cannot read artifact source", src.local, errno);
        }
        if (S_ISDIR(st.st_mode)) {
            if (!src.name.empty()) {
                RUNICORN_RETURN_IF_ERROR(validate_rel_path(src.name));
            }
            RUNICORN_ASSIGN_OR_RETURN(auto walk, walk_directory(src.local));
            for (auto& f : walk.files) {
                RUNICORN_RETURN_IF_ERROR(add(src.name.empty() ? f.rel : src.name + "/" + f.rel,
                                             std::move(f.path), f.executable));
            }
        } else if (S_ISREG(st.st_mode)) {
            RUNICORN_RETURN_IF_ERROR(
                add(src.name.empty() ? src.local.filename().string() : src.name, src.local,
                    (st.st_mode & S_IXUSR) != 0));
        } else {
            return Status::invalid_argument("artifact source '" + src.local.string() +
                                            "' is neither a file nor a directory");
        }
    }

    // 2. Store the blobs (the lease keeps GC away until the version that references them is
    // published) and stage manifest.json + version.json.
    RUNICORN_ASSIGN_OR_RETURN(auto lease, blobs_->begin_write());
    std::vector<fs::path> paths;
    paths.reserve(entries.size());
    for (const auto& e : entries) {
        paths.push_back(e.path);
    }
    RUNICORN_ASSIGN_OR_RETURN(auto stored, blobs_->put_many(paths));
    plugin::DirManifest m;
    m.created_at = now_seconds();
    for (std::size_t i = 0; i < entries.size(); ++i) {
        m.files.push_back(
            {entries[i].rel, stored[i].sha256, stored[i].size_bytes, entries[i].executable});
    }
    finalize_manifest(m);

    for (const auto& d : {root_ / "index", root_ / "index" / "staging",
                          root_ / "index" / "staging" / "artifacts"}) {
        RUNICORN_RETURN_IF_ERROR(ensure_dir(d));
    }
    const auto staging = root_ / "index" / "staging" / "artifacts" / random_hex(32);
    RUNICORN_RETURN_IF_ERROR(ensure_dir(staging));
    // Removes the staging folder on every path that does not publish it.
    struct StagingGuard {
        fs::path path;
        ~StagingGuard() {
            std::error_code ec;
            if (!path.empty()) {
                fs::remove_all(path, ec);
            }
        }
    } guard{staging};
    RUNICORN_RETURN_IF_ERROR(write_file_atomic(staging / "manifest.json", manifest_to_json(m)));
    json::object version_doc;
    version_doc["name"] = req.name;
    version_doc["type"] = req.type;
    version_doc["version"] = 0;
    version_doc["digest"] = m.fingerprint;
    version_doc["created_at"] = m.created_at;
    version_doc["description"] = req.description;
    version_doc["metadata"] = req.metadata;
    version_doc["file_count"] = m.file_count;
    version_doc["total_size_bytes"] = m.total_size_bytes;
    version_doc["produced_by"] = plugin::to_json(req.produced_by);
    version_doc["format_version"] = 1;
    RUNICORN_RETURN_IF_ERROR(write_file_atomic(staging / "version.json", pretty_json(version_doc)));

    // 3. Under the artifact's lock: reuse the latest version or publish v<N>.
    const auto dir = dir_of(req.name);
    RUNICORN_RETURN_IF_ERROR(ensure_dir(root_ / "artifacts"));
    RUNICORN_RETURN_IF_ERROR(ensure_dir(dir));
    int n = 0;
    bool deduplicated = false;
    {
        RUNICORN_ASSIGN_OR_RETURN(auto lock, FileLock::acquire(dir / ".lock"));
        json::object artifact_doc;
        if (auto a = read_json_file(dir / "artifact.json")) {
            if (!a->is_object()) {
                return Status::invalid_argument("'" + (dir / "artifact.json").string() +
                                                "' is not a JSON object");
            }
            artifact_doc = std::move(a->get_object());
            const auto type = str_of(artifact_doc, "type");
            if (!type.empty() && type != req.type) {
                return Status::invalid_argument("artifact '" + req.name + "' has type '" + type +
                                                "', not '" + req.type + "'");
            }
        } else if (a.error().code() != StatusCode::kNotFound) {
            return a.error();
        } else {
            artifact_doc["name"] = req.name;
            artifact_doc["type"] = req.type;
            artifact_doc["created_at"] = m.created_at;
            artifact_doc["description"] = req.description;
            artifact_doc["last_version"] = 0;
            artifact_doc["format_version"] = 1;
        }
        const auto numbers = existing_versions(dir);
        if (!numbers.empty()) {
            auto latest = read_version(dir, numbers.back(), {}, numbers.back());
            if (latest && latest->digest == m.fingerprint) {
                n = numbers.back();
                deduplicated = true;
            }
        }
        if (!deduplicated) {
            const std::int64_t last = std::max<std::int64_t>(int_of(artifact_doc, "last_version"),
                                                             numbers.empty() ? 0 : numbers.back());
            n = static_cast<int>(last + 1);
            version_doc["version"] = n;
            RUNICORN_RETURN_IF_ERROR(
                write_file_atomic(staging / "version.json", pretty_json(version_doc)));
            artifact_doc["last_version"] = n;
            RUNICORN_RETURN_IF_ERROR(
                write_file_atomic(dir / "artifact.json", pretty_json(artifact_doc)));
            const auto target = dir / ("v" + std::to_string(n));
            if (::rename(staging.c_str(), target.c_str()) != 0) {
                return errno_status("cannot publish artifact version", target, errno);
            }
            guard.path.clear();
            RUNICORN_RETURN_IF_ERROR(fsync_dir(dir));
        }
        if (!req.aliases.empty()) {
            RUNICORN_ASSIGN_OR_RETURN(auto aliases, read_aliases(dir));
            for (const auto& a : req.aliases) {
                aliases.map[a] = n;
            }
            aliases.updated_at = now_seconds();
            RUNICORN_RETURN_IF_ERROR(write_aliases(dir, aliases));
        }
    }
    lease.reset();

    // 6. The run's side of the lineage.
    if (req.produced_by) {
        json::object entry;
        entry["name"] = req.name;
        entry["type"] = req.type;
        entry["version"] = n;
        entry["digest"] = m.fingerprint;
        json::array aliases;
        for (const auto& a : req.aliases) {
            aliases.emplace_back(a);
        }
        entry["aliases"] = std::move(aliases);
        entry["at"] = now_seconds();
        entry["deduplicated"] = deduplicated;
        RUNICORN_RETURN_IF_ERROR(record_in_run(req.produced_by->run_dir, "logged", entry));
    }
    RUNICORN_ASSIGN_OR_RETURN(auto info, version(req.name, "v" + std::to_string(n)));
    info.deduplicated = deduplicated;
    return info;
}

Result<plugin::AliasChange> FolderArtifactStore::set_alias(std::string_view name,
                                                           std::string_view alias, int version) {
    if (!plugin::is_valid_user_alias(alias)) {
        return bad_alias(alias);
    }
    RUNICORN_ASSIGN_OR_RETURN(auto dir, existing_dir(name));
    RUNICORN_ASSIGN_OR_RETURN(auto lock, FileLock::acquire(dir / ".lock"));
    const auto numbers = existing_versions(dir);
    if (!std::binary_search(numbers.begin(), numbers.end(), version)) {
        return Status::not_found("version '" + version_label(name, version) + "' not found");
    }
    RUNICORN_ASSIGN_OR_RETURN(auto aliases, read_aliases(dir));
    plugin::AliasChange change;
    change.alias = std::string(alias);
    change.version = version;
    if (const auto it = aliases.map.find(change.alias); it != aliases.map.end()) {
        change.previous_version = it->second;
    }
    aliases.map[change.alias] = version;
    aliases.updated_at = now_seconds();
    RUNICORN_RETURN_IF_ERROR(write_aliases(dir, aliases));
    return change;
}

Status FolderArtifactStore::remove_alias(std::string_view name, std::string_view alias) {
    if (!plugin::is_valid_user_alias(alias)) {
        return bad_alias(alias);
    }
    RUNICORN_ASSIGN_OR_RETURN(auto dir, existing_dir(name));
    RUNICORN_ASSIGN_OR_RETURN(auto lock, FileLock::acquire(dir / ".lock"));
    RUNICORN_ASSIGN_OR_RETURN(auto aliases, read_aliases(dir));
    if (aliases.map.erase(std::string(alias)) == 0) {
        return Status::not_found("alias '" + std::string(alias) + "' of artifact '" +
                                 std::string(name) + "' is not set");
    }
    aliases.updated_at = now_seconds();
    return write_aliases(dir, aliases);
}

Result<plugin::VersionDeletion> FolderArtifactStore::delete_version(std::string_view name,
                                                                    int version, bool force) {
    RUNICORN_ASSIGN_OR_RETURN(auto dir, existing_dir(name));
    RUNICORN_ASSIGN_OR_RETURN(auto lock, FileLock::acquire(dir / ".lock"));
    const auto numbers = existing_versions(dir);
    if (!std::binary_search(numbers.begin(), numbers.end(), version)) {
        return Status::not_found("version '" + version_label(name, version) + "' not found");
    }
    RUNICORN_ASSIGN_OR_RETURN(auto aliases, read_aliases(dir));
    plugin::VersionDeletion out;
    out.deleted_version = version;
    for (const auto& [alias, n] : aliases.map) {
        if (n == version) {
            out.removed_aliases.push_back(alias);
        }
    }
    if (!out.removed_aliases.empty() && !force) {
        std::string list;
        for (const auto& a : out.removed_aliases) {
            list += (list.empty() ? "" : ", ") + a;
        }
        return Status::failed_precondition("version '" + version_label(name, version) +
                                           "' has aliases (" + list +
                                           "); move them or delete with force");
    }
    if (!out.removed_aliases.empty()) {
        for (const auto& a : out.removed_aliases) {
            aliases.map.erase(a);
        }
        aliases.updated_at = now_seconds();
        RUNICORN_RETURN_IF_ERROR(write_aliases(dir, aliases));
    }
    const auto vdir = dir / ("v" + std::to_string(version));
    for (const auto& d : {root_ / "index", root_ / "index" / "staging",
                          root_ / "index" / "staging" / "artifacts"}) {
        RUNICORN_RETURN_IF_ERROR(ensure_dir(d));
    }
    const auto trash =
        root_ / "index" / "staging" / "artifacts" /
        ("deleted-" + std::string(name) + "-v" + std::to_string(version) + "-" + random_hex(16));
    std::error_code ec;
    if (::rename(vdir.c_str(), trash.c_str()) == 0) {
        RUNICORN_RETURN_IF_ERROR(fsync_dir(dir));
        fs::remove_all(trash, ec);
    } else if (errno == EXDEV) {
        fs::remove_all(vdir, ec);
        if (ec) {
            return Status::internal("cannot remove '" + vdir.string() + "': " + ec.message());
        }
    } else {
        return errno_status("cannot delete artifact version", vdir, errno);
    }
    return out;
}

Result<plugin::ArtifactLineage> FolderArtifactStore::lineage(std::string_view name,
                                                             int version) const {
    RUNICORN_ASSIGN_OR_RETURN(auto info, this->version(name, "v" + std::to_string(version)));
    plugin::ArtifactLineage out;
    out.produced_by = info.produced_by;
    if (out.produced_by && validate_rel_path(out.produced_by->run_dir).is_ok()) {
        out.produced_by_status = run_status(root_ / out.produced_by->run_dir);
    }
    for (const auto& rel : discover_runs(root_)) {
        const auto run = root_ / rel;
        auto v = read_json_file(run / "artifacts.json");
        if (!v || !v->is_object()) {
            continue;
        }
        const auto* used = v->get_object().if_contains("used");
        if (used == nullptr || !used->is_array()) {
            continue;
        }
        std::string status;
        bool status_read = false;
        std::optional<std::string> run_path;
        if (auto meta = read_json_file(run / "meta.json"); meta && meta->is_object()) {
            if (const auto* p = meta->get_object().if_contains("path");
                p != nullptr && p->is_string() && !p->get_string().empty()) {
                run_path = std::string(p->get_string());
            }
        }
        for (const auto& e : used->get_array()) {
            const auto* o = e.if_object();
            if (o == nullptr || str_of(*o, "name") != name || int_of(*o, "version") != version) {
                continue;
            }
            if (!status_read) {
                status = run_status(run);
                status_read = true;
            }
            plugin::ArtifactUse use;
            use.run_id = rel.filename().string();
            use.path = run_path;
            use.run_dir = rel.generic_string();
            use.status = status;
            use.used_at = num_of(*o, "at");
            use.requested = str_of(*o, "requested");
            out.used_by.push_back(std::move(use));
        }
    }
    std::stable_sort(out.used_by.begin(), out.used_by.end(),
                     [](const auto& a, const auto& b) { return a.used_at < b.used_at; });
    return out;
}

Result<ArtifactVersionInfo> FolderArtifactStore::use(std::string_view reference,
                                                     std::string_view run_dir) {
    RUNICORN_ASSIGN_OR_RETURN(auto info, resolve(reference));
    if (!run_dir.empty()) {
        json::object entry;
        entry["name"] = info.name;
        entry["version"] = info.version;
        entry["digest"] = info.digest;
        entry["requested"] = std::string(reference);
        entry["at"] = now_seconds();
        RUNICORN_RETURN_IF_ERROR(record_in_run(run_dir, "used", entry));
    }
    return info;
}

Result<plugin::ArtifactDownloadResult> FolderArtifactStore::download(
    std::string_view name, int version, const fs::path& dest,
    const plugin::ArtifactDownloadOptions& options) {
    RUNICORN_ASSIGN_OR_RETURN(auto m, manifest(name, version));
    plugin::ArtifactDownloadResult out;
    out.dest = dest;
    std::error_code ec;
    fs::create_directories(dest, ec);
    if (ec || !is_dir(dest)) {
        return errno_status("cannot create download folder", dest, ec ? ec.value() : ENOTDIR);
    }
    if (::access(dest.c_str(), W_OK) != 0) {
        return errno_status("cannot write download folder", dest, errno);
    }
    for (const auto& f : m.files) {
        // read_manifest() refused absolute paths and "..", so every target stays under dest.
        const auto target = dest / f.rel;
        struct stat st {};
        bool replace = false;
        if (::lstat(target.c_str(), &st) == 0) {
            if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) == f.size_bytes) {
                auto h = sha256_file(target);
                if (h && *h == f.sha256) {
                    ++out.unchanged;
                    ++out.files;
                    out.bytes += f.size_bytes;
                    continue;
                }
            }
            if (!options.overwrite) {
                return Status::already_exists("'" + target.string() +
                                              "' exists with other content (use overwrite)");
            }
            replace = true;
        }
        plugin::MaterializeOptions mo;
        mo.link = options.link;
        mo.overwrite = replace;
        mo.executable = f.executable;
        RUNICORN_ASSIGN_OR_RETURN(auto method, blobs_->materialize(f.sha256, target, mo));
        switch (method) {
            case plugin::MaterializeMethod::kHardLink:
                ++out.hardlinks;
                break;
            case plugin::MaterializeMethod::kReflink:
                ++out.reflinks;
                break;
            case plugin::MaterializeMethod::kCopy:
                ++out.copies;
                break;
        }
        ++out.files;
        out.bytes += f.size_bytes;
    }
    return out;
}

}  // namespace runicorn::dedup
