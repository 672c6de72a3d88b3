#include "references.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <optional>

#include <boost/json.hpp>
#include <sqlite3.h>

#include "blob_layout.hpp"
#include "dir_manifest.hpp"
#include "tolerant_json.hpp"
#include <sys/stat.h>

namespace runicorn::dedup {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr int kMaxDepth = 64;

bool has_file(const fs::path& dir, const char* name) {
    struct stat st {};
    return ::stat((dir / name).c_str(), &st) == 0;
}

bool is_dir(const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// A sorted listing of the directories inside `dir` whose names do not start with '.'; a
// symlinked directory is kept only when it resolves inside `root`.
std::vector<fs::path> child_dirs(const fs::path& root, const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        const auto name = it->path().filename().string();
        if (name.starts_with('.')) {
            continue;
        }
        std::error_code type_ec;
        if (it->is_symlink(type_ec)) {
            const auto target = fs::weakly_canonical(it->path(), type_ec);
            const auto canon_root = fs::weakly_canonical(root, type_ec);
            if (type_ec || !is_dir(target)) {
                continue;
            }
            const auto rel = target.lexically_relative(canon_root);
            if (rel.empty() || *rel.begin() == "..") {
                continue;
            }
        } else if (!it->is_directory(type_ec)) {
            continue;
        }
        out.push_back(it->path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

void walk_new_layout(const fs::path& root, const fs::path& dir, int depth,
                     std::vector<fs::path>& runs) {
    if (depth > kMaxDepth) {
        return;
    }
    for (const auto& child : child_dirs(root, dir)) {
        if (has_file(child, "meta.json") || has_file(child, "status.json")) {
            runs.push_back(child.lexically_relative(root));
        } else {
            walk_new_layout(root, child, depth + 1, runs);
        }
    }
}

/// Owns a read-only SQLite connection. Thread safety: externally synchronized.
struct SqliteCloser {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};

/// Accumulates references while the scan runs. Thread safety: externally synchronized.
class Scanner {
public:
    Scanner(fs::path root, const ReferenceScanOptions& options)
        : root_(std::move(root)), options_(options) {}

    ReferenceScan take() { return std::move(scan_); }

    void scan_run(const fs::path& rel_dir) {
        ++scan_.runs;
        const std::string label = "run " + rel_dir.generic_string();
        const auto assets = root_ / rel_dir / "assets.json";
        struct stat st {};
        if (::stat(assets.c_str(), &st) != 0 || st.st_size == 0) {
            return;  // no assets (or v0.6's empty placeholder): no references
        }
        auto v = read_json_file(assets);
        if (!v) {
            scan_.unreadable.push_back("'" + assets.string() + "': " + v.error().message());
            add_problem("bad_reference", assets.string(), v.error().message(), label);
            return;
        }
        const auto* obj = v->if_object();
        if (obj == nullptr) {
            scan_.unreadable.push_back("'" + assets.string() + "': not a JSON object");
            return;
        }
        if (const auto* code = obj->if_contains("code"); code != nullptr && code->is_object()) {
            if (const auto* snap = code->get_object().if_contains("snapshot")) {
                scan_entry(*snap, label, true);
            }
        }
        for (const char* section : {"datasets", "pretrained", "outputs"}) {
            const auto* arr = obj->if_contains(section);
            if (arr == nullptr || !arr->is_array()) {
                continue;
            }
            for (const auto& e : arr->get_array()) {
                scan_entry(e, label, true);
            }
        }
    }

    void scan_artifacts() {
        const auto dir = root_ / "artifacts";
        std::error_code ec;
        for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
             it.increment(ec)) {
            const auto name = it->path().filename().string();
            if (name.starts_with('.') || !is_dir(it->path())) {
                continue;
            }
            std::error_code vec;
            for (fs::directory_iterator v(it->path(), vec); !vec && v != fs::directory_iterator();
                 v.increment(vec)) {
                const auto vname = v->path().filename().string();
                if (vname.size() < 2 || vname[0] != 'v' ||
                    vname.find_first_not_of("0123456789", 1) != std::string::npos) {
                    continue;
                }
                const auto manifest = v->path() / "manifest.json";
                if (!has_file(v->path(), "manifest.json")) {
                    continue;
                }
                ++scan_.artifact_versions;
                std::string label = "artifact ";
                label.append(name).append(":").append(vname);
                follow_manifest(manifest, label, true, true);
            }
        }
    }

    void scan_staging() {
        const auto staging = root_ / "index" / "staging";
        for (const auto& child : list_young(staging / "artifacts")) {
            if (has_file(child, "manifest.json")) {
                follow_manifest(child / "manifest.json",
                                "staging " + child.lexically_relative(root_).generic_string(),
                                false, false);
            }
        }
        for (const auto& child : list_young(staging / "imports")) {
            scan_import_tree(child, "staging " + child.lexically_relative(root_).generic_string());
        }
    }

    void scan_young_manifests() {
        const auto base = root_ / "archive" / "manifests";
        std::error_code ec;
        for (fs::recursive_directory_iterator it(base, ec); !ec && it != fs::end(it);
             it.increment(ec)) {
            const auto name = it->path().filename().string();
            std::error_code type_ec;
            if (name.starts_with('.') || !name.ends_with(".json") ||
                !it->is_regular_file(type_ec)) {
                continue;
            }
            if (young(it->path())) {
                const auto rel = it->path().lexically_relative(root_).generic_string();
                follow_manifest(it->path(), "manifest " + rel + " (young)", false, false);
            }
        }
    }

    void scan_index_db() {
        const auto path = root_ / "index" / "runicorn.db";
        if (!has_file(root_ / "index", "runicorn.db")) {
            return;
        }
        const std::string label = "index runicorn.db";
        std::unique_ptr<sqlite3, SqliteCloser> db;
        // Read-only; a WAL database needs its -shm, which mode=ro can create when the
        // directory is writable. Where it is not, immutable=1 reads the main file alone.
        for (const char* query : {"?mode=ro", "?immutable=1"}) {
            sqlite3* raw = nullptr;
            const std::string uri = "file:" + path.string() + query;
            const int rc =
                sqlite3_open_v2(uri.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
            db.reset(raw);
            if (rc == SQLITE_OK && sqlite3_exec(raw, "SELECT count(*) FROM sqlite_master", nullptr,
                                                nullptr, nullptr) == SQLITE_OK) {
                break;
            }
            db.reset();
        }
        if (!db) {
            scan_.unreadable.push_back("'" + path.string() + "': SQLite cannot open it");
            return;
        }
        sqlite3_busy_timeout(db.get(), 5000);
        sqlite3_stmt* raw_stmt = nullptr;
        const char* sql =
            "SELECT fingerprint_kind, fingerprint, archive_uri FROM assets WHERE is_archived = 1";
        if (sqlite3_prepare_v2(db.get(), sql, -1, &raw_stmt, nullptr) != SQLITE_OK) {
            const std::string why = sqlite3_errmsg(db.get());
            if (why.find("no such table") != std::string::npos) {
                return;  // a database without v0.6's asset table holds no references
            }
            scan_.unreadable.push_back("'" + path.string() + "': " + why);
            return;
        }
        std::unique_ptr<sqlite3_stmt, StmtFinalizer> stmt(raw_stmt);
        int rc = SQLITE_ROW;
        while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
            const auto text = [&](int col) -> std::string {
                const auto* p = sqlite3_column_text(stmt.get(), col);
                return p != nullptr ? reinterpret_cast<const char*>(p) : "";
            };
            const auto kind = text(0);
            const auto fp = text(1);
            const auto uri = text(2);
            if (kind == "sha256" && is_sha256_hex(fp)) {
                mark(fp, {label, -1, false});
            }
            if (!uri.empty()) {
                scan_archive_path(uri, label, /*verify=*/true, /*as_manifest=*/true);
            }
        }
        if (rc != SQLITE_DONE) {
            scan_.unreadable.push_back("'" + path.string() + "': " + sqlite3_errmsg(db.get()));
        }
    }

private:
    bool young(const fs::path& p) const {
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0) {
            return false;
        }
        const auto mtime = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::seconds(st.st_mtim.tv_sec) +
                std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
        return options_.now - mtime < options_.grace;
    }

    std::vector<fs::path> list_young(const fs::path& dir) const {
        std::vector<fs::path> out;
        std::error_code ec;
        for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
             it.increment(ec)) {
            if (young(it->path())) {
                out.push_back(it->path());
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    // An import being staged: blobs named by 64 hex and any manifest in it keep their blobs.
    void scan_import_tree(const fs::path& dir, const std::string& label) {
        std::error_code ec;
        if (!is_dir(dir)) {
            return;
        }
        for (fs::recursive_directory_iterator it(dir, ec); !ec && it != fs::end(it);
             it.increment(ec)) {
            const auto name = it->path().filename().string();
            std::error_code type_ec;
            if (!it->is_regular_file(type_ec)) {
                continue;
            }
            if (is_sha256_hex(name)) {
                mark(name, {label, -1, false});
            } else if (name.ends_with(".json")) {
                auto v = read_json_file(it->path());
                if (v && v->is_object() && v->get_object().contains("files")) {
                    if (auto m = manifest_from_json(*v)) {
                        for (const auto& f : m->files) {
                            mark(f.sha256, {label, -1, false});
                        }
                    }
                }
            }
        }
    }

    void add_problem(std::string kind, std::string object, std::string detail,
                     const std::string& referrer) {
        plugin::BlobProblem p;
        p.kind = std::move(kind);
        p.object = std::move(object);
        p.detail = std::move(detail);
        p.referrers.push_back(referrer);
        scan_.problems.push_back(std::move(p));
    }

    void mark(const std::string& sha, BlobRef ref) { scan_.blobs[sha].push_back(std::move(ref)); }

    // One asset entry of assets.json (R1), following a manifest it names (R2).
    void scan_entry(const json::value& v, const std::string& label, bool verify) {
        const auto* e = v.if_object();
        if (e == nullptr) {
            return;
        }
        const auto* kind_v = e->if_contains("fingerprint_kind");
        if (kind_v == nullptr || !kind_v->is_string()) {
            return;
        }
        const std::string_view kind = kind_v->get_string();
        if (kind == "sha256") {
            const auto* ap = e->if_contains("archive_path");
            if (ap == nullptr || !ap->is_string()) {
                return;
            }
            auto name = blob_name_from_archive_path(ap->get_string());
            if (!name) {
                add_problem("bad_reference", std::string(ap->get_string()), name.error().message(),
                            label);
                return;
            }
            if (!name->has_value()) {
                return;  // a rolling copy or another non-blob archive object
            }
            // A sha256 entry's size is not recorded in assets.json.
            mark(**name, {label, -1, verify});
            const auto* fp = e->if_contains("fingerprint");
            if (fp != nullptr && fp->is_string() && is_sha256_hex(fp->get_string()) &&
                fp->get_string() != **name) {
                // Keep both: a disagreement is verify's business, never a reason to delete.
                mark(std::string(fp->get_string()), {label, -1, false});
            }
        } else if (kind == "sha256_manifest") {
            std::set<std::string_view> seen;  // v0.6 records the same path under both keys
            for (const char* key : {"manifest_path", "archive_path"}) {
                const auto* p = e->if_contains(key);
                if (p != nullptr && p->is_string() && seen.insert(p->get_string()).second) {
                    scan_archive_path(p->get_string(), label, verify, true);
                }
            }
        }
    }

    // A recorded path that may name a blob or a manifest (R1's manifest fields, R5's
    // archive_uri).
    void scan_archive_path(std::string_view recorded, const std::string& label, bool verify,
                           bool as_manifest) {
        auto blob = blob_name_from_archive_path(recorded);
        if (blob && blob->has_value()) {
            mark(**blob, {label, -1, verify});
            return;
        }
        if (!as_manifest) {
            return;
        }
        auto manifest = manifest_path_from_archive_path(root_, recorded);
        if (!manifest) {
            add_problem("bad_reference", std::string(recorded), manifest.error().message(), label);
            return;
        }
        if (!manifest->has_value()) {
            return;
        }
        const auto rel = (*manifest)->lexically_relative(root_).generic_string();
        scan_.manifests_named.insert(rel);
        follow_manifest(**manifest, label, verify, true);
    }

    // Marks every file of a manifest. `strict`: a manifest that exists but cannot be read blocks
    // GC (its blobs are unknown); a missing one is a verify problem.
    void follow_manifest(const fs::path& path, const std::string& label, bool verify, bool strict) {
        const auto key = path.lexically_normal().string();
        auto cached = manifests_.find(key);
        if (cached == manifests_.end()) {
            std::optional<plugin::DirManifest> parsed;
            std::string error;
            auto v = read_json_file(path);
            if (!v) {
                error = v.error().message();
                missing_[key] = v.error().code() == StatusCode::kNotFound;
            } else if (auto m = manifest_from_json(*v); !m) {
                error = "reading '" + path.string() + "': " + m.error().message();
            } else {
                parsed = std::move(*m);
            }
            cached = manifests_.emplace(key, std::make_pair(std::move(parsed), error)).first;
        }
        const auto& [manifest, error] = cached->second;
        if (!manifest) {
            if (verify) {
                add_problem(missing_[key] ? "missing" : "bad_manifest", path.string(), error,
                            label);
            }
            if (strict && !missing_[key]) {
                const std::string line = "'" + path.string() + "': " + error;
                if (std::find(scan_.unreadable.begin(), scan_.unreadable.end(), line) ==
                    scan_.unreadable.end()) {
                    scan_.unreadable.push_back(line);
                }
            }
            return;
        }
        for (const auto& f : manifest->files) {
            mark(f.sha256, {label, static_cast<std::int64_t>(f.size_bytes), verify});
        }
    }

    fs::path root_;
    ReferenceScanOptions options_;
    ReferenceScan scan_;
    std::map<std::string, std::pair<std::optional<plugin::DirManifest>, std::string>> manifests_;
    std::map<std::string, bool> missing_;
};

}  // namespace

std::vector<fs::path> discover_runs(const fs::path& root) {
    std::vector<fs::path> runs;
    if (is_dir(root / "runs")) {
        walk_new_layout(root, root / "runs", 0, runs);
    }
    constexpr std::array<std::string_view, 4> kReserved = {"runs", "archive", "index", "webui"};
    for (const auto& project : child_dirs(root, root)) {
        if (std::find(kReserved.begin(), kReserved.end(), project.filename().string()) !=
            kReserved.end()) {
            continue;
        }
        for (const auto& name : child_dirs(root, project)) {
            if (!is_dir(name / "runs")) {
                continue;
            }
            for (const auto& run : child_dirs(root, name / "runs")) {
                runs.push_back(run.lexically_relative(root));
            }
        }
    }
    std::sort(runs.begin(), runs.end());
    runs.erase(std::unique(runs.begin(), runs.end()), runs.end());
    return runs;
}

Result<ReferenceScan> scan_references(const fs::path& root, const ReferenceScanOptions& options) {
    Scanner scanner(root, options);
    for (const auto& run : discover_runs(root)) {
        scanner.scan_run(run);
    }
    scanner.scan_artifacts();
    if (options.index_db) {
        scanner.scan_index_db();
    }
    if (options.staging) {
        scanner.scan_staging();
    }
    if (options.young_manifests) {
        scanner.scan_young_manifests();
    }
    return scanner.take();
}

}  // namespace runicorn::dedup
