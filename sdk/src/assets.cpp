#include "assets.hpp"

#include <cmath>
#include <random>
#include <regex>
#include <system_error>

#include <boost/json/value.hpp>

#include "assets_util.hpp"
#include "json_convert.hpp"
#include "run_opener.hpp"
#include "sdk_internal.hpp"
#include <sys/stat.h>

namespace runicorn::sdk {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

bool is_uri(std::string_view s) {
    static const std::regex kUri("^[A-Za-z][A-Za-z0-9+.-]*://");
    return std::regex_search(s.begin(), s.end(), kUri);
}

/// A local path `~`-expanded and made absolute (FORMAT.md §4.6 uri).
fs::path local_path(std::string_view s) {
    std::string p(s);
    if (!p.empty() && p[0] == '~' && (p.size() == 1 || p[1] == '/')) {
        if (const char* home = std::getenv("HOME")) {  // NOLINT(concurrency-mt-unsafe)
            p = std::string(home) + p.substr(1);
        }
    }
    std::error_code ec;
    fs::path abs = fs::absolute(fs::path(p), ec);
    return ec ? fs::path(p) : abs.lexically_normal();
}

double mtime_of(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
        return 0;
    }
    return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) * 1e-9;
}

/// The unsaved fingerprint of FORMAT.md §4.6: a stat dict, or null for a missing path.
json::value stat_fingerprint(const fs::path& p) {
    std::error_code ec;
    const auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
        return nullptr;
    }
    if (fs::is_regular_file(st)) {
        json::object o;
        o["size_bytes"] = static_cast<std::int64_t>(fs::file_size(p, ec));
        o["mtime"] = mtime_of(p);
        return o;
    }
    std::uint64_t count = 0;
    std::uint64_t total = 0;
    double latest = mtime_of(p);
    for (fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec),
         end;
         !ec && it != end; it.increment(ec)) {
        std::error_code sec;
        if (!it->is_regular_file(sec) || sec) {
            continue;
        }
        count += 1;
        total += it->file_size(sec);
        latest = std::max(latest, mtime_of(it->path()));
    }
    json::object o;
    o["mtime"] = latest;
    o["file_count"] = static_cast<std::int64_t>(count);
    o["total_size_bytes"] = static_cast<std::int64_t>(total);
    return o;
}

json::value opt_string(const std::optional<std::string>& s) {
    return s ? json::value(*s) : json::value(nullptr);
}

std::string abs_string(const fs::path& p) {
    std::error_code ec;
    fs::path a = fs::absolute(p, ec);
    return (ec ? p : a).lexically_normal().string();
}

/// Replaces the item of `arr` for which `same` holds (where it stands), else appends.
void upsert(json::array& arr, json::object entry,
            const std::function<bool(const json::object&)>& same) {
    for (auto& v : arr) {
        if (v.is_object() && same(v.as_object())) {
            v = std::move(entry);
            return;
        }
    }
    arr.emplace_back(std::move(entry));
}

json::array& as_array(json::value& v) {
    if (!v.is_array()) {
        v = json::array();
    }
    return v.as_array();
}

std::string too_large(std::string_view what, const WalkStats& s, std::uint64_t max_files,
                      std::uint64_t max_bytes) {
    return std::string(what) + " too large to archive; " + std::to_string(s.files) + " files, " +
           std::to_string(s.bytes) + " bytes exceed the limits (" + std::to_string(max_files) +
           " files, " + std::to_string(max_bytes) +
           " bytes); pass force_save=True to archive it anyway";
}

WalkStats count_tree_or_file(const fs::path& p, std::uint64_t max_files, std::uint64_t max_bytes) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) {
        return WalkStats{1, static_cast<std::uint64_t>(fs::file_size(p, ec))};
    }
    return count_tree(p, max_files, max_bytes);
}

}  // namespace

// ---- RunAssets --------------------------------------------------------------------------------

struct RunAssets::Watcher {
    std::mutex mu;
    std::condition_variable cv;
    bool stop = false;
    bool exited = false;
    std::atomic<bool> stop_flag{false};
    std::thread thread;
};

