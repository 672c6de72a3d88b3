#include "export_plan.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "entry_names.hpp"

namespace runicorn::http_plugin::archive {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

bool is_hex64(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

/// The JSON document in `file`, or null when it is absent or unreadable.
json::value read_json(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return nullptr;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::error_code ec;
    json::value v = json::parse(text.str(), ec);
    return ec ? json::value(nullptr) : v;
}

/// Lock and heartbeat files are never exported (FORMAT.md §7.8).
bool skipped_run_file(const std::string& name) {
    return name == ".heartbeat.json" ||
           (name.size() >= 5 && name.compare(name.size() - 5, 5, ".lock") == 0);
}

/// `rel` joined with '/' from the path components of `p`.
std::string generic(const fs::path& p) { return p.generic_string(); }

/// Adds every regular file under `dir` (symlinks and special files skipped) as entries named
/// `prefix` + its relative path. `run_folder` applies the run rules (locks out, append cuts).
Status add_tree(std::vector<ExportEntry>& out, const fs::path& dir, const std::string& prefix,
                bool run_folder) {
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
        if (ec == std::errc::no_such_file_or_directory) {
            return Status::ok();
        }
        return Status::unavailable("listing " + dir.string() + ": " + ec.message());
    }
    std::vector<ExportEntry> found;
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) {
            return Status::unavailable("listing " + dir.string() + ": " + ec.message());
        }
        const fs::directory_entry& e = *it;
        if (e.is_symlink(ec)) {
            if (e.is_directory(ec)) {
                it.disable_recursion_pending();
            }
            continue;
        }
        if (!e.is_regular_file(ec)) {
            continue;
        }
        const std::string leaf = e.path().filename().string();
        if (run_folder && skipped_run_file(leaf)) {
            continue;
        }
        ExportEntry entry;
        entry.name = prefix + generic(e.path().lexically_relative(dir));
        entry.source = e.path();
        if (run_folder && it.depth() == 0 && (leaf == "events.jsonl" || leaf == "logs.txt")) {
            entry.cut = ReadCut::kLastNewline;
        }
        found.push_back(std::move(entry));
    }
    std::sort(found.begin(), found.end(),
              [](const ExportEntry& a, const ExportEntry& b) { return a.name < b.name; });
    out.insert(out.end(), std::make_move_iterator(found.begin()),
               std::make_move_iterator(found.end()));
    return Status::ok();
}

/// The run folder relative to the root, '/'-separated; an error when it lies outside.
Result<std::string> run_rel_dir(const fs::path& root, const ExportRun& run) {
    const std::string rel = generic(run.dir.lexically_normal().lexically_relative(root));
    const EntryName checked = normalize_entry_name(rel);
    if (rel.empty() || !checked.refusal.empty()) {
        return Status::invalid_argument("run folder " + run.dir.string() +
                                        " is not inside the storage root");
    }
    return checked.name;
}

/// Blob and manifest references of the archive objects an export carries.
struct ArchiveRefs {
    std::set<std::string> blobs;      ///< 64-hex names.
    std::set<std::string> manifests;  ///< Root-relative manifest paths.
};

void add_manifest_blobs(ArchiveRefs& refs, const json::value& manifest) {
    const json::object* obj = manifest.if_object();
    const json::value* files_value = obj != nullptr ? obj->if_contains("files") : nullptr;
    const json::object* files = files_value != nullptr ? files_value->if_object() : nullptr;
    if (files == nullptr) {
        return;
    }
    for (const auto& kv : *files) {
        const json::object* f = kv.value().if_object();
        const json::value* sha = f != nullptr ? f->if_contains("sha256") : nullptr;
        if (sha != nullptr && sha->is_string() && is_hex64(sha->get_string())) {
            refs.blobs.emplace(sha->get_string());
        }
    }
}

