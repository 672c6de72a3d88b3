// Versioned artifacts (SDK.md §2.4, FORMAT.md §7.6): Artifact, ArtifactVersion, Run::log_artifact,
// Run::use_artifact and runicorn::artifact(), over the dedup plugin's ArtifactStore and BlobStore.
// The store writes the artifact folders and the run's artifacts.json (its locked atomic
// read-modify-write); this file checks the caller's input, builds the requests and confines
// downloads.

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>

#include <boost/json/value.hpp>

#include <runicorn/artifact.hpp>
#include <runicorn/runicorn.hpp>

#include "artifact_internal.hpp"
#include "json_convert.hpp"
#include "run_core.hpp"
#include "sdk_internal.hpp"
#include "store_loader.hpp"
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn {
namespace sdk {
namespace {

namespace fs = std::filesystem;

/// A path inside an artifact: relative, '/'-separated, no empty, "." or ".." component, no NUL,
/// at most 4096 bytes.
Status check_rel_path(std::string_view rel, std::string_view what) {
    const auto bad = [&](std::string_view why) {
        return Status::invalid_argument(std::string(what) + " '" + std::string(rel) + "' " +
                                        std::string(why));
    };
    if (rel.empty()) {
        return bad("is empty");
    }
    if (rel.size() > 4096) {
        return bad("is longer than 4096 bytes");
    }
    if (rel.front() == '/') {
        return bad("is absolute (expected a relative '/'-separated path)");
    }
    if (rel.find('\0') != std::string_view::npos) {
        return bad("contains a NUL byte");
    }
    std::size_t start = 0;
    while (start <= rel.size()) {
        auto end = rel.find('/', start);
        if (end == std::string_view::npos) {
            end = rel.size();
        }
        const auto part = rel.substr(start, end - start);
        if (part.empty() || part == "." || part == "..") {
            return bad("has an empty, '.' or '..' component");
        }
        start = end + 1;
    }
    return Status::ok();
}

Status errno_status(std::string_view what, const fs::path& path, int err) {
    std::string msg = std::string(what) + " '" + path.string() + "': " + std::strerror(err);
    switch (err) {
        case ENOENT:
        case ENOTDIR:
            return Status::not_found(std::move(msg));
        case EACCES:
        case EPERM:
        case EROFS:
            return Status::permission_denied(std::move(msg));
        case ENOSPC:
        case EDQUOT:
        case ENOMEM:
            return Status::resource_exhausted(std::move(msg));
        default:
            return Status::unavailable(std::move(msg));
    }
}

/// `p` made absolute (against the current directory) and lexically normal.
Result<fs::path> absolute_path(const fs::path& p) {
    std::error_code ec;
    auto abs = fs::absolute(p, ec);
    if (ec) {
        return Status::invalid_argument("cannot make '" + p.string() +
                                        "' absolute: " + ec.message());
    }
    return abs.lexically_normal();
}

/// Refuses a manifest path whose folders under `dest` include a symlink: the file would land
/// outside `dest`.
Status check_confined(const fs::path& dest, std::string_view rel) {
    RUNICORN_RETURN_IF_ERROR(check_rel_path(rel, "artifact file path"));
    fs::path cur = dest;
    std::size_t start = 0;
    for (auto slash = rel.find('/'); slash != std::string_view::npos;
         start = slash + 1, slash = rel.find('/', start)) {
        cur /= std::string(rel.substr(start, slash - start));
        struct stat st {};
        if (::lstat(cur.c_str(), &st) != 0) {
            return Status::ok();  // created below dest by the download
        }
        if (S_ISLNK(st.st_mode)) {
            return Status::invalid_argument("'" + cur.string() + "' is a symlink: artifact file '" +
                                            std::string(rel) + "' would be written outside '" +
                                            dest.string() + "'");
        }
    }
    return Status::ok();
}

/// True when regular file `a` has the bytes of file `b` (the same inode counts as equal).
bool same_content(const fs::path& a, const fs::path& b) {
    struct stat sa {};
    struct stat sb {};
    if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0 || sa.st_size != sb.st_size) {
        return false;
    }
    if (sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino) {
        return true;
    }
    std::ifstream fa(a, std::ios::binary);
    std::ifstream fb(b, std::ios::binary);
    if (!fa || !fb) {
        return false;
    }
    std::array<char, 1 << 16> ba{};
    std::array<char, 1 << 16> bb{};
    while (fa && fb) {
        fa.read(ba.data(), ba.size());
        fb.read(bb.data(), bb.size());
        if (fa.gcount() != fb.gcount() ||
            std::memcmp(ba.data(), bb.data(), static_cast<std::size_t>(fa.gcount())) != 0) {
            return false;
        }
    }
    return fa.eof() && fb.eof();
}

std::string hostname() {
    std::array<char, 256> buf{};
    if (::gethostname(buf.data(), buf.size() - 1) != 0) {
        return "";
    }
    return std::string(buf.data());
}

Status internal_status(std::string_view fn) {
    try {
        throw;
    } catch (const std::exception& e) {
        return Status::internal(std::string(fn) + ": " + e.what());
    } catch (...) {
        return Status::internal(std::string(fn) + ": unknown exception");
    }
}

Status no_state(std::string_view fn) {
    return Status::failed_precondition(std::string(fn) + ": empty ArtifactVersion");
}

/// The default download folder: ./artifacts/<name>-v<N>.
fs::path default_dest(const ArtifactVersionState& s) {
    return fs::path("artifacts") / (s.name + "-v" + std::to_string(s.version));
}

}  // namespace

Result<std::shared_ptr<plugin::ArtifactStore>> artifact_store_of(const RunOpener* opener,
                                                                 std::string_view what) {
    std::shared_ptr<plugin::ArtifactStore> store;
    if (opener != nullptr) {
        store = opener->artifact_store();
    }
    if (store == nullptr) {
        return Status::unavailable(std::string(what) +
                                   ": artifacts need the dedup plugin, which is not loaded for "
                                   "this storage root");
    }
    return store;
}

ArtifactVersion make_artifact_version(std::shared_ptr<RunOpener> opener,
                                      std::shared_ptr<plugin::ArtifactStore> store,
                                      const plugin::ArtifactVersionInfo& info) {
    auto s = std::make_shared<ArtifactVersionState>();
    s->storage_root = opener != nullptr ? opener->root() : fs::path();
    s->opener = std::move(opener);
    s->store = std::move(store);
    s->name = info.name;
    s->type = info.type;
    s->version = info.version;
    s->digest = info.digest;
    s->created_at = info.created_at;
    s->description = info.description;
    s->metadata = from_boost(boost::json::value(info.metadata));
    s->file_count = info.file_count;
    s->total_size_bytes = info.total_size_bytes;
    if (info.produced_by) {
        s->produced_by = ArtifactProducer{info.produced_by->run_id, info.produced_by->path,
                                          info.produced_by->run_dir, info.produced_by->hostname};
    }
    s->latest = info.latest;
    s->deduplicated = info.deduplicated;
    s->aliases = info.aliases;
    return ArtifactAccess::make(std::move(s));
}

}  // namespace sdk

