#pragma once

// The outputs scanner (SDK.md §4.11, FORMAT.md §4.6 outputs[], §4.7, §5.3): finds files and
// directories matching the patterns under the output directories, waits until they are stable,
// and archives them as per-run rolling copies or into the blob store (CAS modes). The scan itself
// is RunAssets::scan_outputs (defined in outputs_scanner.cpp); these helpers are its pure parts.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace runicorn::sdk {

/// SDK.md §4.11 default patterns.
const std::vector<std::string>& default_output_patterns();

/// True when `rel` ('/'-separated, below an output directory) matches `pattern`: a glob where
/// '*' also matches '/'; "**/x" also matches a top-level "x"; a trailing '/' selects directories
/// only (and other patterns files only).
bool output_pattern_matches(std::string_view pattern, std::string_view rel, bool is_dir);

/// Log-like files (.log .txt .jsonl .csv, or "tfevents" in the name) are copied rolling with a
/// stat fingerprint.
bool is_log_like(std::string_view name);

/// The stat fingerprint text {"mtime": <float>, "size_bytes": <int>} (keys sorted, Python's
/// float spelling).
std::string stat_fingerprint_text(double mtime, std::uint64_t size);

}  // namespace runicorn::sdk