void add_recorded(ArchiveRefs& refs, const json::value* recorded) {
    if (recorded == nullptr || !recorded->is_string()) {
        return;
    }
    const std::optional<std::string> rel = archive_relative(recorded->get_string());
    if (!rel) {
        return;
    }
    constexpr std::string_view kBlobs = "archive/blobs/";
    if (rel->rfind(kBlobs, 0) == 0) {
        const std::string name = rel->substr(rel->rfind('/') + 1);
        if (is_hex64(name) && *rel == std::string(kBlobs) + name.substr(0, 2) + "/" + name) {
            refs.blobs.insert(name);
        }
    } else if (rel->rfind("archive/manifests/", 0) == 0) {
        refs.manifests.insert(*rel);
    }
}

/// R1 and R2 of FORMAT.md §7.7 for one run: the assets.json entries and the manifests they name.
void collect_run_refs(ArchiveRefs& refs, const fs::path& run_dir) {
    const json::value assets = read_json(run_dir / "assets.json");
    const json::object* obj = assets.if_object();
    if (obj == nullptr) {
        return;
    }
    auto visit = [&refs](const json::value& entry) {
        if (const json::object* e = entry.if_object()) {
            add_recorded(refs, e->if_contains("archive_path"));
            add_recorded(refs, e->if_contains("manifest_path"));
        }
    };
    if (const json::value* code = obj->if_contains("code"); code != nullptr && code->is_object()) {
        if (const json::value* snap = code->get_object().if_contains("snapshot")) {
            visit(*snap);
        }
    }
    for (const char* section : {"datasets", "pretrained", "outputs"}) {
        if (const json::value* list = obj->if_contains(section);
            list != nullptr && list->is_array()) {
            for (const json::value& entry : list->get_array()) {
                visit(entry);
            }
        }
    }
}

json::value store_id(const fs::path& root) {
    const json::value marker = read_json(root / "runicorn-store.json");
    if (const json::object* o = marker.if_object()) {
        if (const json::value* id = o->if_contains("store_id"); id != nullptr && id->is_string()) {
            return *id;
        }
    }
    return nullptr;
}

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::optional<std::string> archive_relative(std::string_view recorded) {
    std::string text(recorded);
    std::replace(text.begin(), text.end(), '\\', '/');
    std::size_t best = std::string::npos;
    for (std::string_view marker :
         {"/archive/blobs/", "/archive/manifests/", "/archive/outputs/rolling/"}) {
        const std::size_t pos = text.rfind(marker);
        if (pos != std::string::npos && (best == std::string::npos || pos > best)) {
            best = pos;
        }
    }
    std::string rel;
    if (best != std::string::npos) {
        rel = text.substr(best + 1);
    } else if (text.rfind("archive/", 0) == 0) {
        rel = text;
    } else {
        return std::nullopt;
    }
    const EntryName checked = normalize_entry_name(rel);
    if (!checked.refusal.empty() || checked.trailing_slash) {
        return std::nullopt;
    }
    return checked.name;
}

