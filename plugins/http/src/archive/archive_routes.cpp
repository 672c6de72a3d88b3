#include "archive_routes.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "../api/api_common.hpp"
#include "../responses.hpp"
#include "export_plan.hpp"
#include "multipart.hpp"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::http_plugin::archive {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using plugin::HttpRequest;
using plugin::HttpResponse;

using Options = std::shared_ptr<const ArchiveRouteOptions>;

plugin::HttpResponse streamed(ExportPlan plan, ArchiveFormat format, const std::string& filename) {
    HttpResponse res;
    res.status = 200;
    res.content_type = format == ArchiveFormat::kZip ? "application/zip" : "application/gzip";
    res.headers.emplace_back("Content-Disposition", attachment(filename));
    res.headers.emplace_back("Cache-Control", "no-store");
    auto shared = std::make_shared<const ExportPlan>(std::move(plan));
    res.stream = [shared, format](plugin::BodySink& sink) {
        return write_plan(*shared, format, sink);
    };
    return res;
}

ExportRun to_export_run(const plugin::RunInfo& run) {
    return ExportRun{run.location.run_id, run.location.path, run.location.dir};
}

HttpResponse internal_error(const Options& o, std::string_view what, const Status& s) {
    if (o->logger != nullptr) {
        o->logger->error("{}: {}", what, s.to_string());
    }
    return error_response(500, "INTERNAL", "Internal error");
}

std::string created_by(const std::string& version) { return "runicorn-cpp/" + version; }

HttpResponse export_run(const Options& o, const HttpRequest& request) {
    const std::string run_id = request.param("run_id").value_or("");
    bool include_archive = true;
    if (auto err = api::query_bool(request, "include_archive", include_archive)) {
        return *err;
    }
    Result<plugin::RunInfo> run = o->store->find_run(run_id, false);
    if (!run) {
        if (run.error().code() == StatusCode::kNotFound) {
            return api::run_not_found();
        }
        return internal_error(o, "finding run", run.error());
    }
    ExportRequest req;
    req.root = o->root;
    req.runs.push_back(to_export_run(*run));
    req.include_archive = include_archive;
    req.created_by = created_by(o->version);
    Result<ExportPlan> plan = plan_export(req);
    if (!plan) {
        return internal_error(o, "planning an export", plan.error());
    }
    return streamed(std::move(*plan), ArchiveFormat::kTarGz, "runicorn_" + run_id + ".tar.gz");
}

/// Resolves "name[:ref]" (ref: latest, v<N> or an alias) against artifacts/<name>/.
Result<ExportArtifact> resolve_artifact(const fs::path& root, const std::string& reference) {
    const std::size_t colon = reference.find(':');
    const std::string name = reference.substr(0, colon);
    const std::string ref = colon == std::string::npos ? "latest" : reference.substr(colon + 1);
    const bool name_ok = !name.empty() && name.size() <= 128 &&
                         std::all_of(name.begin(), name.end(),
                                     [](char c) {
                                         return std::isalnum(static_cast<unsigned char>(c)) ||
                                                c == '.' || c == '_' || c == '-';
                                     }) &&
                         name[0] != '.' && name[0] != '-' && name[0] != '_';
    const fs::path dir = root / "artifacts" / name;
    std::error_code ec;
    if (!name_ok || !fs::is_regular_file(dir / "artifact.json", ec)) {
        return Status::not_found("Artifact not found: " + reference);
    }
    int version = 0;
    if (ref == "latest") {
        for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
             it.increment(ec)) {
            const std::string v = it->path().filename().string();
            if (v.size() > 1 && v[0] == 'v' &&
                v.find_first_not_of("0123456789", 1) == std::string::npos && v.size() < 10) {
                version = std::max(version, std::stoi(v.substr(1)));
            }
        }
    } else if (ref.size() > 1 && ref[0] == 'v' &&
               ref.find_first_not_of("0123456789", 1) == std::string::npos && ref.size() < 10) {
        version = std::stoi(ref.substr(1));
    } else {
        std::ifstream in(dir / "aliases.json");
        std::stringstream text;
        text << in.rdbuf();
        std::error_code jec;
        const json::value aliases = json::parse(text.str(), jec);
        const json::value* map =
            !jec && aliases.is_object() ? aliases.get_object().if_contains("aliases") : nullptr;
        const json::value* target =
            map != nullptr && map->is_object() ? map->get_object().if_contains(ref) : nullptr;
        if (target != nullptr && target->is_int64()) {
            version = static_cast<int>(target->as_int64());
        }
    }
    if (version <= 0 || !fs::is_directory(dir / ("v" + std::to_string(version)), ec)) {
        return Status::not_found("Artifact not found: " + reference);
    }
    return ExportArtifact{name, version};
}

