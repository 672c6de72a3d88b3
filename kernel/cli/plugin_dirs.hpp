#pragma once

#include <filesystem>
#include <vector>

namespace runicorn::cli {

/// The plugin directories that come with the executable: bin/plugins (the build tree) and
/// lib/runicorn/plugins (an install), found from /proc/self/exe.
std::vector<std::filesystem::path> bundled_plugin_dirs();

/// Prepends bundled_plugin_dirs() to RUNICORN_PLUGIN_PATH, where the SDK linked into this
/// executable looks for the storage plugin. Call before any thread starts.
void set_sdk_plugin_path();

}  // namespace runicorn::cli