Result<ExportPlan> plan_export(const ExportRequest& request) {
    const fs::path root = request.root.lexically_normal();
    ExportPlan plan;
    ArchiveRefs refs;
    json::array runs_doc;
    std::vector<ExportEntry> run_files;
    std::vector<ExportEntry> rolling_files;
    for (const ExportRun& run : request.runs) {
        RUNICORN_ASSIGN_OR_RETURN(std::string rel, run_rel_dir(root, run));
        RUNICORN_RETURN_IF_ERROR(add_tree(run_files, run.dir, rel + "/", true));
        json::object r;
        r["id"] = run.run_id;
        r["path"] = run.path ? json::value(*run.path) : json::value(nullptr);
        r["rel_dir"] = rel;
        runs_doc.emplace_back(std::move(r));
        if (request.include_archive) {
            collect_run_refs(refs, run.dir);
            if (normalize_entry_name(run.run_id).name == run.run_id &&
                run.run_id.find('/') == std::string::npos) {
                RUNICORN_RETURN_IF_ERROR(
                    add_tree(rolling_files, root / "archive" / "outputs" / "rolling" / run.run_id,
                             "archive/outputs/rolling/" + run.run_id + "/", false));
            }
        }
    }
    std::vector<ExportEntry> artifact_files;
    json::array artifacts_doc;
    std::set<std::string> artifact_heads;
    for (const ExportArtifact& a : request.artifacts) {
        const EntryName name = normalize_entry_name(a.name);
        if (!name.refusal.empty() || a.name.find('/') != std::string::npos || a.version <= 0) {
            return Status::invalid_argument("bad artifact name '" + a.name + "'");
        }
        const fs::path dir = root / "artifacts" / a.name;
        const std::string prefix = "artifacts/" + a.name + "/";
        if (artifact_heads.insert(a.name).second) {
            for (const char* head : {"artifact.json", "aliases.json"}) {
                std::error_code ec;
                if (fs::is_regular_file(fs::symlink_status(dir / head, ec))) {
                    artifact_files.push_back({prefix + head, dir / head, ReadCut::kWhole});
                }
            }
        }
        const std::string vdir = "v" + std::to_string(a.version);
        RUNICORN_RETURN_IF_ERROR(add_tree(artifact_files, dir / vdir, prefix + vdir + "/", false));
        if (request.include_archive) {
            add_manifest_blobs(refs, read_json(dir / vdir / "manifest.json"));
        }
        artifacts_doc.emplace_back(a.name + ":" + vdir);
    }
    std::vector<ExportEntry> archive_files;
    if (request.include_archive) {
        for (const std::string& m : refs.manifests) {
            const fs::path file = root / m;
            std::error_code ec;
            if (!fs::is_regular_file(fs::symlink_status(file, ec))) {
                continue;
            }
            add_manifest_blobs(refs, read_json(file));
            archive_files.push_back({m, file, ReadCut::kWhole});
        }
        for (const std::string& sha : refs.blobs) {
            const std::string rel = "archive/blobs/" + sha.substr(0, 2) + "/" + sha;
            std::error_code ec;
            if (fs::is_regular_file(fs::symlink_status(root / rel, ec))) {
                archive_files.push_back({rel, root / rel, ReadCut::kWhole});
            }
        }
    }
    json::object doc;
    doc["format"] = "runicorn-export";
    doc["format_version"] = 1;
    doc["created_at"] = now_seconds();
    doc["created_by"] = request.created_by;
    doc["source_store_id"] = store_id(root);
    doc["runs"] = std::move(runs_doc);
    doc["artifacts"] = std::move(artifacts_doc);
    doc["include_archive"] = request.include_archive;
    plan.documents.emplace_back("RUNICORN-EXPORT.json", json::serialize(doc));
    for (auto* part : {&run_files, &archive_files, &rolling_files, &artifact_files}) {
        plan.files.insert(plan.files.end(), std::make_move_iterator(part->begin()),
                          std::make_move_iterator(part->end()));
    }
    return plan;
}

Result<ExportPlan> plan_path_zip(const fs::path& root, const std::vector<ExportRun>& runs,
                                 std::string index_json) {
    ExportPlan plan;
    plan.documents.emplace_back("index.json", std::move(index_json));
    for (const ExportRun& run : runs) {
        RUNICORN_ASSIGN_OR_RETURN(std::string rel, run_rel_dir(root.lexically_normal(), run));
        RUNICORN_RETURN_IF_ERROR(add_tree(plan.files, run.dir, rel + "/", true));
    }
    return plan;
}

Status write_plan(const ExportPlan& plan, ArchiveFormat format, plugin::BodySink& sink) {
    RUNICORN_ASSIGN_OR_RETURN(std::unique_ptr<ArchiveWriter> writer,
                              ArchiveWriter::open(format, sink));
    for (const auto& [name, content] : plan.documents) {
        RUNICORN_RETURN_IF_ERROR(writer->add_bytes(name, content));
    }
    for (const ExportEntry& e : plan.files) {
        Status s = writer->add_file(e.name, e.source, e.cut);
        if (s.code() == StatusCode::kNotFound) {
            continue;  // removed since planning (a purged run, a replaced rolling copy)
        }
        RUNICORN_RETURN_IF_ERROR(s);
    }
    return writer->finish();
}

}  // namespace runicorn::http_plugin::archive
