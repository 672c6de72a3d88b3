#include "folder_run_store.hpp"

#include <algorithm>
#include <array>
#include <ctime>
#include <map>
#include <set>
#include <system_error>
#include <thread>

#include <boost/json/array.hpp>

#include "catalog_location.hpp"
#include "file_io.hpp"
#include "json_values.hpp"
#include "run_discovery.hpp"
#include "run_reader.hpp"
#include "run_writer.hpp"
#include "sys_info.hpp"
#include "v06_index.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::storage {
namespace fs = std::filesystem;
namespace json = boost::json;
using plugin::FsckReport;
using plugin::RunInfo;
using plugin::RunLocation;

namespace {

constexpr std::size_t kMaxTags = 100;
constexpr std::size_t kMaxTagLength = 128;
constexpr double kLeftoverAge = 24 * 3600.0;  // FORMAT.md C8

std::int64_t mtime_ns_of(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
        return 0;
    }
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
           static_cast<std::int64_t>(st.st_mtim.tv_nsec);
}

/// The signature read_run_folder() would record, by fstatat() alone (relative to the folder, so
/// each look-up walks one path component).
RunFileStamps stat_stamps(const fs::path& dir) {
    RunFileStamps s;
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) {
        return s;
    }
    const auto at = [&fd](const char* name) -> std::optional<FileStamp> {
        struct stat st {};
        if (::fstatat(fd.get(), name, &st, 0) != 0) {
            return std::nullopt;
        }
        return FileStamp{static_cast<std::uint64_t>(st.st_size),
                         static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                             static_cast<std::int64_t>(st.st_mtim.tv_nsec),
                         static_cast<std::uint64_t>(st.st_ino)};
    };
    s.meta = at("meta.json");
    s.status = at("status.json");
    s.summary = at("summary.json");
    s.assets = at("assets.json");
    s.deleted = at(".deleted");
    return s;
}

/// events.jsonl's stamp for the catalog signature: run_metric_keys change with it.
std::string events_suffix(const fs::path& dir) {
    struct stat st {};
    if (::stat((dir / "events.jsonl").c_str(), &st) != 0) {
        return ";e-";
    }
    return ";e" + std::to_string(st.st_size) + "." +
           std::to_string(static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                          static_cast<std::int64_t>(st.st_mtim.tv_nsec)) +
           "." + std::to_string(st.st_ino);
}

/// A legacy run's place in discovery order follows its folder's mtime, so the signature holds it.
std::string legacy_suffix(const RunLocation& loc, std::int64_t mtime_ns) {
    return loc.legacy ? ";l" + std::to_string(mtime_ns) : std::string();
}

std::string trim(std::string_view s) {
    constexpr std::string_view kSpace = " \t\n\r\f\v";
    const auto b = s.find_first_not_of(kSpace);
    if (b == std::string_view::npos) {
        return {};
    }
    const auto e = s.find_last_not_of(kSpace);
    return std::string(s.substr(b, e - b + 1));
}

/// FORMAT.md §5.3 safe(): characters outside [A-Za-z0-9._-] become '_', 80 characters at most.
std::string safe_name(std::string_view s) {
    std::string out;
    for (const char c : s.substr(0, 80)) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        out += ok ? c : '_';
    }
    return out;
}

std::string utc_stamp() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

template <class T>
Status status_of(const Result<T>& r) {
    return r ? Status::ok() : r.error();
}

Status not_found(std::string_view run_id) {
    return Status::not_found("run '" + std::string(run_id) + "' not found");
}

/// Bytes after the last '\n' of a non-empty file; 0 when it ends with one (or is empty).
Result<std::uint64_t> torn_tail_bytes(const fs::path& file) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return io_error(errno, "reading", file);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return io_error(errno, "reading", file);
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    std::array<char, 65536> buf{};
    std::uint64_t end = size;
    while (end > 0) {
        const std::uint64_t start = end > buf.size() ? end - buf.size() : 0;
        const auto want = static_cast<std::size_t>(end - start);
        const ssize_t n = ::pread(fd.get(), buf.data(), want, static_cast<off_t>(start));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io_error(errno, "reading", file);
        }
        if (static_cast<std::size_t>(n) != want) {
            return Status::unavailable("reading '" + file.string() + "': the file shrank");
        }
        for (std::size_t i = want; i > 0; --i) {
            if (buf[i - 1] == '\n') {
                return size - (start + i);
            }
        }
        end = start;
    }
    return size;  // no newline at all: everything is one torn line
}

}  // namespace