// ---- Artifact ----------------------------------------------------------------------------------

Artifact::Artifact(std::string name, std::string type)
    : name_(std::move(name)), type_(std::move(type)) {}

Status Artifact::check_names(std::string_view name, std::string_view type) {
    if (!plugin::is_valid_artifact_name(name)) {
        return Status::invalid_argument("invalid artifact name '" + std::string(name) +
                                        "' (expected [A-Za-z0-9][A-Za-z0-9._-]{0,127})");
    }
    if (!plugin::is_valid_artifact_type(type)) {
        return Status::invalid_argument("invalid artifact type '" + std::string(type) +
                                        "' (expected [A-Za-z0-9][A-Za-z0-9._-]{0,63})");
    }
    return Status::ok();
}

Result<Artifact> Artifact::create(std::string name, std::string type) {
    RUNICORN_RETURN_IF_ERROR(check_names(name, type));
    return Artifact(std::move(name), std::move(type));
}

Status Artifact::add_file(const std::filesystem::path& local, std::string_view name_in_artifact) {
    try {
        struct stat st {};
        if (::stat(local.c_str(), &st) != 0) {
            return sdk::errno_status("artifact '" + name_ + "': cannot read file", local, errno);
        }
        if (!S_ISREG(st.st_mode)) {
            return Status::invalid_argument("artifact '" + name_ + "': '" + local.string() +
                                            "' is not a regular file (use add_dir for folders)");
        }
        std::string rel(name_in_artifact);
        if (rel.empty()) {
            rel = local.filename().string();
        }
        RUNICORN_RETURN_IF_ERROR(sdk::check_rel_path(rel, "artifact path"));
        for (const auto& s : sources_) {
            if (s.name == rel) {
                return Status::invalid_argument("artifact '" + name_ + "': the artifact path '" +
                                                rel + "' is already taken by '" + s.local.string() +
                                                "'");
            }
        }
        RUNICORN_ASSIGN_OR_RETURN(auto abs, sdk::absolute_path(local));
        sources_.push_back({std::move(abs), std::move(rel), false});
        return Status::ok();
    } catch (...) {
        return sdk::internal_status("Artifact::add_file");
    }
}