std::shared_ptr<RunAssets> RunAssets::of(const Run& run) {
    const auto& h = RunAccess::handle(run);
    if (!h) {
        return nullptr;
    }
    const std::shared_ptr<RunCore>& core = h->core_ptr();
    std::shared_ptr<plugin::BlobStore> blobs = h->opener() ? h->opener()->blob_store() : nullptr;
    auto ext = core->extension("runicorn.assets", [&]() -> std::shared_ptr<void> {
        return std::make_shared<RunAssets>(core, blobs);
    });
    return std::static_pointer_cast<RunAssets>(ext);
}

RunAssets::RunAssets(const std::shared_ptr<RunCore>& core, std::shared_ptr<plugin::BlobStore> blobs)
    : core_(core),
      identity_(core->identity()),
      on_warning_(core->settings().on_warning),
      blobs_(std::move(blobs)) {}

RunAssets::~RunAssets() {
    std::shared_ptr<Watcher> w;
    {
        std::lock_guard lock(watch_mu_);
        w = std::move(watcher_);
    }
    if (w && w->thread.joinable()) {
        // Only reached when the watcher already ended (it holds this object while it runs).
        if (w->thread.get_id() == std::this_thread::get_id()) {
            w->thread.detach();
        } else {
            w->thread.join();
        }
    }
}

void RunAssets::warn(StatusCode code, std::string_view kind, const std::string& message) noexcept {
    try {
        sdk::warn(gate_, on_warning_, code, kind, "run '" + identity_.id + "': " + message);
    } catch (...) {
        // Out of memory: the warning is lost.
    }
}

void RunAssets::warn_no_store(std::string_view what) noexcept {
    if (!warned_no_store_.exchange(true)) {
        warn(StatusCode::kUnavailable, "no_blob_store",
             std::string(what) +
                 ": the dedup plugin (runicorn.blob_store/1) is not loaded, so no archive copy "
                 "is made; the entry is recorded without one");
    }
}

void RunAssets::ensure_loaded() {
    if (loaded_) {
        return;
    }
    loaded_ = true;
    if (auto doc = read_json_object(identity_.run_dir / "assets.json")) {
        doc_ = std::move(*doc);
    }
    for (const char* k : {"datasets", "pretrained", "outputs"}) {
        if (auto* v = doc_.if_contains(k); v == nullptr || !v->is_array()) {
            doc_[k] = json::array();
        }
    }
    if (auto* v = doc_.if_contains("code"); v == nullptr || !v->is_object()) {
        doc_["code"] = json::object();
    }
}

Status RunAssets::update_section(std::string_view key,
                                 const std::function<bool(json::value&)>& change) {
    auto core = core_.lock();
    if (!core) {
        return Status::failed_precondition("run '" + identity_.id + "' is closed");
    }
    std::lock_guard lock(mu_);
    ensure_loaded();
    json::value section = doc_[key];
    if (!change(section)) {
        return Status::ok();
    }
    json::object patch;
    patch[key] = section;
    Status s = core->publish_assets(std::move(patch), kPublishTimeout);
    if (s.is_ok()) {
        doc_[key] = std::move(section);
    }
    return s;
}

Status RunAssets::archive_into(const fs::path& local, std::string_view category, bool fp_first,
                               json::object& entry) {
    std::error_code ec;
    const auto st = fs::status(local, ec);
    if (fs::is_regular_file(st)) {
        plugin::BlobPutOptions po;
        RUNICORN_ASSIGN_OR_RETURN(plugin::BlobPutResult put, blobs_->put_file(local, po));
        RUNICORN_ASSIGN_OR_RETURN(fs::path blob, blobs_->blob_path(put.sha256));
        if (fp_first) {
            entry["fingerprint"] = put.sha256;
            entry["fingerprint_kind"] = "sha256";
        } else {
            entry["fingerprint_kind"] = "sha256";
            entry["fingerprint"] = put.sha256;
        }
        entry["archive_path"] = abs_string(blob);
        return Status::ok();
    }
    RUNICORN_ASSIGN_OR_RETURN(plugin::ManifestBuild build, blobs_->store_directory(local));
    for (const auto& w : build.warnings) {
        warn(StatusCode::kOk, "archive_skipped", w);
    }
    if (build.manifest.source_path.empty()) {
        build.manifest.source_path = abs_string(local);
    }
    RUNICORN_ASSIGN_OR_RETURN(fs::path mpath, blobs_->write_manifest(category, build.manifest));
    const std::string m = abs_string(mpath);
    if (fp_first) {
        entry["fingerprint"] = build.manifest.fingerprint;
        entry["fingerprint_kind"] = "sha256_manifest";
    } else {
        entry["fingerprint_kind"] = "sha256_manifest";
        entry["fingerprint"] = build.manifest.fingerprint;
    }
    entry["archive_path"] = m;
    entry["manifest_path"] = m;
    entry["file_count"] = static_cast<std::int64_t>(build.manifest.file_count);
    entry["total_size_bytes"] = static_cast<std::int64_t>(build.manifest.total_size_bytes);
    return Status::ok();
}