HttpResponse export_selection(const Options& o, const HttpRequest& request) {
    json::object body;
    if (auto err = api::object_body(request, body)) {
        return *err;
    }
    auto get_bool = [&body](const char* key, bool fallback) -> std::optional<bool> {
        const json::value* v = body.if_contains(key);
        if (v == nullptr || v->is_null()) {
            return fallback;
        }
        if (!v->is_bool()) {
            return std::nullopt;
        }
        return v->get_bool();
    };
    const std::optional<bool> include_archive = get_bool("include_archive", true);
    const std::optional<bool> include_deleted = get_bool("include_deleted", false);
    const std::optional<bool> exact = get_bool("exact", false);
    for (const auto& [key, value] :
         {std::pair{"include_archive", include_archive},
          std::pair{"include_deleted", include_deleted}, std::pair{"exact", exact}}) {
        if (!value) {
            return validation_error({"body", key}, "value could not be parsed to a boolean",
                                    "type_error.bool");
        }
    }
    auto strings = [&body](const char* key, std::vector<std::string>& out) -> bool {
        const json::value* v = body.if_contains(key);
        if (v == nullptr || v->is_null()) {
            return true;
        }
        if (!v->is_array()) {
            return false;
        }
        for (const json::value& item : v->get_array()) {
            if (!item.is_string()) {
                return false;
            }
            out.emplace_back(item.get_string());
        }
        return true;
    };
    std::vector<std::string> run_ids;
    std::vector<std::string> artifact_refs;
    if (!strings("run_ids", run_ids)) {
        return validation_error({"body", "run_ids"}, "value is not a valid list of strings",
                                "type_error.list");
    }
    if (!strings("artifacts", artifact_refs)) {
        return validation_error({"body", "artifacts"}, "value is not a valid list of strings",
                                "type_error.list");
    }
    std::optional<std::string> path;
    std::string q;
    if (const json::value* v = body.if_contains("path"); v != nullptr && !v->is_null()) {
        if (!v->is_string()) {
            return validation_error({"body", "path"}, "str type expected", "type_error.str");
        }
        path = std::string(v->get_string());
    }
    if (const json::value* v = body.if_contains("q"); v != nullptr && !v->is_null()) {
        if (!v->is_string()) {
            return validation_error({"body", "q"}, "str type expected", "type_error.str");
        }
        q = std::string(v->get_string());
    }
    if (run_ids.empty() && artifact_refs.empty() && !path && q.empty()) {
        return validation_error({"body"},
                                "at least one of run_ids, path, q or artifacts is required",
                                "value_error.missing");
    }
    ExportRequest req;
    req.root = o->root;
    req.include_archive = *include_archive;
    req.created_by = created_by(o->version);
    std::set<std::string> seen_dirs;
    auto add_run = [&req, &seen_dirs](const plugin::RunInfo& run) {
        if (seen_dirs.insert(run.location.dir.string()).second) {
            req.runs.push_back(to_export_run(run));
        }
    };
    for (const std::string& id : run_ids) {
        Result<plugin::RunInfo> run = o->store->find_run(id, *include_deleted);
        if (run) {
            add_run(*run);
        } else if (run.error().code() != StatusCode::kNotFound &&
                   run.error().code() != StatusCode::kInvalidArgument) {
            return internal_error(o, "finding run", run.error());
        }
    }
    if (path || !q.empty()) {
        plugin::RunQuery query;
        query.count = false;
        query.path = path;
        query.exact_path = *exact;
        query.filter = q;
        query.deleted =
            *include_deleted ? plugin::DeletedFilter::kAny : plugin::DeletedFilter::kExclude;
        Result<plugin::RunPage> page = o->store->list_runs(query);
        if (!page) {
            if (page.error().code() == StatusCode::kInvalidArgument) {
                return error_response(400, "INVALID_FILTER", page.error().message());
            }
            return internal_error(o, "listing runs", page.error());
        }
        for (const plugin::RunInfo& run : page->runs) {
            add_run(run);
        }
    }
    for (const std::string& ref : artifact_refs) {
        Result<ExportArtifact> a = resolve_artifact(o->root, ref);
        if (!a) {
            return error_response(404, "ARTIFACT_NOT_FOUND", a.error().message());
        }
        req.artifacts.push_back(*a);
    }
    if (req.runs.empty() && req.artifacts.empty()) {
        return error_response(404, "NOT_FOUND", "Nothing matches the export selection");
    }
    Result<ExportPlan> plan = plan_export(req);
    if (!plan) {
        return internal_error(o, "planning an export", plan.error());
    }
    return streamed(std::move(*plan), ArchiveFormat::kTarGz, "runicorn_export.tar.gz");
}