Status Artifact::add_dir(const std::filesystem::path& local, std::string_view prefix) {
    try {
        struct stat st {};
        if (::stat(local.c_str(), &st) != 0) {
            return sdk::errno_status("artifact '" + name_ + "': cannot read folder", local, errno);
        }
        if (!S_ISDIR(st.st_mode)) {
            return Status::invalid_argument("artifact '" + name_ + "': '" + local.string() +
                                            "' is not a folder (use add_file for files)");
        }
        std::string rel(prefix);
        if (!rel.empty()) {
            RUNICORN_RETURN_IF_ERROR(sdk::check_rel_path(rel, "artifact folder"));
            for (const auto& s : sources_) {
                if (s.name == rel) {
                    return Status::invalid_argument(
                        "artifact '" + name_ + "': the artifact path '" + rel +
                        "' is already taken by '" + s.local.string() + "'");
                }
            }
        }
        RUNICORN_ASSIGN_OR_RETURN(auto abs, sdk::absolute_path(local));
        sources_.push_back({std::move(abs), std::move(rel), true});
        return Status::ok();
    } catch (...) {
        return sdk::internal_status("Artifact::add_dir");
    }
}

void Artifact::set_description(std::string description) { description_ = std::move(description); }

Status Artifact::set_metadata(Json object) {
    if (!object.is_object()) {
        return Status::invalid_argument("artifact '" + name_ + "': metadata must be a JSON object");
    }
    metadata_ = std::move(object);
    return Status::ok();
}

// ---- ArtifactVersion ---------------------------------------------------------------------------

namespace {
const std::string& empty_string() {
    static const auto* s = new std::string();
    return *s;
}
const Json& empty_object() {
    static const auto* j = new Json(Json::object());
    return *j;
}
const std::optional<ArtifactProducer>& no_producer() {
    static const auto* p = new std::optional<ArtifactProducer>();
    return *p;
}
const std::filesystem::path& empty_path() {
    static const auto* p = new std::filesystem::path();
    return *p;
}
}  // namespace

ArtifactVersion::ArtifactVersion() noexcept = default;
ArtifactVersion::~ArtifactVersion() = default;
ArtifactVersion::ArtifactVersion(const ArtifactVersion&) noexcept = default;
ArtifactVersion& ArtifactVersion::operator=(const ArtifactVersion&) noexcept = default;
ArtifactVersion::ArtifactVersion(ArtifactVersion&&) noexcept = default;
ArtifactVersion& ArtifactVersion::operator=(ArtifactVersion&&) noexcept = default;
ArtifactVersion::ArtifactVersion(std::shared_ptr<sdk::ArtifactVersionState> state) noexcept
    : state_(std::move(state)) {}

