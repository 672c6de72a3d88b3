#include "assets_routes.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <spdlog/logger.h>

#include "../file_response.hpp"
#include "../responses.hpp"
#include "../static/static_files.hpp"
#include "api_common.hpp"
#include "api_json.hpp"
#include "asset_refs.hpp"
#include "run_json.hpp"
#include "zip_stream.hpp"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::http_plugin::api {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using plugin::HttpRequest;
using plugin::HttpResponse;

constexpr std::size_t kMaxManifestBytes = std::size_t{256} * 1024 * 1024;
constexpr int kMaxDirDepth = 64;

HttpResponse unsafe_path() { return error_response(403, "UNSAFE_PATH", "Unsafe path"); }

HttpResponse status_response(const Status& s) {
    switch (s.code()) {
        case StatusCode::kPermissionDenied:
            return s.message() == "Unsafe path" ? unsafe_path()
                                                : error_response(403, "FORBIDDEN", s.message());
        case StatusCode::kNotFound:
            return error_response(404, "FILE_NOT_FOUND", "File not found");
        default:
            return error_response(500, "INTERNAL", "Internal error");
    }
}

// Lexical segments of a '/' path; nullopt on a ".." segment. "." and empty segments vanish.
std::optional<std::vector<std::string>> segments_of(std::string_view path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t slash = path.find('/', start);
        if (slash == std::string_view::npos) {
            slash = path.size();
        }
        const std::string_view seg = path.substr(start, slash - start);
        if (seg == "..") {
            return std::nullopt;
        }
        if (!seg.empty() && seg != ".") {
            out.emplace_back(seg);
        }
        start = slash + 1;
    }
    return out;
}

std::string join(const std::vector<std::string>& segs, std::size_t from = 0) {
    std::string out;
    for (std::size_t i = from; i < segs.size(); ++i) {
        if (!out.empty()) {
            out.push_back('/');
        }
        out += segs[i];
    }
    return out;
}

// `inner` relative to `outer` when it lies inside it (or is it: ""), lexically.
std::optional<std::string> inside(const fs::path& inner, const fs::path& outer) {
    const auto a = segments_of(inner.generic_string());
    const auto b = segments_of(outer.generic_string());
    if (!a || !b || a->size() < b->size() || !std::equal(b->begin(), b->end(), a->begin())) {
        return std::nullopt;
    }
    return join(*a, b->size());
}

bool bad_characters(std::string_view p) {
    if (p.size() >= 2 && p[1] == ':' && std::isalpha(static_cast<unsigned char>(p[0])) != 0) {
        return true;
    }
    return std::any_of(p.begin(), p.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return c == '\\' || u < 0x20 || u == 0x7f;
    });
}

/// Every archive_path and manifest_path recorded in assets.json.
std::vector<std::string> recorded_paths(const json::value& assets) {
    std::vector<std::string> out;
    const auto take = [&out](const json::value& v) {
        if (const json::object* o = v.if_object()) {
            for (const char* key : {"archive_path", "manifest_path"}) {
                if (const json::value* p = o->if_contains(key); p != nullptr && p->is_string()) {
                    out.emplace_back(p->as_string());
                }
            }
        }
    };
    const json::object* root = assets.if_object();
    if (root == nullptr) {
        return out;
    }
    if (const json::value* code = root->if_contains("code"); code != nullptr && code->is_object()) {
        if (const json::value* snap = code->as_object().if_contains("snapshot")) {
            take(*snap);
        }
    }
    for (const char* list : {"datasets", "pretrained", "outputs"}) {
        if (const json::value* l = root->if_contains(list); l != nullptr && l->is_array()) {
            for (const json::value& item : l->as_array()) {
                take(item);
            }
        }
    }
    return out;
}

Result<UniqueFd> open_dir(const fs::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) {
        return errno == ENOENT ? Status::not_found("File not found")
                               : Status::unavailable("cannot open " + dir.string());
    }
    return fd;
}

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string with_zip_suffix(std::string name) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!lower.ends_with(".zip")) {
        name += ".zip";
    }
    return name;
}

