#pragma once

#include <filesystem>
#include <string_view>

#include <spdlog/logger.h>

#include <runicorn/status.hpp>

namespace runicorn::storage {

/// The store marker `<root>/runicorn-store.json` (FORMAT.md §7.1).
inline constexpr std::string_view kStoreMarkerName = "runicorn-store.json";

/// Makes sure the store marker exists and lists the features this writer produces
/// ("heartbeat"), by a locked atomic read-modify-write under `runicorn-store.json.lock`; a marker
/// that already lists them is left untouched, and `features` only ever grows. A damaged marker is
/// replaced (with a warning on `log`, which may be null). `created_by` names the writing product,
/// e.g. "runicorn-cpp/0.1.0". FAILED_PRECONDITION "the store '<root>' requires feature '<f>',
/// which this version does not support; it is read-only here" when `required_features` names a
/// feature we do not know; I/O errors as write_file_atomic().
Status ensure_store_marker(const std::filesystem::path& root, std::string_view created_by,
                           spdlog::logger* log);

}  // namespace runicorn::storage
