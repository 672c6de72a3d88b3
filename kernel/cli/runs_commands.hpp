#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <runicorn/result.hpp>

#include "commands.hpp"

namespace runicorn::cli {

/// `runicorn ls` flags.
struct LsOptions {
    std::optional<std::string> path;
    bool exact = false;
    std::string statuses;           ///< Comma-separated.
    std::vector<std::string> tags;  ///< Repeatable --tag; a run must carry all of them.
    std::string text;
    std::string filter;                ///< -q/--filter: an expression of API.md §4.2.
    std::optional<std::string> since;  ///< ISO date / date-time or epoch seconds.
    std::optional<std::string> until;
    bool deleted = false;  ///< Only soft-deleted runs (the recycle bin).
    std::string sort = "discovery";
    bool asc = false;
    bool desc = false;
    std::size_t limit = 0;
    std::string cursor;
    bool json = false;
};

/// The run commands load only the storage plugin (unless --plugins says otherwise) and talk to
/// its RunStore. Exit codes: 0 success; 1 the operation failed (a message on stderr says why);
/// 2 bad usage or no run store. `fsck`: 0 clean, 1 problems found, 2 could not run.
int run_ls(const GlobalOptions& g, const LsOptions& o);
int run_show(const GlobalOptions& g, const std::string& run_id, bool as_json);
int run_reindex(const GlobalOptions& g);
int run_fsck(const GlobalOptions& g, bool repair);
int run_delete(const GlobalOptions& g, const std::vector<std::string>& run_ids, bool permanent);
int run_restore(const GlobalOptions& g, const std::vector<std::string>& run_ids);

/// Parses a --since/--until value: epoch seconds ("1736935200", "1736935200.5"), an ISO date
/// ("2025-01-15", local midnight) or date-time ("2025-01-15T10:00", "2025-01-15 10:00:00.25",
/// local time unless it ends in "Z" or an offset such as "+02:00"). INVALID_ARGUMENT otherwise.
Result<double> parse_time_arg(const std::string& text);

}  // namespace runicorn::cli