bool is_blob_id(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

HttpResponse zip_response(std::string name, plugin::BodyProducer producer) {
    HttpResponse res;
    res.content_type = "application/zip";
    res.headers.emplace_back("Content-Disposition", content_disposition(with_zip_suffix(name)));
    res.stream = std::move(producer);
    return res;
}

// ---- manifest -> zip ----

struct ManifestFile {
    std::string name;
    std::string sha256;
    std::optional<std::uint64_t> size;
    bool executable = false;
};

HttpResponse bad_manifest(std::string_view why) {
    return error_response(400, "INVALID_MANIFEST", "Invalid manifest: " + std::string(why));
}

std::optional<std::string> read_small_file(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) > kMaxManifestBytes) {
        return std::nullopt;
    }
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n =
            ::pread(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    text.resize(done);
    return text;
}

Status stream_manifest(const std::vector<ManifestFile>& files, const UniqueFd& blobs,
                       std::int64_t mtime, plugin::BodySink& sink) {
    ZipStreamWriter zip(sink);
    for (const ManifestFile& f : files) {
        const std::string rel = f.sha256.substr(0, 2) + "/" + f.sha256;
        Result<UniqueFd> blob = open_beneath(blobs.get(), rel);
        if (!blob) {
            return Status::not_found("blob " + f.sha256 + " of '" + f.name +
                                     "': " + blob.error().message());
        }
        struct stat st {};
        if (::fstat(blob->get(), &st) != 0 || !S_ISREG(st.st_mode)) {
            return Status::data_loss("blob " + f.sha256 + " is not a regular file");
        }
        const auto size = static_cast<std::uint64_t>(st.st_size);
        if (f.size && *f.size != size) {
            return Status::data_loss("blob " + f.sha256 + " holds " + std::to_string(size) +
                                     " bytes, the manifest says " + std::to_string(*f.size));
        }
        RUNICORN_RETURN_IF_ERROR(zip.add_file(f.name, blob->get(), size, mtime, f.executable));
    }
    return zip.finish();
}

HttpResponse manifest_zip(const fs::path& root, const UniqueFd& manifest_fd,
                          const std::string& manifest_name, const std::string& filename) {
    const std::optional<std::string> text = read_small_file(manifest_fd.get());
    const std::optional<json::value> parsed =
        text ? parse_tolerant_json(*text) : std::optional<json::value>();
    if (!parsed || !parsed->is_object()) {
        return bad_manifest("not a JSON object");
    }
    const json::object& m = parsed->as_object();
    const json::value* files_value = m.if_contains("files");
    if (files_value == nullptr || !files_value->is_object()) {
        return bad_manifest("no \"files\" object");
    }
    std::vector<ManifestFile> files;
    files.reserve(files_value->as_object().size());
    for (const auto& kv : files_value->as_object()) {
        ManifestFile f;
        f.name = std::string(kv.key());
        if (!valid_zip_entry_name(f.name)) {
            return bad_manifest("unsafe entry name");
        }
        const json::object* entry = kv.value().if_object();
        const json::value* sha = entry != nullptr ? entry->if_contains("sha256") : nullptr;
        if (sha == nullptr || !sha->is_string() || !is_blob_id(sha->as_string())) {
            return bad_manifest("blob id of '" + f.name + "' is not 64 lowercase hex digits");
        }
        f.sha256 = std::string(sha->as_string());
        if (const json::value* size = entry->if_contains("size_bytes")) {
            if (size->is_uint64()) {
                f.size = size->as_uint64();
            } else if (size->is_int64() && size->as_int64() >= 0) {
                f.size = static_cast<std::uint64_t>(size->as_int64());
            } else if (!size->is_null()) {
                return bad_manifest("size_bytes of '" + f.name + "' is not a size");
            }
        }
        if (const json::value* x = entry->if_contains("executable"); x != nullptr && x->is_bool()) {
            f.executable = x->as_bool();
        }
        files.push_back(std::move(f));
    }
    std::string name = sanitize_filename(filename);
    if (name.empty()) {
        if (const json::value* src = m.if_contains("source_path");
            src != nullptr && src->is_string()) {
            std::string s(src->as_string());
            while (!s.empty() && (s.back() == '/' || s.back() == '\\')) {
                s.pop_back();
            }
            name = sanitize_filename(s.substr(s.find_last_of("/\\") + 1));
        }
    }
    if (name.empty()) {
        const json::value* fp = m.if_contains("fingerprint");
        const std::string fingerprint = fp != nullptr && fp->is_string()
                                            ? std::string(fp->as_string())
                                            : fs::path(manifest_name).stem().string();
        name = sanitize_filename(fingerprint.substr(0, 16));
    }
    std::int64_t mtime = now_seconds();
    if (const json::value* c = m.if_contains("created_at"); c != nullptr && c->is_number()) {
        mtime = static_cast<std::int64_t>(c->to_number<double>());
    }
    Result<UniqueFd> blobs = open_dir(root / "archive" / "blobs");
    if (!blobs) {
        return error_response(404, "FILE_NOT_FOUND", "File not found");
    }
    auto blob_dir = std::make_shared<UniqueFd>(std::move(*blobs));
    return zip_response(name, [files = std::move(files), blob_dir, mtime](plugin::BodySink& sink) {
        return stream_manifest(files, *blob_dir, mtime, sink);
    });
}

