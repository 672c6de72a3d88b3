#pragma once

// The asset side of a run (SDK.md §2.4, §1.10; FORMAT.md §4.6, §4.9, §5): archive copies of
// datasets and pretrained weights, code snapshots and the outputs scanner's entries, stored
// through the dedup plugin's BlobStore and recorded in assets.json through the run's writer.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <runicorn/plugin/blob_store.hpp>
#include <runicorn/runicorn.hpp>

#include "run_core.hpp"
#include "warnings.hpp"

namespace runicorn::sdk {

/// How long a set-up call waits for assets.json to be written.
inline constexpr std::chrono::milliseconds kPublishTimeout{30000};

/// The asset state of one run: its view of assets.json (loaded once from the file, then kept in
/// memory: this session is the file's only writer of datasets, pretrained, code and outputs),
/// the blob store, and the outputs watcher. Made on first use through RunCore::extension and
/// stopped by the run's finish hook.
///
/// Thread safety: safe for concurrent use. Archive work runs in the calling thread; scans of one
/// run are serialised.
class RunAssets {
public:
    /// The state of `run`, made on first use; nullptr for a no-op run.
    static std::shared_ptr<RunAssets> of(const Run& run);

    RunAssets(const std::shared_ptr<RunCore>& core, std::shared_ptr<plugin::BlobStore> blobs);
    ~RunAssets();
    RunAssets(const RunAssets&) = delete;
    RunAssets& operator=(const RunAssets&) = delete;
    RunAssets(RunAssets&&) = delete;
    RunAssets& operator=(RunAssets&&) = delete;

    /// Run::log_dataset. `uri_object`: a JSON object stored verbatim as "uri" (Python dicts);
    /// then root_or_uri is ignored and nothing is archived.
    Status log_dataset(std::string_view name, std::string_view root_or_uri,
                       const DatasetOptions& options, const Json* uri_object = nullptr);
    Status log_pretrained(std::string_view name, const PretrainedOptions& options);
    Result<Json> snapshot_code(const SnapshotOptions& options);
    /// One scan; `stop` (may be null) ends it early between items.
    Result<ScanResult> scan_outputs(const OutputsOptions& options, const std::atomic<bool>* stop);
    Status watch_outputs(const OutputsOptions& options, std::chrono::milliseconds interval);
    /// Stops the watcher; waits at most `wait` for its thread (then leaves it to end by itself).
    void stop_outputs_watch(std::chrono::milliseconds wait);

    // ---- For the outputs scanner ----
    /// The blob store, or nullptr without the dedup plugin.
    const std::shared_ptr<plugin::BlobStore>& blobs() const noexcept { return blobs_; }
    const RunIdentity& identity() const noexcept { return identity_; }
    /// Changes the section `key` ("datasets", "outputs", ...) of the in-memory assets.json under
    /// the lock and publishes it (waits until written). `change` returns false to publish nothing.
    Status update_section(std::string_view key,
                          const std::function<bool(boost::json::value&)>& change);
    /// A rate-limited warning of this run (SDK.md §1.7).
    void warn(StatusCode code, std::string_view kind, const std::string& message) noexcept;
    /// Warns once per run that the dedup plugin is missing; `what` names the lost copy.
    void warn_no_store(std::string_view what) noexcept;
    /// Serialises scans of this run.
    std::mutex& scan_mutex() noexcept { return scan_mu_; }

private:
    struct Watcher;

    /// Archives `local` (file → blob, directory → manifest in `category`) and fills the archive
    /// fields of `entry` in v0.6's order. `fp_first`: "fingerprint" before "fingerprint_kind"
    /// (datasets) or after (pretrained).
    Status archive_into(const std::filesystem::path& local, std::string_view category,
                        bool fp_first, boost::json::object& entry);
    void ensure_loaded();  // mu_ held

    std::weak_ptr<RunCore> core_;
    const RunIdentity identity_;
    const WarningHandler on_warning_;
    const std::shared_ptr<plugin::BlobStore> blobs_;
    WarningGate gate_;
    std::atomic<bool> warned_no_store_{false};

    std::mutex mu_;  // guards doc_ and loaded_; held while publishing so sections stay in order
    bool loaded_ = false;
    boost::json::object doc_;

    std::mutex scan_mu_;

    std::mutex watch_mu_;  // guards watcher_
    std::shared_ptr<Watcher> watcher_;
};

}  // namespace runicorn::sdk