FolderRunStore::FolderRunStore(fs::path root, std::shared_ptr<spdlog::logger> log, Options options)
    : root_(std::move(root)),
      log_(std::move(log)),
      options_(std::move(options)),
      local_(LocalHost::current()),
      metric_reader_(log_) {}

Result<std::vector<RunLocation>> FolderRunStore::discover_runs(bool include_deleted) const {
    return storage::discover_runs(root_, include_deleted, log_.get());
}

Result<std::shared_ptr<plugin::RunWriter>> FolderRunStore::open_run(
    const plugin::RunCreateOptions& options) const {
    RUNICORN_ASSIGN_OR_RETURN(
        auto writer, FolderRunWriter::open(root_, options, log_, options_.write_v06_index));
    return std::shared_ptr<plugin::RunWriter>(std::move(writer));
}

Result<RunInfo> FolderRunStore::read_run(const RunLocation& location) const {
    ReadRunOptions options;
    options.check_liveness = options_.check_liveness;
    options.tracker = &tracker_;
    options.local = &local_;
    return read_run_folder(location, options, log_.get());
}

// --- The catalog --------------------------------------------------------------------------

std::string FolderRunStore::rel_dir_of(const fs::path& dir) const {
    return dir.lexically_normal().lexically_relative(root_.lexically_normal()).generic_string();
}

Result<catalog::Catalog*> FolderRunStore::catalog_locked() const {
    if (catalog_) {
        return catalog_.get();
    }
    std::string file = options_.catalog_file;
    if (file.empty()) {
        const CatalogPlacement place = choose_catalog_file(root_);
        if (place.in_user_cache && log_ != nullptr) {
            log_->warn("{}: keeping the catalog of '{}' in '{}'", place.reason, root_.string(),
                       place.file.string());
        }
        std::error_code ec;
        fs::create_directories(place.file.parent_path(), ec);
        if (ec) {
            return io_error(ec.value(), "creating the catalog directory", place.file.parent_path());
        }
        file = place.file.string();
    }
    RUNICORN_ASSIGN_OR_RETURN(catalog_, catalog::Catalog::open(file, root_));
    catalog_path_ = file;
    return catalog_.get();
}

Result<fs::path> FolderRunStore::catalog_file() const {
    std::lock_guard lock(catalog_mu_);
    RUNICORN_RETURN_IF_ERROR(status_of(catalog_locked()));
    return catalog_path_;
}

Result<RunInfo> FolderRunStore::read_for_catalog(const RunLocation& location,
                                                 catalog::CatalogEntry* entry) const {
    RunFileStamps stamps;
    ReadRunOptions options;
    options.check_liveness = options_.check_liveness;
    options.tracker = &tracker_;
    options.local = &local_;
    options.stamps = &stamps;
    // Stamped before reading: a later append changes the stamp, so the next refresh reads again.
    std::string events = entry != nullptr ? events_suffix(location.dir) : std::string();
    RUNICORN_ASSIGN_OR_RETURN(auto info, read_run_folder(location, options, log_.get()));
    if (info.liveness == plugin::RunLiveness::kDead) {
        // The check just wrote "failed" into status.json: from now on every read (a reindex
        // too) finds an ended run, so that is what the catalog keeps.
        if (const auto status = load_json_object(location.dir / "status.json", nullptr);
            status && json_string(*status, "status") == "failed") {
            info.liveness = plugin::RunLiveness::kNotChecked;
        }
    }
    if (entry != nullptr) {
        const std::int64_t mtime = location.legacy ? mtime_ns_of(location.dir) : 0;
        entry->rel_dir = rel_dir_of(location.dir);
        entry->discovery_key = catalog::discovery_key(location, entry->rel_dir, mtime);
        // config.* filters (API.md §4.2) read assets.json's config from the catalog, and
        // GET /api/assets its entries (asset_uses).
        if (stamps.assets) {
            const auto assets = load_json_object(location.dir / "assets.json", nullptr);
            if (const auto* config = assets ? assets->if_contains("config") : nullptr;
                config != nullptr && config->is_object()) {
                entry->config = config->get_object();
            }
            if (assets) {
                entry->assets = catalog::asset_uses_of(*assets, root_);
            }
        }
        // run_metric_keys and last_step, through the metric-series engine (incremental for the
        // runs it keeps). A failure leaves the run without metrics and a signature that never
        // matches, so the next refresh tries again.
        if (auto keys = metric_reader_.read(location.dir)) {
            entry->metric_keys = std::move(*keys);
        } else {
            if (log_ != nullptr) {
                log_->warn("cannot read the metrics of '{}': {}", location.dir.string(),
                           keys.error().message());
            }
            events = ";e!";
        }
        entry->signature = stamps.signature() + legacy_suffix(location, mtime) + events;
    }
    return info;
}