const std::string& ArtifactVersion::name() const noexcept {
    return state_ ? state_->name : empty_string();
}
const std::string& ArtifactVersion::type() const noexcept {
    return state_ ? state_->type : empty_string();
}
int ArtifactVersion::version() const noexcept { return state_ ? state_->version : 0; }
const std::string& ArtifactVersion::digest() const noexcept {
    return state_ ? state_->digest : empty_string();
}
std::vector<std::string> ArtifactVersion::aliases() const {
    if (!state_) {
        return {};
    }
    std::lock_guard lock(state_->mu);
    return state_->aliases;
}
bool ArtifactVersion::deduplicated() const noexcept { return state_ && state_->deduplicated; }
bool ArtifactVersion::latest() const noexcept { return state_ && state_->latest; }
double ArtifactVersion::created_at() const noexcept { return state_ ? state_->created_at : 0.0; }
const std::string& ArtifactVersion::description() const noexcept {
    return state_ ? state_->description : empty_string();
}
std::uint64_t ArtifactVersion::file_count() const noexcept {
    return state_ ? state_->file_count : 0;
}
std::uint64_t ArtifactVersion::total_size_bytes() const noexcept {
    return state_ ? state_->total_size_bytes : 0;
}
const Json& ArtifactVersion::metadata() const noexcept {
    return state_ ? state_->metadata : empty_object();
}
const std::optional<ArtifactProducer>& ArtifactVersion::produced_by() const noexcept {
    return state_ ? state_->produced_by : no_producer();
}
const std::filesystem::path& ArtifactVersion::storage_root() const noexcept {
    return state_ ? state_->storage_root : empty_path();
}

std::string ArtifactVersion::to_json() const {
    Json o = Json::object();
    o.set("name", name());
    o.set("type", type());
    o.set("version", version());
    o.set("digest", digest());
    o.set("created_at", created_at());
    o.set("description", description());
    o.set("metadata", metadata());
    o.set("file_count", file_count());
    o.set("total_size_bytes", total_size_bytes());
    Json aliases = Json::array();
    for (const auto& a : this->aliases()) {
        aliases.push_back(a);
    }
    o.set("aliases", std::move(aliases));
    const auto& p = produced_by();
    if (p) {
        Json producer = Json::object();
        producer.set("run_id", p->run_id);
        producer.set("path", p->path ? Json(*p->path) : Json());
        producer.set("run_dir", p->run_dir);
        producer.set("hostname", p->hostname);
        o.set("produced_by", std::move(producer));
    } else {
        o.set("produced_by", Json());
    }
    o.set("latest", latest());
    o.set("deduplicated", deduplicated());
    return o.dump();
}

Result<std::vector<ArtifactFile>> ArtifactVersion::files() const noexcept {
    try {
        if (!state_) {
            return sdk::no_state("files");
        }
        RUNICORN_ASSIGN_OR_RETURN(auto list, state_->store->files(state_->name, state_->version));
        std::vector<ArtifactFile> out;
        out.reserve(list.size());
        for (auto& f : list) {
            out.push_back({std::move(f.path), f.size_bytes, std::move(f.sha256)});
        }
        return out;
    } catch (...) {
        return sdk::internal_status("ArtifactVersion::files");
    }
}

Result<std::filesystem::path> ArtifactVersion::download(const std::filesystem::path& dest,
                                                        DownloadOptions options) const noexcept {
    try {
        if (!state_) {
            return sdk::no_state("download");
        }
        const auto& s = *state_;
        RUNICORN_ASSIGN_OR_RETURN(auto abs,
                                  sdk::absolute_path(dest.empty() ? sdk::default_dest(s) : dest));
        RUNICORN_ASSIGN_OR_RETURN(auto manifest, s.store->manifest(s.name, s.version));
        for (const auto& f : manifest.files) {
            RUNICORN_RETURN_IF_ERROR(sdk::check_confined(abs, f.rel));
        }
        plugin::ArtifactDownloadOptions o;
        o.link = options.link;
        o.overwrite = options.overwrite;
        RUNICORN_ASSIGN_OR_RETURN(auto done, s.store->download(s.name, s.version, abs, o));
        (void)done;
        return abs;
    } catch (...) {
        return sdk::internal_status("ArtifactVersion::download");
    }
}