// ---- directory -> zip ----

Status zip_directory(ZipStreamWriter& zip, int dir_fd, const std::string& prefix, int depth) {
    if (depth > kMaxDirDepth) {
        return Status::ok();  // deeper levels are left out, as the run discovery does
    }
    const int list_fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    DIR* dir = list_fd >= 0 ? ::fdopendir(list_fd) : nullptr;
    if (dir == nullptr) {
        if (list_fd >= 0) {
            ::close(list_fd);
        }
        return Status::unavailable("cannot list '" + prefix + "'");
    }
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(dir)) {
        const std::string_view n = e->d_name;
        if (n != "." && n != "..") {
            names.emplace_back(n);
        }
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) {
        const std::string entry = prefix.empty() ? n : prefix + "/" + n;
        if (!valid_zip_entry_name(entry)) {
            continue;  // a name no unzip could recreate safely
        }
        struct stat st {};
        if (::fstatat(dir_fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            continue;  // vanished meanwhile
        }
        if (S_ISDIR(st.st_mode)) {
            UniqueFd sub(
                ::openat(dir_fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (sub.valid()) {
                RUNICORN_RETURN_IF_ERROR(zip_directory(zip, sub.get(), entry, depth + 1));
            }
        } else if (S_ISREG(st.st_mode)) {
            UniqueFd file(::openat(dir_fd, n.c_str(),
                                   O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
            if (!file.valid() || ::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
                continue;
            }
            RUNICORN_RETURN_IF_ERROR(zip.add_file(entry, file.get(),
                                                  static_cast<std::uint64_t>(st.st_size),
                                                  st.st_mtim.tv_sec, (st.st_mode & S_IXUSR) != 0));
        }
        // symlinks, FIFOs, sockets, devices: not followed, not included
    }
    return Status::ok();
}

// ---- the routes ----

HttpResponse download(ApiState& state, const HttpRequest& request) {
    const std::string id = request.param("run_id").value_or("");
    const std::optional<std::string> path = request.query_value("path");
    if (!path) {
        return validation_error({"query", "path"}, "field required", "value_error.missing");
    }
    Result<plugin::RunInfo> run = state.store()->find_run(id, false);
    if (!run) {
        return store_failure(state, "reading run " + id, run.error());
    }
    const fs::path root = state.store()->root();
    const fs::path run_dir = run->location.dir;
    const std::optional<json::value> assets = read_json_file(run_dir / "assets.json");
    const std::vector<std::string> recorded =
        assets ? recorded_paths(*assets) : std::vector<std::string>{};
    Result<DownloadBase> base = download_base(*path, root, run_dir, run->location.run_id, recorded);
    if (!base) {
        return status_response(base.error());
    }
    Result<UniqueFd> dir = open_dir(base->dir);
    if (!dir) {
        return status_response(dir.error());
    }
    Result<UniqueFd> target = open_beneath(dir->get(), base->relative);
    if (!target) {
        return status_response(target.error());
    }
    struct stat st {};
    if (::fstat(target->get(), &st) != 0) {
        return error_response(500, "INTERNAL", "Internal error");
    }
    const std::string filename = request.query_value("filename").value_or("");
    const std::string target_name =
        base->relative.empty() ? base->dir.filename().string()
                               : base->relative.substr(base->relative.find_last_of('/') + 1);
    if (S_ISREG(st.st_mode)) {
        const bool manifest = base->archive && base->relative.starts_with("manifests/") &&
                              base->relative.ends_with(".json");
        if (manifest) {
            return manifest_zip(root, *target, target_name, filename);
        }
        std::string name = sanitize_filename(filename);
        if (name.empty()) {
            name = sanitize_filename(target_name);
        }
        FileResponseOptions options;
        options.content_type = std::string(mime_type(name));
        if (options.content_type == "application/octet-stream" &&
            with_zip_suffix(name).size() == name.size()) {
            options.content_type = "application/zip";  // the UI's web table lacks archives
        }
        options.disposition = content_disposition(name);
        return file_response(request, std::make_shared<UniqueFd>(std::move(*target)), options);
    }
    if (S_ISDIR(st.st_mode)) {
        std::string name = sanitize_filename(filename);
        if (name.empty()) {
            name = sanitize_filename(target_name);
        }
        auto dir_fd = std::make_shared<UniqueFd>(std::move(*target));
        return zip_response(name.empty() ? "download" : name, [dir_fd](plugin::BodySink& sink) {
            ZipStreamWriter zip(sink);
            RUNICORN_RETURN_IF_ERROR(zip_directory(zip, dir_fd->get(), "", 0));
            return zip.finish();
        });
    }
    return error_response(400, "UNSUPPORTED_TARGET", "Unsupported target");
}

HttpResponse refs(ApiState& state, const HttpRequest& request) {
    const std::string id = request.param("run_id").value_or("");
    if (!valid_run_id(id)) {
        return invalid_run_id(id);
    }
    Result<plugin::RunInfo> run = state.store()->find_run(id, /*include_deleted=*/true);
    if (!run) {
        return store_failure(state, "reading run " + id, run.error());
    }
    Result<AssetRefs> computed =
        compute_asset_refs(*state.store(), run->location, state.store()->root());
    if (!computed) {
        return store_failure(state, "computing the asset references of run " + id,
                             computed.error());
    }
    json::array orphaned;
    for (const AssetRef& r : computed->orphaned) {
        orphaned.emplace_back(asset_ref_json(r, false));
    }
    json::array shared;
    for (const AssetRef& r : computed->shared) {
        shared.emplace_back(asset_ref_json(r, true));
    }
    json::object out;
    out["run_id"] = id;
    out["orphaned_count"] = orphaned.size();
    out["shared_count"] = shared.size();
    out["orphaned_assets"] = std::move(orphaned);
    out["shared_assets"] = std::move(shared);
    return json_response(200, out);
}

HttpResponse artifacts(ApiState& state, const HttpRequest& request) {
    const std::string id = request.param("run_id").value_or("");
    Result<plugin::RunInfo> run = state.store()->find_run(id, false);
    if (!run) {
        return store_failure(state, "reading run " + id, run.error());
    }
    std::optional<json::value> file = read_json_file(run->location.dir / "artifacts.json");
    json::object out;
    if (file && file->is_object()) {
        null_non_finite(*file);
        out = std::move(file->as_object());
    }
    for (const char* key : {"logged", "used"}) {
        if (const json::value* v = out.if_contains(key); v == nullptr || !v->is_array()) {
            out[key] = json::array();
        }
    }
    return json_response(200, out);
}

}  // namespace

std::optional<fs::path> rebase_archive_path(std::string_view recorded, const fs::path& root) {
    std::string p(recorded);
    std::replace(p.begin(), p.end(), '\\', '/');
    if (!p.starts_with('/') || !segments_of(p)) {
        return std::nullopt;
    }
    if (inside(fs::path(p), root)) {
        return fs::path(p).lexically_normal();
    }
    std::size_t best = std::string::npos;
    for (const std::string_view marker :
         {"/archive/blobs/", "/archive/manifests/", "/archive/outputs/rolling/"}) {
        const std::size_t at = p.rfind(marker);
        if (at != std::string::npos && (best == std::string::npos || at > best)) {
            best = at;
        }
    }
    if (best == std::string::npos) {
        return std::nullopt;
    }
    const auto suffix = segments_of(std::string_view(p).substr(best + 1));  // "archive/..."
    if (!suffix || suffix->size() < 3) {
        return std::nullopt;
    }
    return (root / join(*suffix)).lexically_normal();
}

Result<DownloadBase> download_base(std::string_view requested, const fs::path& root,
                                   const fs::path& run_dir, std::string_view run_id,
                                   const std::vector<std::string>& recorded) {
    const Status unsafe = Status::permission_denied("Unsafe path");
    if (bad_characters(requested)) {
        return unsafe;
    }
    const auto segs = segments_of(requested);
    if (!segs) {
        return unsafe;
    }
    if (!requested.starts_with('/')) {
        return DownloadBase{run_dir, join(*segs), false};
    }
    const fs::path absolute = fs::path("/" + join(*segs));
    if (auto rel = inside(absolute, run_dir)) {
        return DownloadBase{run_dir, *rel, false};
    }
    const fs::path archive = root / "archive";
    for (const std::string& r : recorded) {
        const std::optional<fs::path> rebased = rebase_archive_path(r, root);
        if (!rebased) {
            continue;
        }
        const auto r_segs = segments_of(r);
        const bool same_as_recorded = r_segs && r.starts_with('/') && join(*r_segs) == join(*segs);
        const bool same_as_rebased = inside(absolute, *rebased) == std::optional<std::string>("");
        if (!same_as_recorded && !same_as_rebased) {
            continue;
        }
        if (auto rel = inside(*rebased, archive); rel && !rel->empty()) {
            return DownloadBase{archive, *rel, true};
        }
    }
    const fs::path rolling = archive / "outputs" / "rolling" / std::string(run_id);
    if (const auto rebased = rebase_archive_path(absolute.string(), root)) {
        if (auto rel = inside(*rebased, rolling)) {
            return DownloadBase{rolling, *rel, false};
        }
    }
    return unsafe;
}

Status add_asset_routes(plugin::HttpRoutes& routes, const std::shared_ptr<ApiState>& state) {
    plugin::RouteSpec download_spec{"GET", "/api/runs/:run_id/assets/download",
                                    "Download a run's file, manifest (as zip) or folder (as zip)",
                                    true};
    download_spec.parameters = {
        {"path", "query", true, "string",
         "An archive_path/manifest_path of the run's assets.json (absolute, rebased), a path "
         "inside archive/outputs/rolling/<run_id>/, or a path inside the run folder (absolute "
         "or relative to it)"},
        {"filename", "query", false, "string",
         "The download name (reduced to a base name; .zip is appended for archives)"},
        {"Range", "header", false, "string", "One byte range (files only): bytes=a-b"}};
    download_spec.description =
        "Files are streamed with Range/206/416, ETag and Last-Modified; a manifest under "
        "archive/manifests/ becomes a streamed zip of its blobs, a directory a streamed zip of "
        "its regular files. 403 Unsafe path outside what the run owns.";
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, std::move(download_spec), with_store(state, download)));

    plugin::RouteSpec refs_spec{"GET", "/api/runs/:run_id/assets/refs",
                                "Which of a run's assets other runs share (deleted runs included)",
                                true};
    refs_spec.response_schema =
        R"({"type":"object","properties":{"run_id":{"type":"string"},)"
        R"("orphaned_assets":{"type":"array","items":{"type":"object"}},)"
        R"("shared_assets":{"type":"array","items":{"type":"object"}},)"
        R"("orphaned_count":{"type":"integer"},"shared_count":{"type":"integer"}}})";
    RUNICORN_RETURN_IF_ERROR(add_route(routes, std::move(refs_spec), with_store(state, refs)));

    plugin::RouteSpec artifacts_spec{"GET", "/api/runs/:run_id/artifacts",
                                     "The run's artifacts.json (logged and used artifacts)", false};
    artifacts_spec.response_schema =
        R"({"type":"object","properties":{"logged":{"type":"array","items":{"type":"object"}},)"
        R"("used":{"type":"array","items":{"type":"object"}}}})";
    return add_route(routes, std::move(artifacts_spec), with_store(state, artifacts));
}

}  // namespace runicorn::http_plugin::api