Result<catalog::CatalogEntry> FolderRunStore::make_entry(const RunLocation& location) const {
    catalog::CatalogEntry entry;
    RUNICORN_ASSIGN_OR_RETURN(entry.info, read_for_catalog(location, &entry));
    return entry;
}

Result<std::vector<catalog::CatalogEntry>> FolderRunStore::read_entries(
    const std::vector<RunLocation>& runs, plugin::ReindexProgress* progress) const {
    // Reading is most of a rebuild's work and each run is independent: spread it over the cores
    // (at most 4 threads). Runs that vanished since discovery are left out.
    std::vector<std::optional<catalog::CatalogEntry>> slots(runs.size());
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> done{0};
    std::atomic<bool> failed{false};
    std::mutex error_mu;
    Status error;
    // Reads run i into its slot; the first error other than NOT_FOUND stops everyone.
    const auto read_one = [&](std::size_t i) {
        auto entry = make_entry(runs[i]);
        if (entry) {
            slots[i] = std::move(*entry);
        } else if (entry.error().code() != StatusCode::kNotFound) {
            std::lock_guard lock(error_mu);
            if (!failed.exchange(true)) {
                error = entry.error();
            }
        }
        ++done;
    };
    const auto work = [&] {
        for (std::size_t i = next++; i < runs.size() && !failed; i = next++) {
            read_one(i);
        }
    };
    const std::size_t helpers =
        runs.size() < 64
            ? 0
            : std::min<std::size_t>(3, std::max(1U, std::thread::hardware_concurrency()) - 1);
    std::vector<std::thread> threads;
    threads.reserve(helpers);
    for (std::size_t t = 0; t < helpers; ++t) {
        threads.emplace_back(work);
    }
    // The calling thread reads too, and alone reports progress (ReindexProgress's contract).
    std::size_t reported = 0;
    if (progress != nullptr) {
        progress->on_progress(0, runs.size());
    }
    for (std::size_t i = next++; i < runs.size() && !failed; i = next++) {
        read_one(i);
        if (progress != nullptr && done > reported) {
            reported = done;
            progress->on_progress(reported, runs.size());
        }
    }
    for (auto& t : threads) {
        t.join();
    }
    if (failed) {
        return error;
    }
    if (progress != nullptr && reported < runs.size()) {
        progress->on_progress(runs.size(), runs.size());
    }
    std::vector<catalog::CatalogEntry> out;
    out.reserve(runs.size());
    for (auto& e : slots) {
        if (e) {
            out.push_back(std::move(*e));
        }
    }
    return out;
}

namespace {

/// kRemoved changes for the catalogued runs `removed` (rel_dirs), as the catalog last saw them.
std::vector<plugin::RunChange> removed_changes(const catalog::Catalog& cat, const fs::path& root,
                                               const std::vector<std::string>& removed) {
    std::vector<plugin::RunChange> out;
    for (const std::string& rel : removed) {
        const fs::path dir = root / rel;
        plugin::RunChange change{plugin::RunChange::Kind::kRemoved, {}};
        change.run.location.dir = dir;
        change.run.location.run_id = dir.filename().string();
        if (auto same = cat.find_all(change.run.location.run_id)) {
            for (auto& info : *same) {
                if (info.location.dir == dir) {
                    change.run = std::move(info);
                    break;
                }
            }
        }
        out.push_back(std::move(change));
    }
    return out;
}

}  // namespace