json::value report_json(const fs::path& root, const ImportReport& r) {
    json::object out;
    out["ok"] = true;
    out["imported_files"] = r.imported_files;
    json::array dirs;
    for (const fs::path& d : r.new_run_dirs) {
        dirs.emplace_back(d.string());
    }
    out["new_run_dirs"] = std::move(dirs);
    json::array ids;
    for (const std::string& id : r.new_run_ids) {
        ids.emplace_back(id);
    }
    out["new_run_ids"] = std::move(ids);
    out["storage"] = root.string();
    json::array skipped;
    for (const ImportSkip& s : r.skipped) {
        skipped.emplace_back(json::object{{"entry", s.entry}, {"reason", s.reason}});
    }
    out["skipped"] = std::move(skipped);
    json::array conflicts;
    for (const ImportConflict& c : r.conflicts) {
        conflicts.emplace_back(
            json::object{{"run_id", c.run_id},
                         {"path", c.path ? json::value(*c.path) : json::value(nullptr)},
                         {"reason", c.reason}});
    }
    out["conflicts"] = std::move(conflicts);
    out["blobs_added"] = r.blobs_added;
    json::array warnings;
    for (const std::string& w : r.warnings) {
        warnings.emplace_back(w);
    }
    out["warnings"] = std::move(warnings);
    return out;
}

/// A read-only mapping of a spooled request body (HttpRequest::body_file), so a multi-GiB upload
/// is parsed without reading it into memory. Thread safety: externally synchronized.
class MappedBody {
public:
    MappedBody() = default;
    MappedBody(const MappedBody&) = delete;
    MappedBody& operator=(const MappedBody&) = delete;
    MappedBody(MappedBody&&) = delete;
    MappedBody& operator=(MappedBody&&) = delete;
    ~MappedBody() {
        if (data_ != nullptr) {
            ::munmap(data_, size_);
        }
    }

    Status map(const std::filesystem::path& path) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
            return Status::internal("cannot open the spooled upload: " +
                                    std::generic_category().message(errno));
        }
        struct stat st {};
        Status s;
        if (::fstat(fd, &st) != 0) {
            s = Status::internal("cannot stat the spooled upload");
        } else if (st.st_size > 0) {
            void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE,
                             fd, 0);
            if (p == MAP_FAILED) {
                s = Status::internal("cannot map the spooled upload: " +
                                     std::generic_category().message(errno));
            } else {
                data_ = p;
                size_ = static_cast<std::size_t>(st.st_size);
            }
        }
        ::close(fd);
        return s;
    }
    std::string_view view() const {
        return data_ == nullptr ? std::string_view()
                                : std::string_view(static_cast<char*>(data_), size_);
    }

private:
    void* data_ = nullptr;
    std::size_t size_ = 0;
};

HttpResponse import_upload(const Options& o, const HttpRequest& request) {
    // Uploads above 1 MiB arrive spooled to a file (RouteSpec::max_body_bytes below).
    MappedBody mapped;
    std::string_view body = request.body;
    if (!request.body_file.empty()) {
        if (Status s = mapped.map(request.body_file); !s.is_ok()) {
            return internal_error(o, "reading the upload", s);
        }
        body = mapped.view();
    }
    Result<FormPart> part =
        find_form_part(request.header("content-type").value_or(""), body, "file");
    if (!part) {
        if (part.error().code() == StatusCode::kNotFound) {
            return validation_error({"body", "file"}, "field required", "value_error.missing");
        }
        return error_response(400, part.error().message());
    }
    if (part->content.size() > o->limits.max_upload_bytes) {
        return error_response(413, "Archive upload is too large");
    }
    Result<StagingDir> staging = StagingDir::create(o->root);
    if (!staging) {
        return internal_error(o, "creating the import staging directory", staging.error());
    }
    ImportOptions options;
    options.root = o->root;
    options.staging = staging->path();
    options.upload = staging->path() / "upload";
    options.filename = part->filename;
    options.limits = o->limits;
    std::shared_ptr<plugin::RunStore> store = o->store;
    options.run_exists = [store](std::string_view id) {
        return store->find_run(id, true).has_value();
    };
    if (Status s = write_new_file(options.upload, part->content); !s.is_ok()) {
        return internal_error(o, "writing the upload", s);
    }
    Result<ImportReport> report = import_archive(options);
    if (!report) {
        const Status& s = report.error();
        switch (s.code()) {
            case StatusCode::kInvalidArgument:
                return error_response(400, s.message());
            case StatusCode::kDataLoss:
                return error_response(400, "BLOB_MISMATCH", s.message());
            case StatusCode::kResourceExhausted:
                return error_response(413, s.message());
            default:
                return internal_error(o, "importing an archive", s);
        }
    }
    if (!report->new_run_ids.empty()) {
        if (Result<std::size_t> r = store->refresh(); !r && o->logger != nullptr) {
            o->logger->warn("catalog refresh after an import failed: {}", r.error().to_string());
        }
    }
    return json_response(200, report_json(o->root, *report));
}

