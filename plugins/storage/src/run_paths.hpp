#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <runicorn/result.hpp>

namespace runicorn::storage {

/// The longest run path normalize_path() accepts (FORMAT.md §3.3 step 8).
inline constexpr std::size_t kMaxRunPathLength = 200;
/// The longest custom run id validate_run_id() accepts (FORMAT.md §3.2).
inline constexpr std::size_t kMaxRunIdLength = 128;

/// Normalises a run path by the eight steps of FORMAT.md §3.3: nullopt → "default"; `\` → `/`;
/// "" or "/" → the root path ""; leading and trailing `/` stripped; runs of `/` collapsed; only
/// ASCII letters, digits, `_`, `-`, `/`; no `..`; at most 200 characters. Returns the normalised
/// path ("" for the root path). On failure INVALID_ARGUMENT "invalid run path '<raw>': <reason>".
Result<std::string> normalize_path(std::optional<std::string_view> raw);

/// Checks a caller-chosen run id (FORMAT.md §3.2): `^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$` and no
/// `..`. On failure INVALID_ARGUMENT "invalid run id '<id>': <reason>".
Status validate_run_id(std::string_view id);

/// True when `id` has the generated form `^[0-9]{8}_[0-9]{6}_[0-9a-f]{6}$` (FORMAT.md §3.1).
bool is_generated_run_id(std::string_view id);

/// A new id `YYYYMMDD_HHMMSS_xxxxxx`: the local wall-clock time of `when`, then 6 hex digits from
/// the kernel CSPRNG. The caller creates the folder with an exclusive mkdir and draws again when
/// the name is taken.
std::string generate_run_id(std::chrono::system_clock::time_point when);

}  // namespace runicorn::storage