Result<std::size_t> FolderRunStore::sync(const std::vector<RunLocation>& found,
                                         const std::string& scope) const {
    std::vector<catalog::StoredRun> stored;
    {
        std::lock_guard lock(catalog_mu_);
        RUNICORN_ASSIGN_OR_RETURN(auto* cat, catalog_locked());
        RUNICORN_ASSIGN_OR_RETURN(stored, cat->stored_runs(scope));
    }
    std::map<std::string_view, const catalog::StoredRun*> by_rel;
    for (const auto& s : stored) {
        by_rel.emplace(s.rel_dir, &s);
    }
    std::set<std::string> seen;
    std::vector<RunLocation> to_read;
    for (const auto& loc : found) {
        std::string rel = rel_dir_of(loc.dir);
        const auto it = by_rel.find(rel);
        const catalog::StoredRun* old = it == by_rel.end() ? nullptr : it->second;
        if (old != nullptr && old->status != "running") {
            const std::int64_t mtime = loc.legacy ? mtime_ns_of(loc.dir) : 0;
            if (stat_stamps(loc.dir).signature() + legacy_suffix(loc, mtime) +
                    events_suffix(loc.dir) ==
                old->signature) {
                seen.insert(std::move(rel));
                continue;  // unchanged files: nothing to read
            }
        }
        to_read.push_back(loc);
    }
    // Runs that vanished since discovery are missing from `upserts`, so dropped below.
    RUNICORN_ASSIGN_OR_RETURN(auto upserts, read_entries(to_read, nullptr));
    std::size_t changed = 0;
    for (const auto& e : upserts) {
        const auto it = by_rel.find(e.rel_dir);
        const catalog::StoredRun* old = it == by_rel.end() ? nullptr : it->second;
        if (old == nullptr || old->signature != e.signature || old->status != e.info.status) {
            ++changed;  // a running run read again only to re-check liveness does not count
        }
        seen.insert(e.rel_dir);
    }
    std::vector<std::string> removed;
    for (const auto& s : stored) {
        if (seen.count(s.rel_dir) == 0) {
            removed.push_back(s.rel_dir);
        }
    }
    changed += removed.size();
    std::vector<plugin::RunChange> changes;
    {
        std::lock_guard lock(catalog_mu_);
        RUNICORN_ASSIGN_OR_RETURN(auto* cat, catalog_locked());
        if (scope.empty() && stored.empty()) {
            // The first build: a bulk load (indexes built once at the end) is much faster.
            RUNICORN_RETURN_IF_ERROR(cat->replace_all(upserts));
            return changed;  // a full build reports nothing (subscribe_changes())
        }
        if (has_listeners()) {
            changes = removed_changes(*cat, root_, removed);
        }
        RUNICORN_RETURN_IF_ERROR(cat->apply(upserts, removed));
    }
    if (has_listeners()) {
        for (const auto& e : upserts) {
            const auto it = by_rel.find(e.rel_dir);
            const catalog::StoredRun* old = it == by_rel.end() ? nullptr : it->second;
            if (old == nullptr || old->signature != e.signature || old->status != e.info.status) {
                changes.push_back({plugin::RunChange::Kind::kUpserted, e.info});
            }
        }
        notify(changes);
    }
    return changed;
}

std::uint64_t FolderRunStore::subscribe_changes(plugin::RunChangeListener listener) const {
    if (!listener) {
        return 0;
    }
    std::lock_guard lock(listeners_mu_);
    const std::uint64_t id = next_listener_++;
    listeners_.emplace(id, std::move(listener));
    listener_count_ = listeners_.size();
    return id;
}

void FolderRunStore::unsubscribe_changes(std::uint64_t id) const noexcept {
    std::lock_guard lock(listeners_mu_);
    listeners_.erase(id);
    listener_count_ = listeners_.size();
}

void FolderRunStore::notify(const std::vector<plugin::RunChange>& changes) const {
    if (changes.empty()) {
        return;
    }
    std::lock_guard lock(listeners_mu_);
    for (const auto& [id, listener] : listeners_) {
        try {
            listener(changes);
        } catch (const std::exception& e) {
            if (log_ != nullptr) {
                log_->warn("a run-change listener failed: {}", e.what());
            }
        }
    }
}

Result<std::size_t> FolderRunStore::refresh_locked() const {
    RUNICORN_ASSIGN_OR_RETURN(auto found, storage::discover_run_folders(root_, log_.get()));
    RUNICORN_ASSIGN_OR_RETURN(std::size_t changed, sync(found, ""));
    {
        std::lock_guard lock(catalog_mu_);
        RUNICORN_ASSIGN_OR_RETURN(auto* cat, catalog_locked());
        RUNICORN_RETURN_IF_ERROR(
            cat->set_meta_value("last_full_scan", std::to_string(std::time(nullptr))));
    }
    built_ = true;
    return changed;
}

Result<std::size_t> FolderRunStore::refresh() const {
    std::lock_guard lock(refresh_mu_);
    return refresh_locked();
}