Result<std::filesystem::path> ArtifactVersion::download_file(
    std::string_view rel, const std::filesystem::path& dest,
    DownloadOptions options) const noexcept {
    try {
        if (!state_) {
            return sdk::no_state("download_file");
        }
        const auto& s = *state_;
        RUNICORN_RETURN_IF_ERROR(sdk::check_rel_path(rel, "artifact file path"));
        RUNICORN_ASSIGN_OR_RETURN(auto abs,
                                  sdk::absolute_path(dest.empty() ? sdk::default_dest(s) : dest));
        RUNICORN_ASSIGN_OR_RETURN(auto manifest, s.store->manifest(s.name, s.version));
        const auto it = std::find_if(manifest.files.begin(), manifest.files.end(),
                                     [&](const plugin::ManifestFile& f) { return f.rel == rel; });
        if (it == manifest.files.end()) {
            return Status::not_found("artifact '" + s.name + ":v" + std::to_string(s.version) +
                                     "' has no file '" + std::string(rel) + "'");
        }
        RUNICORN_RETURN_IF_ERROR(sdk::check_confined(abs, rel));
        auto blobs = s.opener != nullptr ? s.opener->blob_store() : nullptr;
        if (blobs == nullptr) {
            return Status::unavailable(
                "download_file: the dedup plugin's blob store is not loaded");
        }
        const auto target = abs / std::string(rel);
        plugin::MaterializeOptions mo;
        mo.link = options.link;
        mo.executable = it->executable;
        struct stat st {};
        if (::lstat(target.c_str(), &st) == 0) {
            RUNICORN_ASSIGN_OR_RETURN(auto blob, blobs->blob_path(it->sha256));
            if (S_ISREG(st.st_mode) && sdk::same_content(target, blob)) {
                return target;
            }
            if (!options.overwrite) {
                return Status::already_exists("'" + target.string() +
                                              "' exists with other content (use overwrite)");
            }
            mo.overwrite = true;
        }
        RUNICORN_ASSIGN_OR_RETURN(auto method, blobs->materialize(it->sha256, target, mo));
        (void)method;
        return target;
    } catch (...) {
        return sdk::internal_status("ArtifactVersion::download_file");
    }
}

Status ArtifactVersion::set_alias(std::string_view alias) const noexcept {
    try {
        if (!state_) {
            return sdk::no_state("set_alias");
        }
        auto& s = *state_;
        RUNICORN_ASSIGN_OR_RETURN(auto change, s.store->set_alias(s.name, alias, s.version));
        (void)change;
        std::lock_guard lock(s.mu);
        const std::string a(alias);
        if (std::find(s.aliases.begin(), s.aliases.end(), a) == s.aliases.end()) {
            s.aliases.insert(std::upper_bound(s.aliases.begin(), s.aliases.end(), a), a);
        }
        return Status::ok();
    } catch (...) {
        return sdk::internal_status("ArtifactVersion::set_alias");
    }
}

Status ArtifactVersion::remove_alias(std::string_view alias) const noexcept {
    try {
        if (!state_) {
            return sdk::no_state("remove_alias");
        }
        auto& s = *state_;
        if (!plugin::is_valid_user_alias(alias)) {
            return Status::invalid_argument(
                "invalid alias '" + std::string(alias) +
                "' (expected [A-Za-z][A-Za-z0-9._-]{0,63}; 'latest' and 'v<N>' are reserved)");
        }
        RUNICORN_ASSIGN_OR_RETURN(auto info, s.store->info(s.name));
        const auto it = std::find_if(info.aliases.begin(), info.aliases.end(),
                                     [&](const auto& a) { return a.first == alias; });
        if (it == info.aliases.end()) {
            return Status::not_found("alias '" + std::string(alias) + "' of artifact '" + s.name +
                                     "' is not set");
        }
        if (it->second != s.version) {
            return Status::failed_precondition("alias '" + std::string(alias) + "' points at '" +
                                               s.name + ":v" + std::to_string(it->second) +
                                               "', not at v" + std::to_string(s.version));
        }
        RUNICORN_RETURN_IF_ERROR(s.store->remove_alias(s.name, alias));
        std::lock_guard lock(s.mu);
        s.aliases.erase(std::remove(s.aliases.begin(), s.aliases.end(), std::string(alias)),
                        s.aliases.end());
        return Status::ok();
    } catch (...) {
        return sdk::internal_status("ArtifactVersion::remove_alias");
    }
}

