#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <runicorn/plugin/blob_store.hpp>
#include <runicorn/result.hpp>

namespace runicorn::dedup {

/// One reference to a blob.
struct BlobRef {
    /// Who holds it: "run <rel_dir>", "artifact <name>:v<N>", "index runicorn.db",
    /// "staging <rel>", "manifest <rel> (young)".
    std::string referrer;
    /// The size the referrer records, or -1.
    std::int64_t size = -1;
    /// False for references that keep a blob alive but that verify does not check (FORMAT.md
    /// §7.7: an R5 fingerprint alone, R4 staging, R6 young manifests).
    bool verify = true;
};

/// What scan_references() marks.
struct ReferenceScanOptions {
    /// R4: staging work younger than `grace`.
    bool staging = false;
    /// R6: manifests under archive/manifests younger than `grace`.
    bool young_manifests = false;
    /// R5: index/runicorn.db rows.
    bool index_db = true;
    std::chrono::system_clock::time_point now{};
    std::chrono::seconds grace{3600};
};

/// The referrers of the blob store, read from files (never from a catalog).
struct ReferenceScan {
    /// Blob name -> its references.
    std::map<std::string, std::vector<BlobRef>> blobs;
    /// Manifest files (relative to the root, '/'-separated) that an R1 or R5 entry names.
    std::set<std::string> manifests_named;
    /// Bad references and manifests, for verify (kinds "bad_reference", "bad_manifest").
    std::vector<plugin::BlobProblem> problems;
    /// Referrer files that exist but cannot be read or parsed: GC must not sweep while any
    /// exists, since the blobs they name are unknown. Each is "'<path>': <reason>".
    std::vector<std::string> unreadable;
    /// Runs seen (soft-deleted included) and artifact versions seen.
    std::uint64_t runs = 0;
    std::uint64_t artifact_versions = 0;
};

/// Every run folder under `root` (FORMAT.md §2.2: the new layout under runs/, where a folder
/// holding meta.json or status.json is a run, and the legacy <project>/<name>/runs/<run>
/// layout), soft-deleted runs included, as paths relative to the root, sorted. Names starting
/// with '.' are skipped; symlinked directories are followed only when they resolve inside the
/// root; depth is capped at 64.
std::vector<std::filesystem::path> discover_runs(const std::filesystem::path& root);

/// Collects the references of FORMAT.md §7.7: R1 (every run's assets.json), R2 (the manifests
/// those name), R3 (every artifacts/<name>/v<N>/manifest.json), and, as `options` asks, R4, R5
/// and R6. Problems are recorded in the result; an error means the scan itself could not run.
Result<ReferenceScan> scan_references(const std::filesystem::path& root,
                                      const ReferenceScanOptions& options);

}  // namespace runicorn::dedup