Status RunAssets::log_dataset(std::string_view name, std::string_view root_or_uri,
                              const DatasetOptions& o, const Json* uri_object) {
    if (name.empty()) {
        return Status::invalid_argument("log_dataset: the dataset name must not be empty");
    }
    json::object entry;
    entry["name"] = name;
    entry["context"] = o.context;
    std::optional<fs::path> local;
    if (uri_object != nullptr) {
        entry["uri"] = to_boost(*uri_object);
    } else if (is_uri(root_or_uri)) {
        entry["uri"] = root_or_uri;  // COMPAT (fix): verbatim
    } else {
        local = local_path(root_or_uri);
        entry["uri"] = local->string();
    }
    entry["description"] = opt_string(o.description);
    const bool exists = local && fs::exists(*local);
    if (o.save && exists && !o.force_save) {
        const WalkStats s = count_tree_or_file(*local, o.max_archive_files, o.max_archive_bytes);
        if (s.files > o.max_archive_files || s.bytes > o.max_archive_bytes) {
            return Status::invalid_argument(
                too_large("dataset", s, o.max_archive_files, o.max_archive_bytes));
        }
    }
    std::shared_ptr<plugin::BlobWriteLease> lease;
    bool saved = false;
    if (o.save && !exists) {
        warn(StatusCode::kInvalidArgument, "archive",
             "log_dataset('" + std::string(name) + "', save=True): " +
                 (local ? "'" + local->string() + "' does not exist" : "a URI cannot be archived") +
                 "; recorded without a copy");
    } else if (o.save && blobs_ == nullptr) {
        warn_no_store("log_dataset(save=True)");
    } else if (o.save) {
        json::object saved_entry = entry;
        saved_entry["saved"] = true;
        Status s;
        auto l = blobs_->begin_write();
        if (!l.has_value()) {
            s = l.error();
        } else {
            lease = l.value();
            s = archive_into(*local, "datasets", true, saved_entry);
        }
        if (s.is_ok()) {
            entry = std::move(saved_entry);
            saved = true;
        } else {
            warn(s.code(), "archive",
                 "log_dataset('" + std::string(name) + "'): the archive copy failed (" +
                     s.to_string() + "); recorded without a copy");
        }
    }
    if (!saved) {
        entry["saved"] = false;
        entry["fingerprint"] = local ? stat_fingerprint(*local) : json::value(nullptr);
    }
    const std::string ctx = o.context;
    const std::string nm(name);
    Status s = update_section("datasets", [&](json::value& v) {
        upsert(as_array(v), std::move(entry), [&](const json::object& e) {
            const auto* n = e.if_contains("name");
            const auto* c = e.if_contains("context");
            return n != nullptr && n->is_string() && n->as_string() == nm && c != nullptr &&
                   c->is_string() && c->as_string() == ctx;
        });
        return true;
    });
    lease.reset();  // assets.json names the objects now (FORMAT.md §7.7 step 1)
    if (!s.is_ok()) {
        warn(s.code(), "assets", "log_dataset could not update assets.json: " + s.to_string());
    }
    return s;
}

