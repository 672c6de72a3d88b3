#include "storage_stats.hpp"

#include <array>
#include <cstdio>
#include <set>
#include <system_error>
#include <utility>

#include "run_json.hpp"
#include <sys/stat.h>

namespace runicorn::http_plugin::api {
namespace {

namespace fs = std::filesystem;

struct Tally {
    std::uint64_t bytes = 0;
    std::uint64_t files = 0;
};

/// Files already counted, by (device, inode), so hard links count once.
using InodeSet = std::set<std::pair<dev_t, ino_t>>;

/// Sums the regular files under `dir` (symlinks not followed, unreadable parts skipped).
Tally walk(const fs::path& dir, InodeSet* seen) {
    Tally t;
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    for (const fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        if (seen != nullptr && !seen->emplace(st.st_dev, st.st_ino).second) {
            continue;
        }
        t.bytes += static_cast<std::uint64_t>(st.st_size);
        ++t.files;
    }
    return t;
}

boost::json::object sized(std::uint64_t bytes) {
    boost::json::object o;
    o["size_bytes"] = bytes;
    o["size_human"] = size_human(bytes);
    return o;
}

boost::json::object sized_with_count(const Tally& t) {
    boost::json::object o = sized(t.bytes);
    o["file_count"] = t.files;
    return o;
}

bool is_version_dir(const std::string& name) {
    if (name.size() < 2 || name[0] != 'v') {
        return false;
    }
    for (std::size_t i = 1; i < name.size(); ++i) {
        if (name[i] < '0' || name[i] > '9') {
            return false;
        }
    }
    return true;
}

}  // namespace

TreeTally tally_tree(const fs::path& dir) {
    const Tally t = walk(dir, nullptr);
    return TreeTally{t.bytes, t.files};
}

std::string size_human(std::uint64_t bytes) {
    static constexpr std::array<const char*, 6> kUnits{"B", "KB", "MB", "GB", "TB", "PB"};
    auto size = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (size >= 1024.0 && unit + 1 < kUnits.size()) {
        size /= 1024.0;
        ++unit;
    }
    std::array<char, 64> buf{};
    std::snprintf(buf.data(), buf.size(), "%.2f %s", size, kUnits[unit]);
    return std::string(buf.data());
}

Result<boost::json::object> compute_storage_stats(const plugin::RunStore& store,
                                                  const fs::path& root) {
    plugin::RunQuery live;
    live.count = false;
    RUNICORN_ASSIGN_OR_RETURN(plugin::RunPage runs, store.list_runs(live));
    plugin::RunQuery deleted;
    deleted.deleted = plugin::DeletedFilter::kOnly;
    deleted.limit = 1;
    RUNICORN_ASSIGN_OR_RETURN(plugin::RunPage deleted_page, store.list_runs(deleted));
    RUNICORN_ASSIGN_OR_RETURN(std::vector<plugin::RunLocation> folders,
                              store.discover_runs(/*include_deleted=*/true));

    // Archive.
    InodeSet blob_inodes;
    const Tally blobs = walk(root / "archive" / "blobs", &blob_inodes);
    Tally manifests;
    boost::json::object by_category;
    std::error_code ec;
    for (fs::directory_iterator it(root / "archive" / "manifests", ec), end; !ec && it != end;
         it.increment(ec)) {
        std::error_code type_ec;
        if (!it->is_directory(type_ec) || it->is_symlink(type_ec)) {
            continue;
        }
        const Tally cat = walk(it->path(), nullptr);
        by_category[it->path().filename().string()] = sized_with_count(cat);
        manifests.bytes += cat.bytes;
        manifests.files += cat.files;
    }
    const Tally outputs = walk(root / "archive" / "outputs", nullptr);
    boost::json::object manifests_json = sized_with_count(manifests);
    manifests_json["by_category"] = std::move(by_category);
    const std::uint64_t archive_bytes = blobs.bytes + manifests.bytes + outputs.bytes;
    boost::json::object archive = sized(archive_bytes);
    archive["blobs"] = sized_with_count(blobs);
    archive["manifests"] = std::move(manifests_json);
    archive["outputs"] = sized_with_count(outputs);

    // Runs: every run folder of both layouts, deleted ones included (they still take space).
    std::uint64_t run_bytes = 0;
    for (const plugin::RunLocation& loc : folders) {
        run_bytes += walk(loc.dir, nullptr).bytes;
    }
    std::set<std::string> experiments;
    std::set<std::string> projects;
    for (const plugin::RunInfo& run : runs.runs) {
        if (!run.location.path || run.location.path->empty()) {
            continue;
        }
        experiments.insert(*run.location.path);
        projects.insert(run.location.path->substr(0, run.location.path->find('/')));
    }
    boost::json::object runs_json = sized(run_bytes);
    runs_json["projects_count"] = projects.size();
    runs_json["experiments_count"] = experiments.size();
    runs_json["runs_count"] = runs.runs.size();
    runs_json["deleted_count"] = deleted_page.total;

    const Tally index = walk(root / "index", nullptr);

    // Artifacts (FORMAT.md §7.6): artifacts/<name>/v<N>/.
    const Tally artifact_files = walk(root / "artifacts", nullptr);
    std::uint64_t artifact_count = 0;
    std::uint64_t version_count = 0;
    for (fs::directory_iterator it(root / "artifacts", ec), end; !ec && it != end;
         it.increment(ec)) {
        std::error_code type_ec;
        if (!it->is_directory(type_ec) || it->is_symlink(type_ec)) {
            continue;
        }
        ++artifact_count;
        std::error_code inner_ec;
        for (fs::directory_iterator v(it->path(), inner_ec), vend; !inner_ec && v != vend;
             v.increment(inner_ec)) {
            std::error_code v_ec;
            if (v->is_directory(v_ec) && is_version_dir(v->path().filename().string())) {
                ++version_count;
            }
        }
    }
    boost::json::object artifacts = sized(artifact_files.bytes);
    artifacts["artifact_count"] = artifact_count;
    artifacts["version_count"] = version_count;

    boost::json::object body;
    body["storage_root"] = root.string();
    body["total"] = sized(archive_bytes + run_bytes + index.bytes + artifact_files.bytes);
    body["archive"] = std::move(archive);
    body["runs"] = std::move(runs_json);
    body["index"] = sized(index.bytes);
    body["artifacts"] = std::move(artifacts);
    body["computed_at"] = unix_now();
    return body;
}

StorageStatsCache::StorageStatsCache(std::shared_ptr<plugin::RunStore> store, fs::path root,
                                     std::chrono::milliseconds refresh)
    : store_(std::move(store)), root_(std::move(root)), refresh_(refresh) {}

StorageStatsCache::~StorageStatsCache() {
    {
        const std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) {
        worker_.join();
    }
}

Result<boost::json::object> StorageStatsCache::get() {
    std::unique_lock lock(mu_);
    if (!worker_.joinable() && !stop_) {
        // Started on first use: a plugin's init() must not start threads (STYLE.md rule 26).
        worker_ = std::thread([this] { run(); });
    }
    cv_.wait(lock, [this] { return latest_.has_value() || stop_; });
    if (!latest_) {
        return Status::unavailable("the viewer is stopping");
    }
    return *latest_;
}

void StorageStatsCache::run() {
    std::unique_lock lock(mu_);
    while (!stop_) {
        lock.unlock();
        Result<boost::json::object> result = Status::internal("storage statistics not computed");
        try {
            result = compute_storage_stats(*store_, root_);
        } catch (const std::exception& e) {
            result = Status::internal(std::string("computing storage statistics: ") + e.what());
        }
        lock.lock();
        latest_ = std::move(result);
        cv_.notify_all();
        cv_.wait_for(lock, refresh_, [this] { return stop_; });
    }
}

}  // namespace runicorn::http_plugin::api
