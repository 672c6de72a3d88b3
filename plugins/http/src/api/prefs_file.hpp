#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

namespace runicorn::http_plugin::api {

/// Reads a JSON object file of the config directory. A missing file gives {}; a damaged one
/// (or one that is not an object) gives DATA_LOSS naming the file, so a caller that rewrites it
/// never wipes what it could not read.
Result<boost::json::object> read_object_file(const std::filesystem::path& file);

/// Read-modify-write of a JSON object file (FORMAT.md §1.3 policy): takes an exclusive flock on
/// `<file>.lock`, reads the object (missing = {}), applies `change`, and writes it back with
/// 2-space indentation through a 0600 temp file, fsync and rename, keeping unknown keys and their
/// order. The directory is created (0700) when missing. Fails with the first I/O error, naming
/// the file; the old file is then untouched.
Status update_object_file(const std::filesystem::path& file,
                          const std::function<void(boost::json::object&)>& change);

/// Expands `%VAR%`, `$VAR`, `${VAR}` and a leading `~` (POST /api/config/user_root_dir).
/// Unknown variables are left as written.
std::string expand_user_path(std::string_view text);

}  // namespace runicorn::http_plugin::api