Result<std::size_t> FolderRunStore::refresh_dirs(const std::vector<fs::path>& dirs) const {
    std::lock_guard lock(refresh_mu_);
    if (!built_) {
        return refresh_locked();
    }
    std::vector<SubtreeRuns> scoped;
    for (const auto& dir : dirs) {
        auto sub = discover_runs_under(root_, dir, log_.get());
        if (!sub) {
            return refresh_locked();
        }
        scoped.push_back(std::move(*sub));
    }
    // A scope inside another one is covered by it.
    std::sort(scoped.begin(), scoped.end(),
              [](const SubtreeRuns& a, const SubtreeRuns& b) { return a.scope < b.scope; });
    std::size_t changed = 0;
    std::string covering;
    for (const auto& sub : scoped) {
        if (!covering.empty() && (sub.scope == covering || sub.scope.starts_with(covering + "/"))) {
            continue;
        }
        covering = sub.scope;
        RUNICORN_ASSIGN_OR_RETURN(std::size_t n, sync(sub.runs, sub.scope));
        changed += n;
    }
    return changed;
}

Result<std::size_t> FolderRunStore::reindex(plugin::ReindexProgress* progress) const {
    std::lock_guard lock(refresh_mu_);
    RUNICORN_ASSIGN_OR_RETURN(auto found, storage::discover_run_folders(root_, log_.get()));
    RUNICORN_ASSIGN_OR_RETURN(auto entries, read_entries(found, progress));
    {
        std::lock_guard cat_lock(catalog_mu_);
        RUNICORN_ASSIGN_OR_RETURN(auto* cat, catalog_locked());
        RUNICORN_RETURN_IF_ERROR(cat->replace_all(entries));
        RUNICORN_RETURN_IF_ERROR(
            cat->set_meta_value("last_full_scan", std::to_string(std::time(nullptr))));
    }
    built_ = true;
    return entries.size();
}

Status FolderRunStore::ensure_built() const {
    if (built_) {
        return Status::ok();
    }
    std::lock_guard lock(refresh_mu_);
    if (built_) {
        return Status::ok();
    }
    return status_of(refresh_locked());
}

Result<plugin::RunPage> FolderRunStore::list_runs(const plugin::RunQuery& query) const {
    RUNICORN_RETURN_IF_ERROR(ensure_built());
    std::lock_guard lock(catalog_mu_);
    RUNICORN_ASSIGN_OR_RETURN(auto* cat, catalog_locked());
    return cat->query(query);
}

Result<plugin::AssetPage> FolderRunStore::list_assets(const plugin::AssetQuery& query) const {
    RUNICORN_RETURN_IF_ERROR(ensure_built());
    std::lock_guard lock(catalog_mu_);
    RUNICORN_ASSIGN_OR_RETURN(auto* cat, catalog_locked());
    return cat->assets(query);
}

Result<std::vector<plugin::PathStats>> FolderRunStore::path_stats() const {
    RUNICORN_RETURN_IF_ERROR(ensure_built());
    std::lock_guard lock(catalog_mu_);
    RUNICORN_ASSIGN_OR_RETURN(auto* cat, catalog_locked());
    return cat->path_stats();
}

Status FolderRunStore::recatalog(const fs::path& run_dir) const {
    return status_of(refresh_dirs({run_dir}));
}

Result<std::optional<RunInfo>> FolderRunStore::lookup(std::string_view run_id, Want want) const {
    RUNICORN_RETURN_IF_ERROR(ensure_built());
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::vector<RunInfo> rows;
        {
            std::lock_guard lock(catalog_mu_);
            RUNICORN_ASSIGN_OR_RETURN(auto* cat, catalog_locked());
            RUNICORN_ASSIGN_OR_RETURN(rows, cat->find_all(run_id));
        }
        bool stale = false;
        for (const auto& row : rows) {
            if (row.location.deleted != (want == Want::kDeleted)) {
                continue;
            }
            // The catalog may lag behind the folders: believe the files.
            auto info = read_for_catalog(row.location, nullptr);
            if (info && info->location.deleted == row.location.deleted) {
                return std::optional<RunInfo>(std::move(*info));
            }
            if (!info && info.error().code() != StatusCode::kNotFound) {
                return info.error();
            }
            stale = true;
            RUNICORN_RETURN_IF_ERROR(recatalog(row.location.dir));
        }
        if (!stale) {
            break;
        }
    }
    return std::optional<RunInfo>();
}

Status FolderRunStore::not_found_or(std::string_view run_id, Want other, Status if_other) const {
    RUNICORN_ASSIGN_OR_RETURN(auto found, lookup(run_id, other));
    return found ? std::move(if_other) : not_found(run_id);
}