api::Handler with_store(const Options& o, HttpResponse (*fn)(const Options&, const HttpRequest&)) {
    return [o, fn](const HttpRequest& request) {
        if (o->store == nullptr) {
            return api::store_missing();
        }
        return fn(o, request);
    };
}

}  // namespace

std::string attachment(const std::string& name) {
    std::string safe = name;
    for (char& c : safe) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
            c = '_';
        }
    }
    return "attachment; filename=\"" + safe + "\"";
}

ImportLimits import_limits_from_config(const json::object& plugin_config) {
    ImportLimits limits;
    const json::value* section = plugin_config.if_contains("import");
    if (section == nullptr || !section->is_object()) {
        return limits;
    }
    auto read = [&section](const char* key, std::uint64_t& field) {
        const json::value* v = section->get_object().if_contains(key);
        if (v != nullptr && v->is_int64() && v->as_int64() > 0) {
            field = static_cast<std::uint64_t>(v->as_int64());
        } else if (v != nullptr && v->is_uint64() && v->as_uint64() > 0) {
            field = v->as_uint64();
        }
    };
    read("max_upload_bytes", limits.max_upload_bytes);
    read("max_total_bytes", limits.max_total_bytes);
    read("max_entries", limits.max_entries);
    read("max_ratio", limits.max_ratio);
    read("ratio_floor_bytes", limits.ratio_floor_bytes);
    return limits;
}

HttpResponse path_export_archive(const fs::path& root, const std::string& version,
                                 const std::vector<plugin::RunInfo>& runs, json::array items,
                                 const std::string& path, const std::string& format) {
    if (runs.empty()) {
        return error_response(404, "No runs found for this path");
    }
    std::vector<ExportRun> export_runs;
    export_runs.reserve(runs.size());
    for (const plugin::RunInfo& run : runs) {
        export_runs.push_back(to_export_run(run));
    }
    std::string stem = path;
    std::replace(stem.begin(), stem.end(), '/', '_');
    const bool zip = format == "zip";
    Result<ExportPlan> plan = [&]() -> Result<ExportPlan> {
        if (zip) {
            json::object index;
            index["path"] = path;
            index["total_runs"] = items.size();
            index["runs"] = std::move(items);
            return plan_path_zip(root, export_runs, json::serialize(index));
        }
        ExportRequest req;
        req.root = root;
        req.runs = std::move(export_runs);
        req.include_archive = true;
        req.created_by = created_by(version);
        return plan_export(req);
    }();
    if (!plan) {
        return error_response(plan.error());
    }
    return streamed(std::move(*plan), zip ? ArchiveFormat::kZip : ArchiveFormat::kTarGz,
                    "runicorn_export_" + stem + (zip ? ".zip" : ".tar.gz"));
}

Status add_archive_routes(plugin::HttpRoutes& routes,
                          std::shared_ptr<const ArchiveRouteOptions> options) {
    const Options o = std::move(options);
    RUNICORN_RETURN_IF_ERROR(api::add_route(
        routes,
        plugin::RouteSpec{"GET",
                          "/api/runs/:run_id/export",
                          "Export one run as a tar.gz archive (FORMAT.md §7.8)",
                          false,
                          {plugin::RouteParameter{"include_archive", "query", false, "boolean",
                                                  "Add the blobs, manifests and rolling outputs "
                                                  "the run references (default true)"}}},
        with_store(o, &export_run)));
    RUNICORN_RETURN_IF_ERROR(api::add_route(
        routes,
        plugin::RouteSpec{"POST", "/api/export",
                          "Export selected runs and artifacts as a tar.gz archive", false},
        with_store(o, &export_selection)));
    plugin::RouteSpec import_spec{"POST", "/api/import/archive",
                                  "Import a .zip, .tar.gz or .tgz archive into the store", true};
    // The archive plus its multipart framing; the server spools such a body to disk.
    constexpr std::uint64_t kMultipartSlack = std::uint64_t{64} * 1024;
    import_spec.max_body_bytes = o->limits.max_upload_bytes + kMultipartSlack;
    RUNICORN_RETURN_IF_ERROR(
        api::add_route(routes, std::move(import_spec), with_store(o, &import_upload)));
    return Status::ok();
}

}  // namespace runicorn::http_plugin::archive