Status RunAssets::log_pretrained(std::string_view name, const PretrainedOptions& o) {
    if (name.empty()) {
        return Status::invalid_argument("log_pretrained: the name must not be empty");
    }
    if (o.save && !o.path_or_uri) {
        return Status::invalid_argument("log_pretrained(save=True) needs path_or_uri");
    }
    json::object entry;
    entry["name"] = name;
    entry["source_type"] = o.source_type;
    std::optional<fs::path> local;
    if (!o.path_or_uri) {
        entry["path_or_uri"] = nullptr;
    } else if (is_uri(*o.path_or_uri)) {
        entry["path_or_uri"] = *o.path_or_uri;
    } else {
        local = local_path(*o.path_or_uri);
        // A bare model name ("bert-base-uncased") that is not a local path stays as given.
        entry["path_or_uri"] = fs::exists(*local) ? local->string() : *o.path_or_uri;
    }
    entry["description"] = opt_string(o.description);
    const bool exists = local && fs::exists(*local);
    if (o.save && exists && !o.force_save) {
        const WalkStats s = count_tree_or_file(*local, o.max_archive_files, o.max_archive_bytes);
        if (s.files > o.max_archive_files || s.bytes > o.max_archive_bytes) {
            return Status::invalid_argument(
                too_large("pretrained model", s, o.max_archive_files, o.max_archive_bytes));
        }
    }
    entry["saved"] = false;
    std::shared_ptr<plugin::BlobWriteLease> lease;
    if (o.save && !exists) {
        warn(StatusCode::kInvalidArgument, "archive",
             "log_pretrained('" + std::string(name) + "', save=True): '" + *o.path_or_uri +
                 "' is not a local file or directory; recorded without a copy");
    } else if (o.save && blobs_ == nullptr) {
        warn_no_store("log_pretrained(save=True)");
    } else if (o.save) {
        json::object saved_entry = entry;
        saved_entry["saved"] = true;
        Status s;
        auto l = blobs_->begin_write();
        if (!l.has_value()) {
            s = l.error();
        } else {
            lease = l.value();
            s = archive_into(*local, "pretrained", false, saved_entry);
        }
        if (s.is_ok()) {
            entry = std::move(saved_entry);
        } else {
            warn(s.code(), "archive",
                 "log_pretrained('" + std::string(name) + "'): the archive copy failed (" +
                     s.to_string() + "); recorded without a copy");
        }
    }
    const std::string nm(name);
    Status s = update_section("pretrained", [&](json::value& v) {
        upsert(as_array(v), std::move(entry), [&](const json::object& e) {
            const auto* n = e.if_contains("name");
            return n != nullptr && n->is_string() && n->as_string() == nm;
        });
        return true;
    });
    lease.reset();
    if (!s.is_ok()) {
        warn(s.code(), "assets", "log_pretrained could not update assets.json: " + s.to_string());
    }
    return s;
}