Result<RunInfo> FolderRunStore::find_run(std::string_view run_id, bool include_deleted) const {
    RUNICORN_ASSIGN_OR_RETURN(auto live, lookup(run_id, Want::kLive));
    if (live && include_deleted) {
        // "First in discovery order" among live and deleted runs alike.
        RUNICORN_ASSIGN_OR_RETURN(auto gone, lookup(run_id, Want::kDeleted));
        if (gone) {
            const auto key = [this](const RunInfo& r) {
                const std::string rel = rel_dir_of(r.location.dir);
                return catalog::discovery_key(r.location, rel,
                                              r.location.legacy ? mtime_ns_of(r.location.dir) : 0);
            };
            return key(*gone) < key(*live) ? std::move(*gone) : std::move(*live);
        }
    }
    if (live) {
        return std::move(*live);
    }
    if (include_deleted) {
        RUNICORN_ASSIGN_OR_RETURN(auto gone, lookup(run_id, Want::kDeleted));
        if (gone) {
            return std::move(*gone);
        }
    }
    return not_found(run_id);
}

// --- Run management -----------------------------------------------------------------------

Result<RunInfo> FolderRunStore::update_run(std::string_view run_id,
                                           const plugin::RunUpdate& update) const {
    std::optional<json::value> alias;
    if (update.alias) {
        const std::string a = update.alias->has_value() ? trim(**update.alias) : std::string();
        alias = a.empty() ? json::value(nullptr) : json::value(a);
    }
    std::optional<json::array> tags;
    if (update.tags) {
        tags.emplace();
        for (const auto& t : *update.tags) {
            std::string v = trim(t);
            if (v.empty()) {
                continue;
            }
            if (v.size() > kMaxTagLength) {
                return Status::invalid_argument("tag '" + v.substr(0, 32) +
                                                "...' is longer than 128 characters");
            }
            tags->emplace_back(v);
        }
        if (tags->size() > kMaxTags) {
            return Status::invalid_argument("too many tags: " + std::to_string(tags->size()) +
                                            " (at most 100)");
        }
    }
    RUNICORN_ASSIGN_OR_RETURN(auto found, lookup(run_id, Want::kLive));
    if (!found) {
        return not_found(run_id);
    }
    const fs::path dir = found->location.dir;
    RUNICORN_RETURN_IF_ERROR(update_json_file(
        dir / "meta.json",
        [&](json::object& meta) {
            if (alias) {
                meta["alias"] = *alias;
            }
            if (tags) {
                meta["tags"] = *tags;
            }
            return alias.has_value() || tags.has_value();
        },
        log_.get()));
    if (alias && options_.write_v06_index) {
        // FORMAT.md §6: PATCH alias → runs.alias. Best effort: meta.json is the truth.
        const Status s = V06Index::set_alias(
            root_, found->location.run_id,
            alias->is_string() ? std::optional<std::string>(std::string(alias->get_string()))
                               : std::nullopt);
        if (!s.is_ok() && log_) {
            log_->warn("{}", s.message());
        }
    }
    RUNICORN_ASSIGN_OR_RETURN(auto entry, make_entry(found->location));
    {
        std::lock_guard lock(catalog_mu_);
        RUNICORN_ASSIGN_OR_RETURN(auto* cat, catalog_locked());
        RUNICORN_RETURN_IF_ERROR(cat->apply({entry}, {}));
    }
    if (has_listeners()) {
        notify({{plugin::RunChange::Kind::kUpserted, entry.info}});
    }
    return std::move(entry.info);
}

Status FolderRunStore::soft_delete(std::string_view run_id, std::string_view reason) const {
    RUNICORN_ASSIGN_OR_RETURN(auto found, lookup(run_id, Want::kLive));
    if (!found) {
        return not_found_or(
            run_id, Want::kDeleted,
            Status::failed_precondition("run '" + std::string(run_id) + "' is already deleted"));
    }
    const fs::path dir = found->location.dir;
    std::string original = "unknown";
    if (const auto status = load_json_object(dir / "status.json", log_.get())) {
        original = json_string(*status, "status").value_or("unknown");
    }
    const json::object marker{{"deleted_at", wall_now()},
                              {"reason", reason.empty() ? "user_deleted" : std::string(reason)},
                              {"original_status", original}};
    RUNICORN_RETURN_IF_ERROR(write_json_file(dir / ".deleted", marker));
    return recatalog(dir);
}