// ---- Free function and Run methods -------------------------------------------------------------

Result<ArtifactVersion> artifact(std::string_view ref, std::string_view storage) noexcept {
    try {
        RUNICORN_ASSIGN_OR_RETURN(auto opener, sdk::load_run_store(std::string(storage)));
        RUNICORN_ASSIGN_OR_RETURN(auto store, sdk::artifact_store_of(opener.get(), "artifact"));
        RUNICORN_ASSIGN_OR_RETURN(auto info, store->resolve(ref));
        return sdk::make_artifact_version(std::move(opener), std::move(store), info);
    } catch (...) {
        return sdk::internal_status("artifact");
    }
}

Result<ArtifactVersion> Run::log_artifact(const Artifact& artifact,
                                          std::span<const std::string> aliases) noexcept {
    try {
        const auto& h = sdk::RunAccess::handle(*this);
        if (!h) {
            return Status::failed_precondition(
                "log_artifact: this is a no-op run (runicorn is disabled); nothing is logged");
        }
        auto& core = h->core();
        if (core.finished() || core.inert()) {
            return Status::failed_precondition("log_artifact: run '" + core.identity().id +
                                               "' is already finished");
        }
        RUNICORN_RETURN_IF_ERROR(Artifact::check_names(artifact.name(), artifact.type()));
        RUNICORN_ASSIGN_OR_RETURN(auto store,
                                  sdk::artifact_store_of(h->opener().get(), "log_artifact"));
        const auto& id = core.identity();
        plugin::ArtifactSaveRequest req;
        req.name = artifact.name();
        req.type = artifact.type();
        req.description = artifact.description();
        const auto meta = sdk::to_boost(artifact.metadata());
        if (meta.is_object()) {
            req.metadata = meta.get_object();
        }
        for (const auto& src : artifact.sources()) {
            req.sources.push_back({src.local, src.name});
        }
        req.aliases.assign(aliases.begin(), aliases.end());
        const auto rel = id.run_dir.lexically_relative(id.storage_root).generic_string();
        if (rel.empty() || rel == "." || rel.starts_with("..")) {
            return Status::internal("log_artifact: run folder '" + id.run_dir.string() +
                                    "' is not under the storage root '" + id.storage_root.string() +
                                    "'");
        }
        plugin::ArtifactRunRef by;
        by.run_id = id.id;
        if (!id.path.empty()) {
            by.path = id.path;
        }
        by.run_dir = rel;
        by.hostname = sdk::hostname();
        req.produced_by = std::move(by);
        RUNICORN_ASSIGN_OR_RETURN(auto info, store->save(req));
        return sdk::make_artifact_version(h->opener(), std::move(store), info);
    } catch (...) {
        return sdk::internal_status("log_artifact");
    }
}

Result<ArtifactVersion> Run::use_artifact(std::string_view ref) noexcept {
    try {
        const auto& h = sdk::RunAccess::handle(*this);
        if (!h) {
            return artifact(ref);  // a no-op run resolves read-only (SDK.md §4.7)
        }
        auto& core = h->core();
        if (core.finished() || core.inert()) {
            return Status::failed_precondition("use_artifact: run '" + core.identity().id +
                                               "' is already finished");
        }
        RUNICORN_ASSIGN_OR_RETURN(auto store,
                                  sdk::artifact_store_of(h->opener().get(), "use_artifact"));
        const auto& id = core.identity();
        const auto rel = id.run_dir.lexically_relative(id.storage_root).generic_string();
        if (rel.empty() || rel == "." || rel.starts_with("..")) {
            return Status::internal("use_artifact: run folder '" + id.run_dir.string() +
                                    "' is not under the storage root '" + id.storage_root.string() +
                                    "'");
        }
        RUNICORN_ASSIGN_OR_RETURN(auto info, store->use(ref, rel));
        return sdk::make_artifact_version(h->opener(), std::move(store), info);
    } catch (...) {
        return sdk::internal_status("use_artifact");
    }
}

}  // namespace runicorn
