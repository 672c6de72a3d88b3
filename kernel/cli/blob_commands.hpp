#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "commands.hpp"
#include <CLI/CLI.hpp>

namespace runicorn::cli {

/// The blob-store and artifact commands (issue 5 items 5-7), served by the dedup plugin's
/// runicorn.blob_store/1 and runicorn.artifact_store/1 (only "dedup" is loaded unless --plugins
/// says otherwise):
///   gc [--dry-run] [--grace SECONDS] [--json]
///   verify [--sample N] [--repair] [--json]      exit 0 clean, 1 problems found, 2 could not run
///   du [--json]
///   artifacts ls | show NAME | versions NAME | alias NAME vN ALIAS | download NAME[:REF] DEST
/// Exit codes otherwise: 0 success; 1 the operation failed (unknown artifact or version, an
/// unwritable destination; a message on stderr says why); 2 bad usage, a malformed name or
/// reference, or no blob store.
///
/// Thread safety: externally synchronized (used by main() only).
class BlobCommands {
public:
    /// Adds the subcommands to `app` (before it parses).
    explicit BlobCommands(CLI::App& app);
    BlobCommands(const BlobCommands&) = delete;
    BlobCommands& operator=(const BlobCommands&) = delete;

    /// After parsing: the exit code of the command that ran, or nullopt when none of these
    /// subcommands was given.
    std::optional<int> run(const GlobalOptions& g) const;

private:
    CLI::App* gc_ = nullptr;
    CLI::App* verify_ = nullptr;
    CLI::App* du_ = nullptr;
    CLI::App* artifacts_ = nullptr;
    CLI::App* ls_ = nullptr;
    CLI::App* show_ = nullptr;
    CLI::App* versions_ = nullptr;
    CLI::App* alias_ = nullptr;
    CLI::App* download_ = nullptr;

    bool json_ = false;
    bool dry_run_ = false;
    std::int64_t grace_seconds_ = 3600;
    std::uint64_t sample_ = 0;
    bool repair_ = false;
    std::string name_;
    std::string version_;
    std::string alias_name_;
    std::string ref_;
    std::string dest_;
    bool no_link_ = false;
    bool overwrite_ = false;
};

}  // namespace runicorn::cli