Status FolderRunStore::restore(std::string_view run_id) const {
    RUNICORN_ASSIGN_OR_RETURN(auto found, lookup(run_id, Want::kDeleted));
    if (!found) {
        return not_found_or(
            run_id, Want::kLive,
            Status::failed_precondition("run '" + std::string(run_id) + "' is not deleted"));
    }
    const fs::path dir = found->location.dir;
    if (::unlink((dir / ".deleted").c_str()) != 0 && errno != ENOENT) {
        return io_error(errno, "removing", dir / ".deleted");
    }
    RUNICORN_RETURN_IF_ERROR(fsync_directory(dir));
    return recatalog(dir);
}

Status FolderRunStore::purge(std::string_view run_id) const {
    RUNICORN_ASSIGN_OR_RETURN(auto found, lookup(run_id, Want::kDeleted));
    if (!found) {
        return not_found_or(
            run_id, Want::kLive,
            Status::failed_precondition("run '" + std::string(run_id) +
                                        "' is not deleted; only soft-deleted runs can be purged"));
    }
    const fs::path dir = found->location.dir;
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec) {
        return io_error(ec.value(), "removing", dir);
    }
    (void)fsync_directory(dir.parent_path());  // best effort: the folder is gone either way
    const std::string rel = rel_dir_of(dir);
    std::vector<RunInfo> same_id;
    {
        std::lock_guard lock(catalog_mu_);
        RUNICORN_ASSIGN_OR_RETURN(auto* cat, catalog_locked());
        RUNICORN_RETURN_IF_ERROR(cat->remove(rel));
        RUNICORN_ASSIGN_OR_RETURN(same_id, cat->find_all(run_id));
    }
    if (has_listeners()) {
        notify({{plugin::RunChange::Kind::kRemoved, *found}});
    }
    // Rolling outputs and the v0.6 index row are per run id (FORMAT.md §5.3, §6): keep them
    // while another run has this id.
    if (same_id.empty() && options_.write_v06_index) {
        const Status s = V06Index::delete_run(root_, run_id);
        if (!s.is_ok() && log_) {
            log_->warn("{}", s.message());
        }
    }
    if (same_id.empty()) {
        const fs::path rolling = root_ / "archive" / "outputs" / "rolling" / safe_name(run_id);
        fs::remove_all(rolling, ec);
        if (ec) {
            return io_error(ec.value(), "removing", rolling);
        }
    }
    return Status::ok();
}

// --- fsck ---------------------------------------------------------------------------------

