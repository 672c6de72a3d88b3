#include "dedup_routes.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <exception>
#include <functional>

#include <boost/json.hpp>

#include "file_ops.hpp"
#include "sha256.hpp"
#include "tolerant_json.hpp"
#include <unistd.h>

namespace runicorn::dedup {
namespace json = boost::json;
using plugin::HttpRequest;
using plugin::HttpResponse;

namespace {

using Fn = std::function<HttpResponse(const HttpRequest&)>;

/// A route whose code is a function; exceptions become a 500 here so none leaves the plugin.
/// Thread safety: safe for concurrent use (the functions only use thread-safe services).
class FunctionHandler final : public plugin::RouteHandler {
public:
    explicit FunctionHandler(Fn fn) : fn_(std::move(fn)) {}
    HttpResponse handle(const HttpRequest& request) override {
        try {
            return fn_(request);
        } catch (const std::exception&) {
        } catch (...) {
        }
        return error(500, "Internal error", "INTERNAL");
    }
    static HttpResponse error(unsigned status, const std::string& detail, const std::string& code) {
        HttpResponse r;
        r.status = status;
        r.body = json::serialize(json::object{{"detail", detail}, {"code", code}});
        return r;
    }

private:
    Fn fn_;
};

HttpResponse error(unsigned status, const std::string& detail, const std::string& code) {
    return FunctionHandler::error(status, detail, code);
}

HttpResponse ok(const json::value& body) {
    HttpResponse r;
    r.body = json::serialize(body);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

/// STYLE.md rule 11, refined by API.md §1.2.
HttpResponse from_status(const Status& s) {
    switch (s.code()) {
        case StatusCode::kInvalidArgument:
            return error(400, s.message(), "INVALID_ARGUMENT");
        case StatusCode::kPermissionDenied:
            return error(403, s.message(), "PERMISSION_DENIED");
        case StatusCode::kNotFound:
            return error(404, s.message(), "NOT_FOUND");
        case StatusCode::kAlreadyExists:
            return error(409, s.message(), "CONFLICT");
        case StatusCode::kUnavailable:
            return error(503, s.message(), "UNAVAILABLE");
        case StatusCode::kResourceExhausted:
            return error(507, s.message(), "INSUFFICIENT_STORAGE");
        default:
            return error(500, "Internal error", "INTERNAL");
    }
}

/// A non-negative integer query value; nullopt when absent; an error response when malformed
/// or outside [min, max] (422, the FastAPI list form).
std::optional<HttpResponse> int_query(const HttpRequest& req, const char* name, std::int64_t min,
                                      std::int64_t max, std::int64_t& out) {
    const auto v = req.query_value(name);
    if (!v) {
        return std::nullopt;
    }
    std::int64_t n = 0;
    const auto r = std::from_chars(v->data(), v->data() + v->size(), n);
    if (r.ec != std::errc() || r.ptr != v->data() + v->size() || n < min || n > max) {
        HttpResponse resp;
        resp.status = 422;
        resp.body = json::serialize(json::object{
            {"detail",
             json::array{json::object{{"loc", json::array{"query", name}},
                                      {"msg", "must be an integer from " + std::to_string(min) +
                                                  " to " + std::to_string(max)},
                                      {"type", "value_error"}}}},
            {"code", "VALIDATION_ERROR"}});
        return resp;
    }
    out = n;
    return std::nullopt;
}

bool flag_query(const HttpRequest& req, const char* name) {
    const auto v = req.query_value(name);
    return v && (*v == "true" || *v == "1" || *v == "yes");
}

/// Parses a JSON object body ("" is {}). nullopt plus `err` set on a malformed body.
std::optional<json::object> body_object(const HttpRequest& req, HttpResponse& err) {
    if (req.body.empty()) {
        return json::object{};
    }
    boost::system::error_code ec;
    auto v = json::parse(req.body, ec);
    if (ec || !v.is_object()) {
        err = error(400, "Malformed JSON body: expected an object", "MALFORMED_JSON");
        return std::nullopt;
    }
    return std::move(v.get_object());
}

/// Routes that see one artifact: resolve `:name` (404 "Artifact not found") and `:ref`
/// (404 "Version not found").
/// Thread safety: safe for concurrent use.
class ArtifactApi {
public:
    ArtifactApi(std::shared_ptr<plugin::BlobStore> blobs,
                std::shared_ptr<plugin::ArtifactStore> artifacts)
        : blobs_(std::move(blobs)), artifacts_(std::move(artifacts)) {}

    /// The artifact named by the request, or an error response.
    std::optional<HttpResponse> check_artifact(const HttpRequest& req, std::string& name) const {
        name = req.param("name").value_or("");
        if (!plugin::is_valid_artifact_name(name)) {
            return error(400, "Invalid artifact name: " + name, "INVALID_ARTIFACT_NAME");
        }
        auto info = artifacts_->info(name);
        if (!info) {
            return info.error().code() == StatusCode::kNotFound
                       ? error(404, "Artifact not found", "ARTIFACT_NOT_FOUND")
                       : from_status(info.error());
        }
        return std::nullopt;
    }
    std::optional<HttpResponse> check_version(const HttpRequest& req, std::string& name,
                                              plugin::ArtifactVersionInfo& out) const {
        if (auto e = check_artifact(req, name)) {
            return e;
        }
        auto v = artifacts_->version(name, req.param("ref").value_or(""));
        if (!v) {
            return v.error().code() == StatusCode::kNotFound
                       ? error(404, "Version not found", "VERSION_NOT_FOUND")
                       : from_status(v.error());
        }
        out = std::move(*v);
        return std::nullopt;
    }

    HttpResponse list(const HttpRequest& req) const {
        std::int64_t limit = 200;
        if (auto e = int_query(req, "limit", 1, 1000, limit)) {
            return *e;
        }
        auto all = artifacts_->list();
        if (!all) {
            return from_status(all.error());
        }
        const auto type = req.query_value("type");
        const auto q = req.query_value("q");
        const auto cursor = req.query_value("cursor").value_or("");
        json::array items;
        std::string last;
        bool more = false;
        for (const auto& a : *all) {
            if ((type && a.type != *type) || (q && a.name.find(*q) == std::string::npos) ||
                (!cursor.empty() && a.name <= cursor)) {
                continue;
            }
            if (static_cast<std::int64_t>(items.size()) == limit) {
                more = true;
                break;
            }
            items.push_back(plugin::to_json(a));
            last = a.name;
        }
        return ok(json::object{{"artifacts", std::move(items)},
                               {"next_cursor", more ? json::value(last) : json::value(nullptr)}});
    }

    HttpResponse one(const HttpRequest& req) const {
        std::string name;
        if (auto e = check_artifact(req, name)) {
            return *e;
        }
        auto info = artifacts_->info(name);
        auto versions = artifacts_->versions(name);
        if (!info || !versions) {
            return from_status(!info ? info.error() : versions.error());
        }
        auto out = plugin::to_json(*info);
        json::array items;
        for (const auto& v : *versions) {
            items.push_back(version_json(v));
        }
        out["versions"] = std::move(items);
        return ok(out);
    }

    HttpResponse versions(const HttpRequest& req) const {
        std::string name;
        if (auto e = check_artifact(req, name)) {
            return *e;
        }
        std::int64_t limit = 200;
        if (auto e = int_query(req, "limit", 1, 1000, limit)) {
            return *e;
        }
        std::int64_t cursor = 0;  // the last version number of the previous page
        if (auto e = int_query(req, "cursor", 0, 1'000'000'000, cursor)) {
            return *e;
        }
        auto versions = artifacts_->versions(name);
        if (!versions) {
            return from_status(versions.error());
        }
        json::array items;
        int last = 0;
        bool more = false;
        for (const auto& v : *versions) {
            if (cursor > 0 && v.version >= cursor) {
                continue;
            }
            if (static_cast<std::int64_t>(items.size()) == limit) {
                more = true;
                break;
            }
            items.push_back(version_json(v));
            last = v.version;
        }
        return ok(json::object{
            {"versions", std::move(items)},
            {"next_cursor", more ? json::value(std::to_string(last)) : json::value(nullptr)}});
    }

    HttpResponse version(const HttpRequest& req) const {
        std::string name;
        plugin::ArtifactVersionInfo v;
        if (auto e = check_version(req, name, v)) {
            return *e;
        }
        return ok(version_json(v));
    }

    HttpResponse files(const HttpRequest& req) const {
        std::string name;
        plugin::ArtifactVersionInfo v;
        if (auto e = check_version(req, name, v)) {
            return *e;
        }
        std::int64_t limit = 1000;
        if (auto e = int_query(req, "limit", 1, 1000, limit)) {
            return *e;
        }
        const auto prefix = req.query_value("prefix").value_or("");
        const auto cursor = req.query_value("cursor").value_or("");
        auto files = artifacts_->files(name, v.version);
        if (!files) {
            return from_status(files.error());
        }
        json::array items;
        std::string last;
        bool more = false;
        for (const auto& f : *files) {
            if (!f.path.starts_with(prefix) || (!cursor.empty() && f.path <= cursor)) {
                continue;
            }
            if (static_cast<std::int64_t>(items.size()) == limit) {
                more = true;
                break;
            }
            items.push_back(plugin::to_json(f));
            last = f.path;
        }
        return ok(json::object{{"files", std::move(items)},
                               {"next_cursor", more ? json::value(last) : json::value(nullptr)}});
    }

    HttpResponse file(const HttpRequest& req) const {
        std::string name;
        plugin::ArtifactVersionInfo v;
        if (auto e = check_version(req, name, v)) {
            return *e;
        }
        const auto path = req.query_value("path");
        if (!path) {
            return error(422, "path is required", "VALIDATION_ERROR");
        }
        auto m = artifacts_->manifest(name, v.version);
        if (!m) {
            return from_status(m.error());
        }
        const auto it = std::find_if(m->files.begin(), m->files.end(),
                                     [&](const auto& f) { return f.rel == *path; });
        if (it == m->files.end()) {
            return error(404, "File not found", "FILE_NOT_FOUND");
        }
        auto blob = blobs_->blob_path(it->sha256);
        if (!blob) {
            return from_status(blob.error());
        }
        auto bytes = read_file(*blob);
        if (!bytes) {
            return bytes.error().code() == StatusCode::kNotFound
                       ? error(404, "File not found", "FILE_NOT_FOUND")
                       : from_status(bytes.error());
        }
        // Hash-checked: a damaged blob is never served as valid.
        if (sha256_hex(*bytes) != it->sha256) {
            return error(500, "Stored file is damaged (run `runicorn verify`)", "BLOB_CORRUPT");
        }
        HttpResponse r;
        r.content_type = "application/octet-stream";
        const auto base = it->rel.substr(it->rel.rfind('/') + 1);
        r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + base + "\"");
        r.headers.emplace_back("ETag", "\"sha256:" + it->sha256 + "\"");
        r.headers.emplace_back("Accept-Ranges", "bytes");
        if (const auto range = req.header("range")) {
            // One "bytes=a-b", "bytes=a-" or "bytes=-n" range.
            const auto total = bytes->size();
            std::uint64_t first = 0;
            std::uint64_t last = total == 0 ? 0 : total - 1;
            bool valid = range->starts_with("bytes=") && range->find(',') == std::string::npos;
            const auto spec = valid ? range->substr(6) : std::string();
            const auto dash = spec.find('-');
            valid = valid && dash != std::string::npos;
            const auto num = [](std::string_view s, std::uint64_t& out) {
                const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
                return r.ec == std::errc() && r.ptr == s.data() + s.size();
            };
            if (valid) {
                const auto a = std::string_view(spec).substr(0, dash);
                const auto b = std::string_view(spec).substr(dash + 1);
                std::uint64_t n = 0;
                if (a.empty()) {
                    valid = num(b, n) && n > 0 && total > 0;
                    first = valid ? total - std::min<std::uint64_t>(n, total) : 0;
                } else {
                    valid = num(a, first) && (b.empty() || (num(b, n) && n >= first));
                    if (valid && !b.empty()) {
                        last = std::min<std::uint64_t>(n, last);
                    }
                    valid = valid && first < total;
                }
            }
            if (!valid) {
                auto e = error(416, "Range not satisfiable", "RANGE_NOT_SATISFIABLE");
                e.headers.emplace_back("Content-Range", "bytes */" + std::to_string(total));
                return e;
            }
            r.status = 206;
            r.headers.emplace_back("Content-Range", "bytes " + std::to_string(first) + "-" +
                                                        std::to_string(last) + "/" +
                                                        std::to_string(total));
            r.body = bytes->substr(first, last - first + 1);
            return r;
        }
        r.body = std::move(*bytes);
        return r;
    }

    HttpResponse download(const HttpRequest& req) const {
        std::string name;
        plugin::ArtifactVersionInfo v;
        if (auto e = check_version(req, name, v)) {
            return *e;
        }
        auto m = artifacts_->manifest(name, v.version);
        if (!m) {
            return from_status(m.error());
        }
        const auto zip_name = name + "-v" + std::to_string(v.version) + ".zip";
        const auto temp = std::filesystem::temp_directory_path() /
                          ("runicorn-artifact-" + random_hex(16) + ".zip");
        auto s = blobs_->export_manifest_zip(*m, temp, {});
        if (!s.is_ok()) {
            ::unlink(temp.c_str());
            return s.code() == StatusCode::kDataLoss
                       ? error(500, "Stored file is damaged (run `runicorn verify`)",
                               "BLOB_CORRUPT")
                       : from_status(s);
        }
        auto bytes = read_file(temp);
        ::unlink(temp.c_str());
        if (!bytes) {
            return from_status(bytes.error());
        }
        HttpResponse r;
        r.content_type = "application/zip";
        r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + zip_name + "\"");
        r.body = std::move(*bytes);
        return r;
    }

    HttpResponse lineage(const HttpRequest& req) const {
        std::string name;
        plugin::ArtifactVersionInfo v;
        if (auto e = check_version(req, name, v)) {
            return *e;
        }
        auto l = artifacts_->lineage(name, v.version);
        if (!l) {
            return from_status(l.error());
        }
        json::value produced = nullptr;
        if (l->produced_by) {
            produced =
                json::object{{"run_id", l->produced_by->run_id},
                             {"path", l->produced_by->path ? json::value(*l->produced_by->path)
                                                           : json::value(nullptr)},
                             {"status", l->produced_by_status}};
        }
        json::array used;
        for (const auto& u : l->used_by) {
            used.push_back(
                json::object{{"run_id", u.run_id},
                             {"path", u.path ? json::value(*u.path) : json::value(nullptr)},
                             {"status", u.status},
                             {"used_at", u.used_at},
                             {"requested", u.requested}});
        }
        return ok(json::object{{"produced_by", std::move(produced)}, {"used_by", std::move(used)}});
    }

    HttpResponse set_alias(const HttpRequest& req) const {
        std::string name;
        if (auto e = check_artifact(req, name)) {
            return *e;
        }
        const auto alias = req.param("alias").value_or("");
        if (!plugin::is_valid_user_alias(alias)) {
            return error(400,
                         plugin::is_reserved_alias(alias) ? "Alias is reserved: " + alias
                                                          : "Invalid alias: " + alias,
                         "INVALID_ALIAS");
        }
        HttpResponse bad;
        auto body = body_object(req, bad);
        if (!body) {
            return bad;
        }
        int version = 0;
        if (const auto* v = body->if_contains("version"); v != nullptr && v->is_int64()) {
            version = static_cast<int>(std::clamp<std::int64_t>(v->get_int64(), 0, 1'000'000'000));
        } else if (const auto* ref = body->if_contains("ref"); ref != nullptr && ref->is_string()) {
            auto resolved = artifacts_->version(name, ref->get_string());
            if (!resolved) {
                return resolved.error().code() == StatusCode::kNotFound
                           ? error(404, "Version not found", "VERSION_NOT_FOUND")
                           : from_status(resolved.error());
            }
            version = resolved->version;
        } else {
            return error(422, "version (integer) or ref (string) is required", "VALIDATION_ERROR");
        }
        auto change = artifacts_->set_alias(name, alias, version);
        if (!change) {
            return change.error().code() == StatusCode::kNotFound
                       ? error(404, "Version not found", "VERSION_NOT_FOUND")
                       : from_status(change.error());
        }
        return ok(json::object{
            {"ok", true},
            {"alias", change->alias},
            {"version", change->version},
            {"previous_version", change->previous_version ? json::value(*change->previous_version)
                                                          : json::value(nullptr)}});
    }

    HttpResponse remove_alias(const HttpRequest& req) const {
        std::string name;
        if (auto e = check_artifact(req, name)) {
            return *e;
        }
        const auto alias = req.param("alias").value_or("");
        if (!plugin::is_valid_user_alias(alias)) {
            return error(400, "Invalid alias: " + alias, "INVALID_ALIAS");
        }
        auto s = artifacts_->remove_alias(name, alias);
        if (!s.is_ok()) {
            return s.code() == StatusCode::kNotFound
                       ? error(404, "Alias not found", "ALIAS_NOT_FOUND")
                       : from_status(s);
        }
        return ok(json::object{{"ok", true}});
    }

    HttpResponse delete_version(const HttpRequest& req) const {
        std::string name;
        plugin::ArtifactVersionInfo v;
        if (auto e = check_version(req, name, v)) {
            return *e;
        }
        if (!flag_query(req, "confirm")) {
            return error(400, "Must set confirm=true to delete a version", "CONFIRM_REQUIRED");
        }
        auto d = artifacts_->delete_version(name, v.version, flag_query(req, "force"));
        if (!d) {
            if (d.error().code() == StatusCode::kFailedPrecondition) {
                return error(409, d.error().message(), "VERSION_HAS_ALIASES");
            }
            return d.error().code() == StatusCode::kNotFound
                       ? error(404, "Version not found", "VERSION_NOT_FOUND")
                       : from_status(d.error());
        }
        json::array removed;
        for (const auto& a : d->removed_aliases) {
            removed.emplace_back(a);
        }
        return ok(json::object{{"ok", true},
                               {"deleted_version", d->deleted_version},
                               {"removed_aliases", std::move(removed)}});
    }

private:
    /// API.md §4.5's version object (produced_by without run_dir/hostname is fine: clients ignore
    /// extra fields).
    static json::object version_json(const plugin::ArtifactVersionInfo& v) {
        return plugin::to_json(v);
    }

    std::shared_ptr<plugin::BlobStore> blobs_;
    std::shared_ptr<plugin::ArtifactStore> artifacts_;
};

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

json::array strings(const std::vector<std::string>& items) {
    json::array out;
    for (const auto& i : items) {
        out.emplace_back(i);
    }
    return out;
}

}  // namespace

Status register_dedup_routes(plugin::HttpRoutes& routes, std::shared_ptr<plugin::BlobStore> blobs,
                             std::shared_ptr<plugin::ArtifactStore> artifacts,
                             std::shared_ptr<JobRegistry> jobs) {
    auto api = std::make_shared<ArtifactApi>(blobs, artifacts);
    const auto add = [&](const char* method, const char* pattern, const char* summary,
                         Fn fn) -> Status {
        plugin::RouteSpec spec{method, pattern, summary, false};
        spec.tags = {std::string(pattern).starts_with("/api/artifacts") ? "artifacts"
                                                                        : "maintenance"};
        return routes.add_route(std::move(spec), std::make_shared<FunctionHandler>(std::move(fn)));
    };
    const auto bind = [api](HttpResponse (ArtifactApi::*m)(const HttpRequest&) const) -> Fn {
        return [api, m](const HttpRequest& req) { return ((*api).*m)(req); };
    };
    RUNICORN_RETURN_IF_ERROR(
        add("GET", "/api/artifacts", "List artifacts", bind(&ArtifactApi::list)));
    RUNICORN_RETURN_IF_ERROR(add("GET", "/api/artifacts/:name", "One artifact with its versions",
                                 bind(&ArtifactApi::one)));
    RUNICORN_RETURN_IF_ERROR(add("GET", "/api/artifacts/:name/versions",
                                 "An artifact's versions, newest first",
                                 bind(&ArtifactApi::versions)));
    RUNICORN_RETURN_IF_ERROR(add("GET", "/api/artifacts/:name/versions/:ref",
                                 "One version (v<N>, latest or an alias)",
                                 bind(&ArtifactApi::version)));
    RUNICORN_RETURN_IF_ERROR(add("GET", "/api/artifacts/:name/versions/:ref/files",
                                 "A version's files", bind(&ArtifactApi::files)));
    RUNICORN_RETURN_IF_ERROR(add("GET", "/api/artifacts/:name/versions/:ref/file",
                                 "One file of a version, hash-checked", bind(&ArtifactApi::file)));
    RUNICORN_RETURN_IF_ERROR(add("GET", "/api/artifacts/:name/versions/:ref/download",
                                 "A version as a zip", bind(&ArtifactApi::download)));
    RUNICORN_RETURN_IF_ERROR(add("GET", "/api/artifacts/:name/versions/:ref/lineage",
                                 "The run that produced a version and the runs that used it",
                                 bind(&ArtifactApi::lineage)));
    RUNICORN_RETURN_IF_ERROR(add("PUT", "/api/artifacts/:name/aliases/:alias",
                                 "Set or move an alias", bind(&ArtifactApi::set_alias)));
    RUNICORN_RETURN_IF_ERROR(add("DELETE", "/api/artifacts/:name/aliases/:alias", "Remove an alias",
                                 bind(&ArtifactApi::remove_alias)));
    RUNICORN_RETURN_IF_ERROR(add("DELETE", "/api/artifacts/:name/versions/:ref",
                                 "Delete a version (confirm=true; force=true if aliased)",
                                 bind(&ArtifactApi::delete_version)));

    RUNICORN_RETURN_IF_ERROR(
        add("GET", "/api/blobs/stats", "Blob-store statistics and the space saved by dedup",
            [blobs](const HttpRequest&) {
                auto u = blobs->usage();
                if (!u) {
                    return from_status(u.error());
                }
                const double physical = static_cast<double>(u->blobs.bytes_stored);
                return ok(json::object{
                    {"blob_count", u->blobs.blob_count},
                    {"physical_bytes", u->blobs.bytes_stored},
                    {"referenced_bytes", u->bytes_referenced},
                    {"saved_bytes", u->bytes_saved_by_dedup},
                    {"dedup_ratio",
                     physical > 0 ? static_cast<double>(u->bytes_referenced) / physical : 1.0},
                    {"hardlinked_copies", u->hardlinked_copies},
                    {"unreferenced_count", u->unreferenced_count},
                    {"unreferenced_bytes", u->unreferenced_bytes},
                    {"by_referrer", json::object{{"runs", u->bytes_referenced_by_runs},
                                                 {"artifacts", u->bytes_referenced_by_artifacts},
                                                 {"v0_6_index", u->bytes_referenced_by_index}}},
                    {"computed_at", now_seconds()}});
            }));
    RUNICORN_RETURN_IF_ERROR(add(
        "POST", "/api/maintenance/gc", "Start a garbage collection (dry run by default)",
        [blobs, jobs](const HttpRequest& req) {
            HttpResponse bad;
            auto body = body_object(req, bad);
            if (!body) {
                return bad;
            }
            plugin::GcOptions o;
            o.dry_run = true;
            o.wait_for_writers = true;
            if (const auto* d = body->if_contains("dry_run"); d != nullptr) {
                if (!d->is_bool()) {
                    return error(422, "dry_run must be a boolean", "VALIDATION_ERROR");
                }
                o.dry_run = d->get_bool();
            }
            if (const auto* g = body->if_contains("grace_seconds"); g != nullptr) {
                if (!g->is_int64() || g->get_int64() < 0) {
                    return error(422, "grace_seconds must be an integer >= 0", "VALIDATION_ERROR");
                }
                o.grace = std::chrono::seconds(g->get_int64());
            }
            auto id = jobs->submit("gc", [blobs, o]() -> Result<json::object> {
                RUNICORN_ASSIGN_OR_RETURN(auto r, blobs->gc(o));
                return json::object{{"dry_run", r.dry_run},
                                    {"blobs_scanned", r.blobs_found},
                                    {"blobs_referenced", r.blobs_referenced},
                                    {"blobs_young", r.blobs_young},
                                    {"blobs_deleted", r.blobs_removed.size()},
                                    {"manifests_deleted", r.manifests_removed.size()},
                                    {"temp_removed", r.temp_files_removed.size()},
                                    {"bytes_freed", r.bytes_freed},
                                    {"blobs", strings(r.blobs_removed)},
                                    {"errors", strings(r.unexpected)}};
            });
            if (!id) {
                return from_status(id.error());
            }
            return ok(json::object{{"job_id", *id}});
        }));
    RUNICORN_RETURN_IF_ERROR(add(
        "POST", "/api/maintenance/verify", "Start a blob-store verification",
        [blobs, jobs](const HttpRequest& req) {
            HttpResponse bad;
            auto body = body_object(req, bad);
            if (!body) {
                return bad;
            }
            plugin::VerifyOptions o;
            if (const auto* s = body->if_contains("sample"); s != nullptr && !s->is_null()) {
                if (!s->is_int64() || s->get_int64() < 1) {
                    return error(422, "sample must be an integer >= 1", "VALIDATION_ERROR");
                }
                o.sample = static_cast<std::uint64_t>(s->get_int64());
            }
            if (const auto* r = body->if_contains("repair"); r != nullptr) {
                if (!r->is_bool()) {
                    return error(422, "repair must be a boolean", "VALIDATION_ERROR");
                }
                o.repair = r->get_bool();
            }
            auto id = jobs->submit("verify", [blobs, o]() -> Result<json::object> {
                RUNICORN_ASSIGN_OR_RETURN(auto r, blobs->verify(o));
                json::array problems;
                for (const auto& p : r.problems) {
                    problems.push_back(json::object{{"kind", p.kind},
                                                    {"object", p.object},
                                                    {"detail", p.detail},
                                                    {"referrers", strings(p.referrers)},
                                                    {"quarantined", p.quarantined}});
                }
                return json::object{
                    {"ok", r.problems.empty()},       {"blobs_found", r.blobs_found},
                    {"blobs_hashed", r.blobs_hashed}, {"references_checked", r.references_checked},
                    {"orphans", r.orphans},           {"problems", std::move(problems)}};
            });
            if (!id) {
                return from_status(id.error());
            }
            return ok(json::object{{"job_id", *id}});
        }));
    return add("GET", "/api/jobs/:job_id", "A maintenance job's state and result",
               [jobs](const HttpRequest& req) {
                   auto job = jobs->get(req.param("job_id").value_or(""));
                   if (!job) {
                       return error(404, "Job not found", "JOB_NOT_FOUND");
                   }
                   return ok(*job);
               });
}

}  // namespace runicorn::dedup
