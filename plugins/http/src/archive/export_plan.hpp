#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include <runicorn/result.hpp>

#include "archive_writer.hpp"

namespace runicorn::http_plugin::archive {

/// One run to export.
struct ExportRun {
    std::string run_id;
    std::optional<std::string> path;  ///< nullopt for a root-path run.
    std::filesystem::path dir;        ///< Absolute run folder, inside the root.
};

/// One artifact version to export.
struct ExportArtifact {
    std::string name;
    int version = 0;
};

/// What an export of FORMAT.md §7.8 contains.
struct ExportRequest {
    std::filesystem::path root;  ///< The storage root.
    std::vector<ExportRun> runs;
    std::vector<ExportArtifact> artifacts;
    /// Add the blobs, manifests and rolling outputs the runs and artifacts reference.
    bool include_archive = true;
    std::string created_by;  ///< "runicorn-cpp/<version>".
};

/// One file entry: `name` in the archive, read from `source` with `cut`.
struct ExportEntry {
    std::string name;
    std::filesystem::path source;
    ReadCut cut = ReadCut::kWhole;
};

/// The entries of an archive, in writing order: generated documents first, then files.
struct ExportPlan {
    std::vector<std::pair<std::string, std::string>> documents;  ///< (name, content)
    std::vector<ExportEntry> files;
};

/// Plans the export archive of FORMAT.md §7.8: RUNICORN-EXPORT.json first, then each run folder
/// at its root-relative place (minus lock and heartbeat files; events.jsonl and logs.txt cut at
/// their last newline), then, with include_archive, the blobs and manifests that the runs'
/// assets.json and the artifact versions reference and the runs' rolling outputs, then the
/// artifact files. Objects that are referenced but absent are left out. Reads the file system
/// only; never opens a SQLite file. Thread-safe.
Result<ExportPlan> plan_export(const ExportRequest& request);

/// Plans the v0.6-compatible path-export zip of API.md §2.4: `index.json` (the given document)
/// followed by the run folders at `runs/<path>/<run_id>/...` (no archive objects).
Result<ExportPlan> plan_path_zip(const std::filesystem::path& root,
                                 const std::vector<ExportRun>& runs, std::string index_json);

/// Writes `plan` as an archive of `format` into `sink` (the body of a streamed response).
/// A source file that vanished since planning is skipped; any other failure is returned (the
/// server then aborts the transfer).
Status write_plan(const ExportPlan& plan, ArchiveFormat format, plugin::BodySink& sink);

/// Maps a recorded archive path (absolute, maybe from another store) to its root-relative form
/// "archive/blobs/...", "archive/manifests/..." or "archive/outputs/rolling/..." by the rebasing
/// rule of FORMAT.md §5.5; nullopt when it names none of them or would leave the root.
std::optional<std::string> archive_relative(std::string_view recorded);

}  // namespace runicorn::http_plugin::archive