Result<FsckReport> FolderRunStore::fsck(bool repair) const {
    RUNICORN_ASSIGN_OR_RETURN(auto runs, storage::discover_runs(root_, true, log_.get()));
    FsckReport report;
    report.runs_checked = runs.size();
    const double now = wall_now();
    const auto old_enough = [now](const fs::path& p) {
        const std::int64_t mt = mtime_ns_of(p);
        return mt != 0 && now - static_cast<double>(mt) / 1e9 > kLeftoverAge;
    };
    for (const auto& run : runs) {
        const fs::path& dir = run.dir;
        const std::string rel = rel_dir_of(dir);
        const auto add = [&](std::string file, std::string problem, bool repaired) {
            report.problems.push_back({rel, std::move(file), std::move(problem), repaired});
        };
        // JSON files: each present one must hold an object. meta.json, status.json and .deleted
        // mark the folder as a run (or as deleted), so they are only reported (FORMAT.md §7.7).
        for (const char* name :
             {"meta.json", "status.json", "summary.json", "assets.json", ".deleted",
              "environment.json", "artifacts.json", ".outputs_state.json"}) {
            const fs::path file = dir / name;
            const std::string_view n = name;
            const bool protected_file = n == "meta.json" || n == "status.json" || n == ".deleted";
            auto read = read_json_object(file);
            if (!read) {
                add(name, read.error().message(), false);
                continue;
            }
            if (!read->exists) {
                if (n == "meta.json" || n == "assets.json") {
                    bool fixed = false;
                    if (repair && n == "assets.json") {
                        RUNICORN_ASSIGN_OR_RETURN(auto lock,
                                                  FileLock::acquire(lock_path_for(file)));
                        std::error_code ec;
                        fixed = fs::exists(file, ec) ||
                                write_json_file(file, json::object{{"code", json::object()},
                                                                   {"config", json::object()},
                                                                   {"datasets", json::array()},
                                                                   {"pretrained", json::array()},
                                                                   {"outputs", json::array()}})
                                    .is_ok();
                    }
                    add(name, "missing", fixed);
                }
                continue;
            }
            if (read->problem.empty()) {
                continue;
            }
            if (!repair || protected_file) {
                add(name, read->problem, false);
                continue;
            }
            // Moved aside under the file's lock, so no merge is in flight.
            RUNICORN_ASSIGN_OR_RETURN(auto lock, FileLock::acquire(lock_path_for(file)));
            std::string aside = std::string(name) + ".corrupt-" + utc_stamp();
            for (int i = 1; fs::exists(dir / aside); ++i) {
                aside = std::string(name) + ".corrupt-" + utc_stamp() + "-" + std::to_string(i);
            }
            const bool moved = ::rename(file.c_str(), (dir / aside).c_str()) == 0;
            add(name, read->problem + (moved ? "; moved aside to " + aside : ""), moved);
            if (moved && n == "assets.json") {
                const bool made = write_json_file(file, json::object{{"code", json::object()},
                                                                     {"config", json::object()},
                                                                     {"datasets", json::array()},
                                                                     {"pretrained", json::array()},
                                                                     {"outputs", json::array()}})
                                      .is_ok();
                add(name, "missing", made);
            }
        }
        std::error_code ec;
        if (!fs::is_directory(dir / "media", ec)) {
            bool fixed = false;
            if (repair) {
                fixed = fs::create_directory(dir / "media", ec) && !ec;
            }
            add("media/", "missing directory", fixed);
        }
        // Append files: at most a torn tail, which a repair ends with "\n" (C4).
        for (const char* name : {"events.jsonl", "logs.txt"}) {
            const fs::path file = dir / name;
            if (!fs::exists(file, ec)) {
                continue;
            }
            auto torn = torn_tail_bytes(file);
            if (!torn) {
                add(name, torn.error().message(), false);
                continue;
            }
            if (*torn == 0) {
                continue;
            }
            bool fixed = false;
            if (repair) {
                AppendFile append(file);
                fixed = append.open_existing().is_ok();
            }
            add(name, "torn last line (" + std::to_string(*torn) + " bytes after the last newline)",
                fixed);
        }
        // Temp leftovers of atomic writes (C8), in the folder and in media/.
        for (const fs::path& where : {dir, dir / "media"}) {
            fs::directory_iterator it(where, ec);
            for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
                const std::string name = it->path().filename().string();
                if (name.size() < 5 || name[0] != '.' || !name.ends_with(".tmp") ||
                    !old_enough(it->path())) {
                    continue;
                }
                std::error_code rm_ec;
                const bool fixed = repair && fs::remove(it->path(), rm_ec) && !rm_ec;
                add(where == dir ? name : "media/" + name, "leftover temp file older than 24 h",
                    fixed);
            }
            ec.clear();
        }
    }
    // Staging leftovers (C8).
    std::error_code ec;
    for (fs::directory_iterator area(root_ / "index" / "staging", ec);
         !ec && area != fs::directory_iterator(); area.increment(ec)) {
        std::error_code inner;
        for (fs::directory_iterator it(area->path(), inner);
             !inner && it != fs::directory_iterator(); it.increment(inner)) {
            if (!old_enough(it->path())) {
                continue;
            }
            std::error_code rm_ec;
            const bool fixed = repair && fs::remove_all(it->path(), rm_ec) > 0 && !rm_ec;
            report.problems.push_back({rel_dir_of(area->path()), it->path().filename().string(),
                                       "leftover temp file older than 24 h", fixed});
        }
    }
    // The catalog.
    std::string integrity;
    fs::path cat_file;
    {
        std::lock_guard lock(catalog_mu_);
        auto cat = catalog_locked();
        if (cat) {
            cat_file = catalog_path_;
            auto check = (*cat)->integrity_check();
            integrity = check ? *check : check.error().message();
        } else {
            integrity = cat.error().message();
        }
    }
    if (integrity != "ok") {
        bool fixed = false;
        if (repair) {
            fixed = reindex(nullptr).has_value();
        }
        const std::string rel = rel_dir_of(cat_file);
        const bool inside = !rel.empty() && !rel.starts_with("..");
        report.problems.push_back({inside ? rel_dir_of(cat_file.parent_path()) : std::string(),
                                   inside ? cat_file.filename().string() : cat_file.string(),
                                   "integrity check failed: " + integrity, fixed});
    } else if (repair && !report.problems.empty()) {
        (void)refresh();  // show the repaired files in the catalog at once (best effort)
    }
    return report;
}

}  // namespace runicorn::storage