Result<Json> RunAssets::snapshot_code(const SnapshotOptions& o) {
    const fs::path root = local_path(
        (o.workspace_root.empty() ? identity_.workspace_root : o.workspace_root).string());
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        return Status::not_found("code snapshot: '" + root.string() + "' is not a directory");
    }
    const IgnoreRules rules = IgnoreRules::for_workspace(root, o.ignore_file, o.extra_excludes);
    std::vector<std::string> warnings;
    auto walked = walk_files(root, &rules, o.force ? 0 : o.max_files,
                             o.force ? 0 : o.max_total_bytes, warnings);
    if (!walked.has_value()) {
        if (walked.error().code() == StatusCode::kInvalidArgument) {
            return Status::invalid_argument("code snapshot too large: " + walked.error().message() +
                                            "; add excludes to " + o.ignore_file +
                                            " or pass force_snapshot=True");
        }
        return walked.error();
    }
    for (const auto& w : warnings) {
        warn(StatusCode::kOk, "snapshot_skipped", "code snapshot: " + w);
    }
    if (blobs_ == nullptr) {
        warn_no_store("code snapshot");
        return Status::unavailable(
            "code snapshot: the dedup plugin (runicorn.blob_store/1) is not loaded");
    }
    RUNICORN_ASSIGN_OR_RETURN(std::shared_ptr<plugin::BlobWriteLease> lease, blobs_->begin_write());
    std::vector<fs::path> srcs;
    srcs.reserve(walked.value().size());
    for (const auto& f : walked.value()) {
        srcs.push_back(f.path);
    }
    RUNICORN_ASSIGN_OR_RETURN(std::vector<plugin::BlobPutResult> puts, blobs_->put_many(srcs));
    plugin::DirManifest m;
    m.created_at = unix_now();
    m.source_path = root.string();
    for (std::size_t i = 0; i < puts.size(); ++i) {
        plugin::ManifestFile f;
        f.rel = walked.value()[i].rel;
        f.sha256 = puts[i].sha256;
        f.size_bytes = puts[i].size_bytes;
        f.executable = walked.value()[i].executable;
        m.files.push_back(std::move(f));
    }
    finish_manifest(m);

    json::object snap;
    snap["saved"] = true;
    snap["workspace_root"] = root.string();
    if (o.format == SnapshotFormat::kManifest) {
        RUNICORN_ASSIGN_OR_RETURN(fs::path mpath, blobs_->write_manifest("code", m));
        snap["format"] = "manifest";
        snap["created_at"] = static_cast<std::int64_t>(m.created_at);
        snap["archive_path"] = abs_string(mpath);
        snap["fingerprint_kind"] = "sha256_manifest";
        snap["fingerprint"] = m.fingerprint;
        snap["manifest_path"] = abs_string(mpath);
        snap["file_count"] = static_cast<std::int64_t>(m.file_count);
        snap["total_size_bytes"] = static_cast<std::int64_t>(m.total_size_bytes);
    } else {
        // Zip mode (FORMAT.md §4.9): built in a staging area, stored once as a blob;
        // code_snapshot.zip in the run folder is a hard link to it or absent.
        std::random_device rd;
        const fs::path staging = identity_.storage_root / "index" / "staging" / "export" /
                                 ("snapshot-" + std::to_string(rd()) + std::to_string(rd()));
        fs::create_directories(staging, ec);
        const fs::path zip = staging / "code_snapshot.zip";
        plugin::ZipOptions zo;
        Status zs = blobs_->export_manifest_zip(m, zip, zo);
        Result<plugin::BlobPutResult> put = zs.is_ok() ? blobs_->put_file(zip, {}) : zs;
        fs::remove_all(staging, ec);
        if (!put.has_value()) {
            return put.error();
        }
        RUNICORN_ASSIGN_OR_RETURN(fs::path blob, blobs_->blob_path(put.value().sha256));
        plugin::MaterializeOptions mo;
        mo.link = true;
        mo.overwrite = true;
        const fs::path in_run = identity_.run_dir / "code_snapshot.zip";
        auto how = blobs_->materialize(put.value().sha256, in_run, mo);
        if (how.has_value() && how.value() != plugin::MaterializeMethod::kHardLink) {
            fs::remove(in_run, ec);  // a hard link or nothing, never a second copy
        }
        snap["format"] = "zip";
        snap["created_at"] = static_cast<std::int64_t>(m.created_at);
        snap["archive_path"] = abs_string(blob);
        snap["fingerprint_kind"] = "sha256";
        snap["fingerprint"] = put.value().sha256;
    }
    json::object snap_copy = snap;
    Status s = update_section("code", [&](json::value& v) {
        if (!v.is_object()) {
            v = json::object();
        }
        v.as_object()["snapshot"] = std::move(snap_copy);
        return true;
    });
    lease.reset();
    if (!s.is_ok()) {
        return s;
    }
    return from_boost(snap);
}

Status RunAssets::watch_outputs(const OutputsOptions& options, std::chrono::milliseconds interval) {
    if (interval < std::chrono::milliseconds{1}) {
        return Status::invalid_argument("watch_outputs: interval must be at least 1 ms");
    }
    auto core = core_.lock();
    if (!core || core->finished()) {
        return Status::failed_precondition("run '" + identity_.id + "' is already finished");
    }
    std::lock_guard lock(watch_mu_);
    if (watcher_) {
        bool exited = false;
        {
            std::lock_guard wl(watcher_->mu);
            exited = watcher_->exited;
        }
        if (!exited) {
            return Status::already_exists("run '" + identity_.id +
                                          "' already has an outputs watcher");
        }
        if (watcher_->thread.joinable()) {
            watcher_->thread.join();
        }
    }
    auto w = std::make_shared<Watcher>();
    std::shared_ptr<RunAssets> self = std::static_pointer_cast<RunAssets>(
        core->extension("runicorn.assets", [] { return std::shared_ptr<void>(); }));
    if (self.get() != this) {
        return Status::internal("watch_outputs: the run's asset state is not this object");
    }
    std::weak_ptr<RunAssets> weak = self;
    core->add_finish_hook([weak] {
        if (auto a = weak.lock()) {
            a->stop_outputs_watch(std::chrono::seconds(5));
        }
    });
    w->thread = std::thread([self, w, options, interval] {
        for (;;) {
            auto r = self->scan_outputs(options, &w->stop_flag);
            if (!r.has_value() && r.error().code() != StatusCode::kCancelled) {
                self->warn(r.error().code(), "outputs_watch",
                           "outputs scan failed: " + r.error().to_string());
            }
            std::unique_lock wl(w->mu);
            if (w->cv.wait_for(wl, interval, [&] { return w->stop; })) {
                break;
            }
        }
        std::lock_guard wl(w->mu);
        w->exited = true;
        w->cv.notify_all();
    });
    watcher_ = std::move(w);
    return Status::ok();
}

