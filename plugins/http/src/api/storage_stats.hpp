#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <boost/json/object.hpp>

#include <runicorn/plugin/run_store.hpp>

namespace runicorn::http_plugin::api {

/// Bytes and count of the regular files under a directory.
struct TreeTally {
    std::uint64_t bytes = 0;
    std::uint64_t files = 0;
};

/// Sums the regular files under `dir` (symlinks not followed, unreadable parts skipped; a
/// missing directory gives zeros).
TreeTally tally_tree(const std::filesystem::path& dir);

/// `size_human` of API.md §2.1: "%.2f <unit>" with 1024-based units B KB MB GB TB PB.
std::string size_human(std::uint64_t bytes);

/// Computes the body of GET /api/storage/stats (API.md §2.1) by walking `root`: archive/blobs
/// (each inode counted once), archive/manifests (by first-level category), archive/outputs, the
/// run folders of both layouts (runs/ and legacy <project>/<name>/runs/), index/ and artifacts/;
/// the run counts come from the store (non-deleted runs; experiments = distinct run paths,
/// projects = distinct first segments; root-path runs count in neither) plus `deleted_count`.
/// `total` is archive + runs + index + artifacts. Unreadable entries are skipped. Fails when
/// the store cannot list its runs.
Result<boost::json::object> compute_storage_stats(const plugin::RunStore& store,
                                                  const std::filesystem::path& root);

/// Keeps the storage statistics fresh in a background thread: the first get() starts the thread
/// and waits for its first computation; afterwards get() answers at once with figures at most
/// `refresh` plus one computation old (30 s by default, within the 60 s API.md §2.1 allows).
/// The destructor stops and joins the thread.
///
/// Thread safety: safe for concurrent use.
class StorageStatsCache {
public:
    StorageStatsCache(std::shared_ptr<plugin::RunStore> store, std::filesystem::path root,
                      std::chrono::milliseconds refresh = std::chrono::seconds(30));
    ~StorageStatsCache();
    StorageStatsCache(const StorageStatsCache&) = delete;
    StorageStatsCache& operator=(const StorageStatsCache&) = delete;
    StorageStatsCache(StorageStatsCache&&) = delete;
    StorageStatsCache& operator=(StorageStatsCache&&) = delete;

    /// The latest figures (with "computed_at"), or the error of the latest computation.
    Result<boost::json::object> get();

private:
    void run();

    std::shared_ptr<plugin::RunStore> store_;
    std::filesystem::path root_;
    std::chrono::milliseconds refresh_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::optional<Result<boost::json::object>> latest_;
    bool stop_ = false;
    std::thread worker_;
};

}  // namespace runicorn::http_plugin::api
