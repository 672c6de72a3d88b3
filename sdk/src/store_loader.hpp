#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <runicorn/result.hpp>

#include "run_opener.hpp"

namespace runicorn::sdk {

/// The plugin directories that come with the SDK library (SDK.md §1.6): <libdir>/plugins,
/// <libdir>/runicorn/plugins (installed) and <libdir>/../bin/plugins (build tree), where libdir
/// holds the runicorn_sdk shared library (found with dladdr). Empty for the static library.
std::vector<std::filesystem::path> bundled_plugin_dirs();

/// The run store for a storage root: loads the configuration (FORMAT.md §1.1; `storage` wins when
/// not empty), then only the "storage" and "dedup" plugins from the bundled directories, the
/// config's and RUNICORN_PLUGIN_PATH's. Hosts are cached per resolved root and kept for the process
/// lifetime (RunWriter objects come from the plugin library, which must stay loaded). UNAVAILABLE,
/// naming the directories searched and why plugins were refused, when no plugin provides
/// runicorn.run_store/1; the config's INVALID_ARGUMENT when config.json is broken.
Result<std::shared_ptr<RunOpener>> load_run_store(const std::string& storage);

}  // namespace runicorn::sdk