void RunAssets::stop_outputs_watch(std::chrono::milliseconds wait) {
    std::shared_ptr<Watcher> w;
    {
        std::lock_guard lock(watch_mu_);
        w = std::move(watcher_);
    }
    if (!w) {
        return;
    }
    std::unique_lock wl(w->mu);
    w->stop = true;
    w->stop_flag.store(true);
    w->cv.notify_all();
    const bool done = w->cv.wait_for(wl, wait, [&] { return w->exited; });
    wl.unlock();
    if (!w->thread.joinable()) {
        return;
    }
    if (done && w->thread.get_id() != std::this_thread::get_id()) {
        w->thread.join();
    } else {
        w->thread.detach();  // it ends after its current file; finish is not held up longer
    }
}

}  // namespace runicorn::sdk

// ---- Run methods (runicorn.hpp, the sdk-assets block) ----------------------------------------

namespace runicorn {

namespace {

template <class F>
auto guarded(std::string_view what, F&& f) noexcept -> decltype(f()) {
    try {
        return f();
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted(std::string(what) + ": out of memory");
    } catch (const std::exception& e) {
        return Status::internal(std::string(what) + ": " + e.what());
    } catch (...) {
        return Status::internal(std::string(what) + ": unexpected exception");
    }
}

Status finished_status(const Run& run) {
    return Status::failed_precondition("run '" + run.id() + "' is already finished");
}

}  // namespace

Status Run::log_dataset(std::string_view name, std::string_view root_or_uri,
                        const DatasetOptions& options) noexcept {
    return guarded("log_dataset", [&]() -> Status {
        auto a = sdk::RunAssets::of(*this);
        if (!a) {
            return Status::ok();
        }
        if (finished()) {
            return finished_status(*this);
        }
        return a->log_dataset(name, root_or_uri, options);
    });
}

Status Run::log_pretrained(std::string_view name, const PretrainedOptions& options) noexcept {
    return guarded("log_pretrained", [&]() -> Status {
        auto a = sdk::RunAssets::of(*this);
        if (!a) {
            return Status::ok();
        }
        if (finished()) {
            return finished_status(*this);
        }
        return a->log_pretrained(name, options);
    });
}

Result<Json> Run::snapshot_code(const SnapshotOptions& options) noexcept {
    return guarded("snapshot_code", [&]() -> Result<Json> {
        auto a = sdk::RunAssets::of(*this);
        if (!a) {
            return Json();
        }
        if (finished()) {
            return finished_status(*this);
        }
        return a->snapshot_code(options);
    });
}

Result<ScanResult> Run::scan_outputs_once(const OutputsOptions& options) noexcept {
    return guarded("scan_outputs_once", [&]() -> Result<ScanResult> {
        auto a = sdk::RunAssets::of(*this);
        if (!a) {
            return ScanResult{};
        }
        if (finished()) {
            return finished_status(*this);
        }
        return a->scan_outputs(options, nullptr);
    });
}

Status Run::watch_outputs(const OutputsOptions& options,
                          std::chrono::milliseconds interval) noexcept {
    return guarded("watch_outputs", [&]() -> Status {
        auto a = sdk::RunAssets::of(*this);
        if (!a) {
            return Status::ok();
        }
        return a->watch_outputs(options, interval);
    });
}

void Run::stop_outputs_watch() noexcept {
    (void)guarded("stop_outputs_watch", [&]() -> Status {
        if (auto a = sdk::RunAssets::of(*this)) {
            a->stop_outputs_watch(std::chrono::seconds(30));
        }
        return Status::ok();
    });
}

}  // namespace runicorn
